"""Per-core cost of the cryptography in a FAPI 2.0 login, beside Keycloak's published sizing.

A token exchange verifies one client assertion (ES256) and one DPoP proof (ES256), then signs an
ID token (ES256) and encrypts it (ECDH-ES+A256KW, A256CBC-HS512). A password login is dominated
by the password hash: Argon2id at the parameters in use, computed by libsodium as the provider
does and by argon2-cffi (the reference C implementation's portable build) side by side. Keycloak
sizes 120
token grants/s and 15 password logins/s per vCPU; the ratios say how much headroom the crypto
leaves against those figures (the rest of a request's cost is I/O and the web layer).

    uv run python benchmarks/identity_crypto.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from joserfc import jwt
from joserfc.jwk import ECKey

from smartnation.identity import passwords
from smartnation.identity.oidc.client_auth import verify_client_assertion
from smartnation.identity.oidc.dpop import verify_dpop_proof
from smartnation.identity.oidc.keys import ProviderKeyring, validate_client_jwks
from smartnation.identity.oidc.replay import InMemoryReplayGuard
from smartnation.identity.oidc.tokens import Person, issue_id_token

KEYCLOAK_TOKEN_GRANTS_PER_VCPU = 120
KEYCLOAK_PASSWORD_LOGINS_PER_VCPU = 15
ISSUER = "https://id.smartnation.example/id"
TOKEN_URL = ISSUER + "/token"
CLIENT_ID = "benchmarkClient0123456789abcdef"

# Argon2id as the provider uses it (identity.passwords): OWASP's m=12 MiB, t=3, p=1, one of the
# settings OWASP lists as equally strong, through libsodium; beside it the same parameters through
# argon2-cffi (the reference implementation, built for any x86-64), then OWASP's m=19 MiB t=2 and
# RFC 9106's 64 MiB / 3-pass profile through argon2-cffi: stronger per guess, but near 0.5 s per
# login per core, too slow for a national login's peaks.
ARGON2_IN_USE = (
    f"t={passwords.TIME_COST} m={passwords.MEMORY_KIB // 1024}MiB p={passwords.PARALLELISM}"
)
ARGON2_PEERS = {
    f"argon2-cffi {ARGON2_IN_USE}": PasswordHasher(
        time_cost=passwords.TIME_COST,
        memory_cost=passwords.MEMORY_KIB,
        parallelism=passwords.PARALLELISM,
    ),
    "argon2-cffi OWASP t=2 m=19MiB p=1": PasswordHasher(
        time_cost=2, memory_cost=19 * 1024, parallelism=1
    ),
    "argon2-cffi RFC 9106 low-memory t=3 m=64MiB p=1": PasswordHasher(
        time_cost=RFC_9106_LOW_MEMORY.time_cost,
        memory_cost=RFC_9106_LOW_MEMORY.memory_cost,
        parallelism=1,
    ),
}


def rate(operation: Callable[[int], object], seconds: float, most: int | None = None) -> float:
    """Operations per second of ``operation(i)`` on this thread, over about ``seconds`` (or
    ``most`` operations, when each needs an input of its own made beforehand)."""
    operation(0)  # warm-up
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds and count + 1 != most:
        operation(count + 1)
        count += 1
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    seconds = parser.parse_args().seconds
    now = datetime.now(UTC)
    t = int(now.timestamp())

    sig = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256", "kid": "s"})
    enc = ECKey.generate_key(
        "P-256", parameters={"use": "enc", "alg": "ECDH-ES+A256KW", "kid": "e"}
    )
    client_keys = validate_client_jwks(
        {"keys": [sig.as_dict(private=False), enc.as_dict(private=False)]}
    )
    dpop_key = ECKey.generate_key("P-256")
    ring = ProviderKeyring.generate(now)
    guard = InMemoryReplayGuard()
    person = Person(sub=str(uuid.uuid4()), identity_number="S9812381D", name="TAN AH KOW")

    # Inputs are made up front so only verification is timed; each needs a fresh jti.
    pool = 20000
    assertions = [
        jwt.encode(
            {"alg": "ES256", "kid": "s"},
            {
                "iss": CLIENT_ID,
                "sub": CLIENT_ID,
                "aud": ISSUER,
                "iat": t,
                "exp": t + 60,
                "jti": secrets.token_urlsafe(12),
            },
            sig,
        )
        for _ in range(pool)
    ]
    proofs = [
        jwt.encode(
            {"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop_key.as_dict(private=False)},
            {"jti": secrets.token_urlsafe(12), "htm": "POST", "htu": TOKEN_URL, "iat": t},
            dpop_key,
            default_type=None,
        )
        for _ in range(pool)
    ]

    def assertion(i: int) -> object:
        return verify_client_assertion(
            assertions[i % pool],
            client_id=CLIENT_ID,
            client_keys=client_keys,
            issuer=ISSUER,
            replay_guard=guard,
            now=now,
        )

    def proof(i: int) -> object:
        return verify_dpop_proof(
            proofs[i % pool], htm="POST", htu=TOKEN_URL, replay_guard=guard, now=now
        )

    def id_token(_i: int) -> object:
        return issue_id_token(
            issuer=ISSUER,
            client_id=CLIENT_ID,
            client_keys=client_keys,
            signing_key=ring.current,
            person=person,
            scopes=("openid", "user.identity", "name"),
            nonce="n" * 43,
            acr="urn:singpass:authentication:loa:2",
            amr=("pwd", "swk"),
            now=now,
        )

    print(f"identity crypto, one core (os.cpu_count()={os.cpu_count()}), {seconds:g} s per figure")
    print()
    rates = {}
    for name, op in (
        ("client assertion verify (ES256)", assertion),
        ("DPoP proof verify (ES256)", proof),
        ("ID token sign ES256 + encrypt ECDH-ES+A256KW/A256CBC-HS512", id_token),
    ):
        # A replayed input would be refused; the pool is larger than any run uses.
        rates[name] = rate(op, seconds, most=pool)
        print(f"  {name:<62} {rates[name]:>9.0f} /s  ({1e3 / rates[name]:.3f} ms)")
    exchange_ms = sum(1e3 / r for r in rates.values())
    exchange_rate = 1e3 / exchange_ms
    print()
    print(
        f"  token exchange crypto, all three                               "
        f"{exchange_rate:>9.0f} /s  ({exchange_ms:.3f} ms)"
    )
    print(
        f"    vs Keycloak {KEYCLOAK_TOKEN_GRANTS_PER_VCPU} token grants/s per vCPU: "
        f"{exchange_rate / KEYCLOAK_TOKEN_GRANTS_PER_VCPU:.1f}x"
    )
    print()
    secret = "correct horse battery staple"
    in_use = rate(lambda _i: passwords.hash_password(secret), seconds)
    label = f"libsodium {ARGON2_IN_USE} (in use)"
    print(f"  Argon2id {label:<53} {in_use:>9.1f} /s  ({1e3 / in_use:.1f} ms)")
    print(
        f"    vs Keycloak {KEYCLOAK_PASSWORD_LOGINS_PER_VCPU} password logins/s per vCPU: "
        f"{in_use / KEYCLOAK_PASSWORD_LOGINS_PER_VCPU:.2f}x"
    )
    for name, hasher in ARGON2_PEERS.items():
        per_second = rate(lambda _i, h=hasher: h.hash(secret), seconds)
        print(f"  Argon2id {name:<53} {per_second:>9.1f} /s  ({1e3 / per_second:.1f} ms)")
        print(f"    in use (libsodium) / this: {in_use / per_second:.2f}x")


if __name__ == "__main__":
    main()

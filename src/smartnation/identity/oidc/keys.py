"""Provider signing keys with rotation, and relying-party JWKS validation.

The provider signs with ES256 on P-256. Its key ring holds up to three keys, each published in
the JWKS so verifiers never see an unknown ``kid``:

* ``next``: published ahead of use, so relying parties that cache our JWKS already hold it
  when it becomes current;
* ``current``: signs everything issued now;
* ``previous``: no longer signs, kept so tokens issued just before a rotation still verify.

The ring persists as a plain JSON-serialisable dict (private JWKs included: store it as a
secret). Relying parties register a JWKS (or a ``jwks_uri``) holding EC keys only, with at least
one signing key and one ECDH-ES encryption key, no private parts and unique ``kid``s.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from smartnation.identity.oidc.algorithms import (
    CLIENT_SIGNING_ALGS,
    CURVE_OF_ALG,
    DEFAULT_ENCRYPTION_ALG,
    ENCRYPTION_ALGS,
    PROVIDER_SIGNING_ALG,
)
from smartnation.identity.oidc.clock import epoch
from smartnation.identity.oidc.errors import OAuthError

KeyState = Literal["next", "current", "previous"]
# Members of an EC JWK that are secret (RFC 7518 section 6.2.2), plus the RSA/oct ones, so a
# private key of any type pasted by mistake is caught.
PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
MAX_JWKS_BYTES: Final = 64 * 1024
MAX_CLIENT_KEYS: Final = 20
_EC_CURVES: Final = frozenset(CURVE_OF_ALG.values())


@dataclass(frozen=True)
class SigningKey:
    kid: str
    state: KeyState
    created_at: int
    key: ECKey

    def public_jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))


@dataclass(frozen=True)
class ProviderKeyring:
    """The provider's signing keys. Immutable: rotation returns a new ring to store."""

    keys: tuple[SigningKey, ...]

    @classmethod
    def generate(cls, now: datetime | None = None) -> ProviderKeyring:
        """A fresh ring: a current key and a pre-published next key."""
        created = epoch(now)
        return cls((_new_key("current", created), _new_key("next", created)))

    def rotate(self, now: datetime | None = None) -> ProviderKeyring:
        """Promote next to current, keep the old current as previous, pre-publish a new next.

        The old previous key is dropped: rotate no more often than the longest lifetime of
        anything signed (ID tokens and userinfo responses live minutes), plus relying parties'
        JWKS cache time, so nothing in flight loses its key.
        """
        created = epoch(now)
        by_state = {k.state: k for k in self.keys}
        promoted = by_state.get("next") or _new_key("next", created)
        kept: list[SigningKey] = [
            SigningKey(promoted.kid, "current", promoted.created_at, promoted.key),
            _new_key("next", created),
        ]
        if "current" in by_state:
            old = by_state["current"]
            kept.append(SigningKey(old.kid, "previous", old.created_at, old.key))
        return ProviderKeyring(tuple(kept))

    @property
    def current(self) -> SigningKey:
        for key in self.keys:
            if key.state == "current":
                return key
        raise LookupError("key ring has no current key")

    def by_kid(self, kid: str) -> SigningKey | None:
        return next((k for k in self.keys if k.kid == kid), None)

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWKS to serve at the jwks_uri: current first, then next and previous."""
        order = {"current": 0, "next": 1, "previous": 2}
        return {"keys": [k.public_jwk() for k in sorted(self.keys, key=lambda k: order[k.state])]}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form, private keys included: store as a secret."""
        return {
            "keys": [
                {
                    "state": k.state,
                    "created_at": k.created_at,
                    "jwk": dict(k.key.as_dict(private=True)),
                }
                for k in self.keys
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProviderKeyring:
        keys: list[SigningKey] = []
        for entry in data["keys"]:
            key = ECKey.import_key(entry["jwk"])
            if not key.is_private or key.curve_name != "P-256":
                raise ValueError("provider keys must be private P-256 keys")
            state = entry["state"]
            if state not in ("next", "current", "previous"):
                raise ValueError(f"unknown key state {state!r}")
            keys.append(SigningKey(str(key.kid), state, int(entry["created_at"]), key))
        ring = cls(tuple(keys))
        ring.current  # noqa: B018 - fail at load time rather than at first signature
        return ring


def _new_key(state: KeyState, created_at: int) -> SigningKey:
    key = ECKey.generate_key(
        "P-256", parameters={"use": "sig", "alg": PROVIDER_SIGNING_ALG}, private=True
    )
    # The RFC 7638 thumbprint is a kid that is unique by construction and stable across restarts.
    kid = key.thumbprint()
    key = ECKey.import_key({**key.as_dict(private=True), "kid": kid})
    return SigningKey(kid, state, created_at, key)


@dataclass(frozen=True)
class ClientKeys:
    """A relying party's validated public keys."""

    signing: tuple[ECKey, ...]
    encryption: tuple[ECKey, ...]

    def signing_key(self, kid: str | None) -> ECKey | None:
        """The signing key named by ``kid``; without a kid, the only one if there is just one."""
        if kid is None:
            return self.signing[0] if len(self.signing) == 1 else None
        return next((k for k in self.signing if k.kid == kid), None)

    def encryption_key(self) -> ECKey:
        """The key to encrypt ID tokens and userinfo to: the strongest key wrap on offer."""
        return min(self.encryption, key=lambda k: ENCRYPTION_ALGS.index(encryption_alg(k)))


def encryption_alg(key: ECKey) -> str:
    alg = key.alg
    return alg if isinstance(alg, str) and alg in ENCRYPTION_ALGS else DEFAULT_ENCRYPTION_ALG


def validate_client_jwks(jwks: Any) -> ClientKeys:
    """Validate a relying party's JWKS per the registration rules; raise invalid_client_metadata.

    Rules: EC keys only; every key has a unique ``kid`` and a ``use``; no private members; at
    least one ``use: sig`` key (ES256/384/512 on its matching curve) and at least one
    ``use: enc`` key whose ``alg`` is ECDH-ES+A128KW, +A192KW or +A256KW.
    """
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise _refuse("must be an object with a 'keys' array")
    raw_keys: Sequence[Any] = jwks["keys"]
    if len(raw_keys) > MAX_CLIENT_KEYS:
        raise _refuse(f"at most {MAX_CLIENT_KEYS} keys")
    signing: list[ECKey] = []
    encryption: list[ECKey] = []
    kids: set[str] = set()
    for index, raw in enumerate(raw_keys):
        use, key = _validate_client_key(f"key {index}", raw)
        if key.kid in kids:
            raise _refuse(f"duplicate kid {key.kid!r}")
        kids.add(str(key.kid))
        (signing if use == "sig" else encryption).append(key)
    if not signing:
        raise _refuse("at least one key with use 'sig' is required")
    if not encryption:
        raise _refuse("at least one key with use 'enc' is required")
    return ClientKeys(tuple(signing), tuple(encryption))


def _refuse(reason: str) -> OAuthError:
    return OAuthError("invalid_client_metadata", f"client JWKS: {reason}")


def _validate_client_key(where: str, raw: Any) -> tuple[str, ECKey]:
    if not isinstance(raw, Mapping):
        raise _refuse(f"{where} is not an object")
    if raw.get("kty") != "EC":
        raise _refuse(f"{where}: only EC keys are accepted (kty {raw.get('kty')!r})")
    leaked = PRIVATE_MEMBERS & set(raw)
    if leaked:
        raise _refuse(
            f"{where}: contains private key members {sorted(leaked)}; publish only the public "
            "part and replace this key"
        )
    kid = raw.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 256:
        raise _refuse(f"{where}: a kid of 1-256 characters is required")
    crv = raw.get("crv")
    if crv not in _EC_CURVES:
        raise _refuse(f"{where}: curve must be one of P-256, P-384, P-521")
    use, alg = raw.get("use"), raw.get("alg")
    if use == "sig":
        if alg is not None and (alg not in CLIENT_SIGNING_ALGS or CURVE_OF_ALG[alg] != crv):
            raise _refuse(f"{where}: signing alg must be ES256/384/512 matching its curve")
    elif use == "enc":
        if alg not in ENCRYPTION_ALGS:
            raise _refuse(f"{where}: enc keys need alg ECDH-ES+A128KW, +A192KW or +A256KW")
    else:
        raise _refuse(f"{where}: use must be 'sig' or 'enc'")
    try:
        # Import validates that the point lies on the curve.
        return use, ECKey.import_key(dict(raw))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _refuse(f"{where}: not a valid EC public key") from exc


# Given the URL, returns the response body; raises on transport errors or non-200 answers.
JwksFetcher = Callable[[str], bytes]


def fetch_client_jwks(
    jwks_uri: str, fetcher: JwksFetcher, *, allow_http_localhost: bool = False
) -> ClientKeys:
    """Fetch and validate a relying party's JWKS from its ``jwks_uri``.

    Only https is fetched (plain http only for loopback in development). The fetcher is
    injected so the web layer decides timeouts, caching and egress rules; any failure here
    means we cannot authenticate the client, so it surfaces as ``invalid_client``.
    """
    parts = urlsplit(jwks_uri)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    dev_http = allow_http_localhost and parts.scheme == "http" and loopback
    if parts.scheme != "https" and not dev_http:
        raise OAuthError("invalid_client", "client jwks_uri must use https", 401)
    try:
        body = fetcher(jwks_uri)
    except Exception as exc:  # any transport failure means the same thing to the client
        raise OAuthError("invalid_client", "client jwks_uri could not be fetched", 401) from exc
    if len(body) > MAX_JWKS_BYTES:
        raise OAuthError("invalid_client", "client JWKS too large", 401)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise OAuthError("invalid_client", "client JWKS is not JSON", 401) from exc
    try:
        return validate_client_jwks(document)
    except OAuthError as exc:
        raise OAuthError("invalid_client", exc.description, 401) from exc

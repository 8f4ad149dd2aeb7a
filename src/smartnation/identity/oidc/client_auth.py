"""Client authentication by ``private_key_jwt`` (RFC 7523, OpenID Connect Core 9, FAPI 2.0).

The assertion must be an ES256/384/512 JWT signed by one of the client's ``use: sig`` keys, with
``iss == sub == client_id``, ``aud`` equal to the issuer identifier, ``iat`` and ``exp`` with a
lifetime of at most 120 seconds, and a ``jti`` never seen before.

Audience: only the issuer identifier is accepted, as a string or as a one-element array. Endpoint
URLs (token, PAR) are refused: FAPI 2.0 and the 2025 audience-injection findings on
private_key_jwt ask the server to accept its issuer identifier as the sole audience, and
openid-client sends exactly that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from smartnation.identity.oidc._compact import (
    check_alg,
    int_claim,
    read_unverified,
    str_claim,
    verify_signature,
)
from smartnation.identity.oidc.algorithms import CLIENT_SIGNING_ALGS
from smartnation.identity.oidc.clock import epoch, from_epoch
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import ClientKeys
from smartnation.identity.oidc.replay import ReplayGuard

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME: Final = 120
# Tolerated clock difference between the client and us, for iat in the future and exp just past.
CLOCK_SKEW: Final = 30
REPLAY_NAMESPACE: Final = "client_assertion_jti"

# Looks a client's validated keys up by client_id; None when no such client is registered.
ClientKeysLookup = Callable[[str], ClientKeys | None]


@dataclass(frozen=True)
class AuthenticatedClient:
    client_id: str
    jti: str
    kid: str | None


def _invalid(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def authenticate_client(
    params: Mapping[str, str],
    *,
    issuer: str,
    lookup: ClientKeysLookup,
    replay_guard: ReplayGuard,
    now: datetime | None = None,
) -> AuthenticatedClient:
    """Authenticate the client of a PAR or token request from its form parameters.

    ``params`` holds ``client_assertion_type``, ``client_assertion`` and optionally
    ``client_id`` (which must then match the assertion). Raises ``invalid_client`` (401).
    """
    if params.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise _invalid("client_assertion_type must be " + CLIENT_ASSERTION_TYPE)
    assertion = params.get("client_assertion", "")
    _, claims = read_unverified(assertion, "invalid_client")
    client_id = claims.get("iss")
    if not isinstance(client_id, str) or not client_id:
        raise _invalid("client assertion has no iss")
    form_client_id = params.get("client_id")
    if form_client_id is not None and form_client_id != client_id:
        raise _invalid("client_id does not match the client assertion")
    keys = lookup(client_id)
    if keys is None:
        raise _invalid("unknown client")
    return verify_client_assertion(
        assertion,
        client_id=client_id,
        client_keys=keys,
        issuer=issuer,
        replay_guard=replay_guard,
        now=now,
    )


def verify_client_assertion(
    assertion: str,
    *,
    client_id: str,
    client_keys: ClientKeys,
    issuer: str,
    replay_guard: ReplayGuard,
    now: datetime | None = None,
) -> AuthenticatedClient:
    """Verify a ``private_key_jwt`` client assertion for a known client; raise invalid_client."""
    header, claims = read_unverified(assertion, "invalid_client")
    alg = check_alg(header, CLIENT_SIGNING_ALGS, "invalid_client")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _invalid("kid must be a string")
    key = client_keys.signing_key(kid)
    if key is None:
        # Without a kid we only guess when the client has a single signing key.
        raise _invalid("no signing key of the client matches the assertion's kid")
    verify_signature(assertion, key, alg, "invalid_client")
    # Claims are checked only after the signature: nothing unsigned is trusted.
    _check_claims(claims, client_id, issuer, epoch(now))
    jti = str_claim(claims, "jti", "invalid_client", max_len=256)
    exp = int_claim(claims, "exp", "invalid_client")
    # Remember the jti past its expiry plus skew: after that the exp check refuses it anyway.
    if not replay_guard.first_use(
        REPLAY_NAMESPACE, f"{client_id}:{jti}", from_epoch(exp + CLOCK_SKEW)
    ):
        raise _invalid("client assertion jti has already been used")
    return AuthenticatedClient(client_id=client_id, jti=jti, kid=kid)


def _check_claims(claims: dict[str, Any], client_id: str, issuer: str, now: int) -> None:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise _invalid("client assertion iss and sub must both equal the client_id")
    aud = claims.get("aud")
    if aud not in (issuer, [issuer]):
        raise _invalid(f"client assertion aud must be the issuer identifier {issuer}")
    iat = int_claim(claims, "iat", "invalid_client")
    exp = int_claim(claims, "exp", "invalid_client")
    if exp <= iat:
        raise _invalid("client assertion exp must be after iat")
    if exp - iat > MAX_ASSERTION_LIFETIME:
        raise _invalid(f"client assertion lifetime exceeds {MAX_ASSERTION_LIFETIME} seconds")
    if iat > now + CLOCK_SKEW:
        raise _invalid("client assertion iat is in the future")
    if exp <= now - CLOCK_SKEW:
        raise _invalid("client assertion has expired")
    nbf = claims.get("nbf")
    if nbf is not None and int_claim(claims, "nbf", "invalid_client") > now + CLOCK_SKEW:
        raise _invalid("client assertion is not yet valid (nbf)")

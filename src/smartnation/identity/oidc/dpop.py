"""DPoP proof verification (RFC 9449) for PAR, token and userinfo requests.

A proof is a JWT with ``typ: dpop+jwt``, an EC signature (ES256/384/512; see
:mod:`.algorithms` for why PS*/RS* are refused), the signer's public key in the ``jwk`` header,
and ``jti``, ``htm``, ``htu``, ``iat`` claims; ``ath`` on resource requests and ``nonce`` when
the server asks for one. Tokens are bound to the key's RFC 7638 thumbprint (``jkt``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Protocol
from urllib.parse import urlsplit, urlunsplit

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from smartnation.identity.oidc._compact import (
    b64url_decode,
    b64url_encode,
    check_alg,
    int_claim,
    read_unverified,
    str_claim,
    verify_signature,
)
from smartnation.identity.oidc.algorithms import CURVE_OF_ALG, DPOP_ALGS
from smartnation.identity.oidc.clock import epoch, from_epoch
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import PRIVATE_MEMBERS
from smartnation.identity.oidc.replay import ReplayGuard

# Proofs are made for one request and sent at once: a minute covers network and queueing delays.
# Clients with worse clocks are steered by the server nonce rather than by a wider window.
IAT_MAX_AGE: Final = 60
IAT_FUTURE_SKEW: Final = 30
REPLAY_NAMESPACE: Final = "dpop_jti"
_JKT_LENGTH: Final = 43  # base64url of a SHA-256 digest


@dataclass(frozen=True)
class DPoPProof:
    """A verified proof: ``jkt`` is what access tokens and authorisation codes are bound to."""

    jkt: str
    jti: str
    htm: str
    htu: str
    iat: int
    public_jwk: dict[str, Any]


class DPoPNonceSource(Protocol):
    def current(self, now: datetime | None = None) -> str: ...

    def is_valid(self, nonce: str, now: datetime | None = None) -> bool: ...


class HmacDPoPNonces:
    """Stateless server nonces: a timestamp with an HMAC, valid for ``lifetime`` seconds.

    Every process sharing the secret accepts every other's nonces, so no shared store is needed.
    """

    def __init__(self, secret: bytes, lifetime: int = 300) -> None:
        if len(secret) < 32:
            raise ValueError("nonce secret must be at least 32 bytes")
        self._secret = secret
        self._lifetime = lifetime

    def current(self, now: datetime | None = None) -> str:
        # Issue on coarse time steps so concurrent requests see the same nonce and need not retry.
        issued = epoch(now) // 60 * 60
        body = struct.pack(">Q", issued)
        return b64url_encode(body + self._mac(body))

    def is_valid(self, nonce: str, now: datetime | None = None) -> bool:
        try:
            raw = b64url_decode(nonce)
        except ValueError:
            return False
        if len(raw) != 24:
            return False
        body, mac = raw[:8], raw[8:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return False
        (issued,) = struct.unpack(">Q", body)
        age = epoch(now) - issued
        return bool(-IAT_FUTURE_SKEW <= age <= self._lifetime)

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._secret, b"dpop-nonce" + body, hashlib.sha256).digest()[:16]


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of a public JWK, base64url: the ``jkt``."""
    try:
        return ECKey.import_key(dict(jwk)).thumbprint()
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OAuthError("invalid_dpop_proof", "jwk is not a valid EC public key") from exc


def access_token_hash(access_token: str) -> str:
    """``ath``: base64url(SHA-256(ASCII access token))."""
    return b64url_encode(hashlib.sha256(access_token.encode("utf-8")).digest())


def normalise_htu(url: str) -> str:
    """The URL a proof's ``htu`` is compared on: no query or fragment (RFC 9449 section 4.3),
    scheme and host lower-cased and default ports dropped (RFC 3986 section 6.2.2-6.2.3)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and (scheme, port) not in (("https", 443), ("http", 80)):
        host = f"{host}:{port}"
    return urlunsplit((scheme, host, parts.path or "/", "", ""))


def verify_dpop_proof(
    proof: str | None,
    *,
    htm: str,
    htu: str,
    replay_guard: ReplayGuard,
    now: datetime | None = None,
    access_token: str | None = None,
    nonces: DPoPNonceSource | None = None,
    resource_request: bool = False,
) -> DPoPProof:
    """Verify the DPoP header of one request.

    ``htm``/``htu`` are the method and full URL the server received. Pass ``access_token`` on
    resource requests (userinfo): ``ath`` is then required and checked. With ``nonces``, a proof
    without a valid server nonce is refused with ``use_dpop_nonce`` carrying a fresh nonce.
    Errors are 400 at the authorisation server and 401 with a challenge on resource requests.
    """
    status = 401 if resource_request or access_token is not None else 400
    try:
        return _verify(
            proof,
            htm=htm,
            htu=htu,
            replay_guard=replay_guard,
            now=now,
            access_token=access_token,
            nonces=nonces,
        )
    except OAuthError as exc:
        if exc.status == status:
            raise
        raise OAuthError(exc.error, exc.description, status, dpop_nonce=exc.dpop_nonce) from exc


def _verify(
    proof: str | None,
    *,
    htm: str,
    htu: str,
    replay_guard: ReplayGuard,
    now: datetime | None,
    access_token: str | None,
    nonces: DPoPNonceSource | None,
) -> DPoPProof:
    now_s = epoch(now)
    if not proof:
        raise _refuse("DPoP proof header is required")
    header, claims = read_unverified(proof, "invalid_dpop_proof")
    if header.get("typ") != "dpop+jwt":
        raise _refuse("typ must be dpop+jwt")
    alg = check_alg(header, DPOP_ALGS, "invalid_dpop_proof")
    key, public_jwk, jkt = _header_key(header, alg)
    verify_signature(proof, key, alg, "invalid_dpop_proof")
    # Claims are read only once the signature holds.
    proof_htm = str_claim(claims, "htm", "invalid_dpop_proof", max_len=16)
    if proof_htm != htm.upper():
        raise _refuse(f"htm {proof_htm!r} does not match the request method")
    proof_htu = str_claim(claims, "htu", "invalid_dpop_proof", max_len=2048)
    if normalise_htu(proof_htu) != normalise_htu(htu):
        raise _refuse("htu does not match the request URL")
    iat = int_claim(claims, "iat", "invalid_dpop_proof")
    if iat > now_s + IAT_FUTURE_SKEW:
        raise _refuse("iat is in the future")
    if iat < now_s - IAT_MAX_AGE:
        raise _refuse("proof is too old (iat)")
    if access_token is not None:
        _check_ath(claims.get("ath"), access_token)
    if nonces is not None:
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not nonces.is_valid(nonce, now):
            raise OAuthError(
                "use_dpop_nonce",
                "a DPoP nonce from the DPoP-Nonce header is required",
                dpop_nonce=nonces.current(now),
            )
    jti = str_claim(claims, "jti", "invalid_dpop_proof", max_len=256)
    # Checked last so a refused proof does not burn its jti; kept until no iat window admits it.
    expires = from_epoch(max(iat, now_s) + IAT_MAX_AGE + IAT_FUTURE_SKEW)
    if not replay_guard.first_use(REPLAY_NAMESPACE, f"{jkt}:{jti}", expires):
        raise _refuse("DPoP proof jti has already been used")
    return DPoPProof(jkt=jkt, jti=jti, htm=proof_htm, htu=proof_htu, iat=iat, public_jwk=public_jwk)


def _refuse(description: str) -> OAuthError:
    return OAuthError("invalid_dpop_proof", description)


def _check_ath(ath: object, access_token: str) -> None:
    if ath is None:
        raise _refuse("ath is required when presenting an access token")
    if not isinstance(ath, str) or not hmac.compare_digest(ath, access_token_hash(access_token)):
        raise _refuse("ath does not match the access token")


# Public keys already imported, by their JWK exactly as sent: a client proves with the same key
# request after request, and importing it (with its thumbprint) costs more than the signature
# check. Only keys that imported cleanly are kept; the cache is emptied when full.
_IMPORTED: dict[str, tuple[ECKey, dict[str, Any], str]] = {}
_IMPORTED_MAX = 4096


def _header_key(header: dict[str, Any], alg: str) -> tuple[ECKey, dict[str, Any], str]:
    """The proof's public key, its public JWK and its thumbprint (the ``jkt``)."""
    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise _refuse("jwk header with the public key is required")
    if PRIVATE_MEMBERS & set(jwk):
        # A private key in a header is published to every hop: refuse and say why.
        raise _refuse("jwk must not contain private key members")
    if jwk.get("kty") != "EC" or jwk.get("crv") != CURVE_OF_ALG[alg]:
        raise _refuse(f"jwk must be an EC key on {CURVE_OF_ALG[alg]} for {alg}")
    try:
        fingerprint = json.dumps(jwk, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        fingerprint = None  # not plain JSON values: left to the import to refuse
    known = _IMPORTED.get(fingerprint) if fingerprint is not None else None
    if known is None:
        try:
            key = ECKey.import_key(dict(jwk))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _refuse("jwk is not a valid EC public key") from exc
        known = (key, dict(key.as_dict(private=False)), key.thumbprint())
        if fingerprint is not None:
            if len(_IMPORTED) >= _IMPORTED_MAX:
                _IMPORTED.clear()
            _IMPORTED[fingerprint] = known
    key, public_jwk, jkt = known
    return key, dict(public_jwk), jkt


def check_token_binding(proof: DPoPProof, bound_jkt: str) -> None:
    """The access token's ``cnf.jkt`` must be the proof's key; else 401 invalid_token."""
    if not hmac.compare_digest(proof.jkt, bound_jkt):
        raise OAuthError("invalid_token", "access token is bound to a different DPoP key", 401)


def check_par_dpop_jkt(dpop_jkt: str | None, proof_jkt: str | None) -> str | None:
    """The key an authorisation code will be bound to, from a PAR request (RFC 9449 section 10).

    ``dpop_jkt`` (form parameter) and a verified DPoP proof's ``proof_jkt`` may both be sent;
    they must then name the same key. Returns the jkt to store, or ``None`` if neither came.
    """
    if dpop_jkt is not None and (len(dpop_jkt) != _JKT_LENGTH or _not_b64url(dpop_jkt)):
        raise OAuthError("invalid_request", "dpop_jkt must be a base64url SHA-256 JWK thumbprint")
    if (
        proof_jkt is not None
        and dpop_jkt is not None
        and not hmac.compare_digest(proof_jkt, dpop_jkt)
    ):
        raise OAuthError("invalid_dpop_proof", "dpop_jkt does not match the DPoP proof key")
    return proof_jkt if proof_jkt is not None else dpop_jkt


def check_code_binding(code_jkt: str | None, proof: DPoPProof) -> None:
    """At the token endpoint the proof must use the key the authorisation code is bound to."""
    if code_jkt is not None and not hmac.compare_digest(proof.jkt, code_jkt):
        raise OAuthError("invalid_dpop_proof", "DPoP key differs from the one bound at PAR")


def _not_b64url(value: str) -> bool:
    try:
        b64url_decode(value)
    except ValueError:
        return True
    return False


def new_dpop_nonce_secret() -> bytes:
    return secrets.token_bytes(32)

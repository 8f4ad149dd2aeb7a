"""Careful handling of untrusted compact JWS: every failure becomes an :class:`OAuthError`.

joserfc does the cryptography; this module reads the header first (to pick the key and refuse
algorithms before any key is touched) and maps every library exception onto one protocol error,
so malformed input can never surface as a 500.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import math
from collections.abc import Sequence
from typing import Any

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jws import JWSRegistry

from smartnation.identity.oidc.algorithms import CURVE_OF_ALG
from smartnation.identity.oidc.errors import ErrorCode, OAuthError

# Client assertions and DPoP proofs are a few hundred bytes; anything far larger is abuse.
MAX_COMPACT_JWS_BYTES = 8192


def b64url_decode(segment: str) -> bytes:
    if not segment or any(c in segment for c in "=+/ \t\r\n"):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def read_unverified(token: str, error: ErrorCode) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a compact JWS, unverified; raises ``error`` when malformed."""
    if not isinstance(token, str) or not token:
        raise OAuthError(error, "missing JWT")
    if len(token) > MAX_COMPACT_JWS_BYTES:
        raise OAuthError(error, "JWT too large")
    segments = token.split(".")
    if len(segments) != 3:
        raise OAuthError(error, "not a compact JWS (expected three segments)")
    try:
        header = json.loads(b64url_decode(segments[0]))
        claims = json.loads(b64url_decode(segments[1]))
        if segments[2]:  # an empty signature ('alg: none') is refused by the alg check
            b64url_decode(segments[2])
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError) as exc:
        raise OAuthError(error, "malformed JWT encoding") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise OAuthError(error, "JWT header and payload must be JSON objects")
    return header, claims


def check_alg(header: dict[str, Any], allowed: Sequence[str], error: ErrorCode) -> str:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in allowed:
        # Named explicitly: 'none', HS* (a public key used as an HMAC secret) and RSA are the
        # classic confusion attacks, and the allow-list refuses each before any key is used.
        raise OAuthError(error, f"alg {alg!r} not allowed; use one of {', '.join(allowed)}")
    if "crit" in header:
        raise OAuthError(error, "crit header parameters are not supported")
    return alg


@functools.cache
def _registry(alg: str) -> JWSRegistry:
    # Unknown header parameters are tolerated (clients add their own), algorithms are not.
    return JWSRegistry(algorithms=[alg], strict_check_header=False)


def verify_signature(token: str, key: ECKey, alg: str, error: ErrorCode) -> None:
    """Verify a compact JWS with one EC key and one algorithm, or raise ``error``."""
    if key.curve_name != CURVE_OF_ALG.get(alg):
        raise OAuthError(error, f"key curve {key.curve_name} does not match alg {alg}")
    try:
        jws.deserialize_compact(token, key, registry=_registry(alg))
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise OAuthError(error, "signature verification failed") from exc


def int_claim(claims: dict[str, Any], name: str, error: ErrorCode) -> int:
    value = claims.get(name)
    # bool is an int subclass in Python; true/false are not timestamps.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OAuthError(error, f"{name} claim missing or not a number")
    if not math.isfinite(value):
        raise OAuthError(error, f"{name} claim is not a finite number")
    return int(value)


def str_claim(claims: dict[str, Any], name: str, error: ErrorCode, max_len: int = 1024) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise OAuthError(error, f"{name} claim missing or not a string")
    if len(value) > max_len:
        raise OAuthError(error, f"{name} claim too long")
    return value

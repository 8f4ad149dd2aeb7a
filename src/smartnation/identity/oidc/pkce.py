"""PKCE (RFC 7636), S256 only: ``plain`` would hand the verifier to anyone who sees the request."""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Final

from smartnation.identity.oidc._compact import b64url_encode
from smartnation.identity.oidc.errors import OAuthError

# RFC 7636 section 4.1: 43-128 characters of the unreserved set.
_VERIFIER: Final = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
# An S256 challenge is base64url(SHA-256), always 43 characters.
_CHALLENGE: Final = re.compile(r"[A-Za-z0-9\-_]{43}")


def check_challenge(code_challenge: str | None, method: str | None) -> str:
    """Validate the PAR request's challenge; returns the challenge to store with the code."""
    if method != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256")
    if code_challenge is None or not _CHALLENGE.fullmatch(code_challenge):
        raise OAuthError("invalid_request", "code_challenge must be a base64url SHA-256 digest")
    return code_challenge


def s256(code_verifier: str) -> str:
    return b64url_encode(hashlib.sha256(code_verifier.encode("ascii")).digest())


def verify(code_verifier: str | None, code_challenge: str) -> None:
    """At the token endpoint: the verifier must hash to the stored challenge (invalid_grant)."""
    if code_verifier is None or not _VERIFIER.fullmatch(code_verifier):
        raise OAuthError("invalid_grant", "code_verifier must be 43-128 unreserved characters")
    if not hmac.compare_digest(s256(code_verifier), code_challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")

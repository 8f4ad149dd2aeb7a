"""Authorisation codes: issued at the end of login, redeemed once at the token endpoint.

A code lives 60 seconds and is single-use. A second redemption raises :class:`CodeReplayed`
so the caller can also revoke the tokens the first redemption produced (RFC 6749 section 4.1.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from smartnation.identity.oidc import pkce
from smartnation.identity.oidc.clock import epoch, from_epoch
from smartnation.identity.oidc.dpop import DPoPProof, check_code_binding
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.params import AuthorizationRequest
from smartnation.identity.oidc.replay import ReplayGuard
from smartnation.identity.oidc.tokens import new_opaque_token, token_hash

CODE_LIFETIME: Final = 60
REPLAY_NAMESPACE: Final = "authorization_code"


@dataclass(frozen=True)
class CodeGrant:
    """What is stored under an authorisation code's hash once the person has logged in."""

    request: AuthorizationRequest
    sub: str
    amr: tuple[str, ...]
    expires_at: int


class CodeReplayed(OAuthError):
    """The code was already redeemed: refuse, and revoke what it was exchanged for."""

    def __init__(self) -> None:
        super().__init__("invalid_grant", "authorization code has already been used")


def issue_code(
    request: AuthorizationRequest, *, sub: str, amr: tuple[str, ...], now: datetime | None = None
) -> tuple[str, str, CodeGrant]:
    """A new code: returns (code for the redirect, its hash as the storage key, the grant)."""
    code = new_opaque_token()
    grant = CodeGrant(request=request, sub=sub, amr=amr, expires_at=epoch(now) + CODE_LIFETIME)
    return code, token_hash(code), grant


def redeem_code(
    params: Mapping[str, str],
    *,
    grant: CodeGrant | None,
    client_id: str,
    proof: DPoPProof,
    replay_guard: ReplayGuard,
    now: datetime | None = None,
) -> CodeGrant:
    """Check an authorization_code token request against the stored grant.

    ``params`` is the token request form; ``grant`` is what was stored under
    ``token_hash(params["code"])`` (None if nothing was). ``client_id`` comes from
    :func:`authenticate_client` and ``proof`` from :func:`verify_dpop_proof`.
    """
    if params.get("grant_type") != "authorization_code":
        raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code")
    code = params.get("code")
    if not code or len(code) > 256:
        raise OAuthError("invalid_grant", "code is required")
    if grant is None:
        raise OAuthError("invalid_grant", "authorization code is unknown")
    # Burn the code before any other check: a code seen twice is compromised either way.
    if not replay_guard.first_use(
        REPLAY_NAMESPACE, token_hash(code), from_epoch(grant.expires_at + CODE_LIFETIME)
    ):
        raise CodeReplayed()
    if epoch(now) >= grant.expires_at:
        raise OAuthError("invalid_grant", "authorization code has expired")
    if grant.request.client_id != client_id:
        raise OAuthError("invalid_grant", "authorization code was issued to another client")
    if params.get("redirect_uri") != grant.request.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    pkce.verify(params.get("code_verifier"), grant.request.code_challenge)
    check_code_binding(grant.request.dpop_jkt, proof)
    return grant

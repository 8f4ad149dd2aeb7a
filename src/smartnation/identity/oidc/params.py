"""Pushed authorisation request (RFC 9126) and authorisation endpoint parameters.

Everything a relying party puts in a PAR request is checked here before a ``request_uri`` is
issued. Errors at PAR are answered to the client as JSON, never by redirect; at the
authorisation endpoint the browser is redirected with an error only once the request has been
resolved to a stored, validated redirect URI: a bad or unknown ``request_uri`` gets an error
page. Together these leave no open redirect.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from smartnation.identity.oidc import pkce
from smartnation.identity.oidc.clock import epoch
from smartnation.identity.oidc.dpop import check_par_dpop_jkt
from smartnation.identity.oidc.errors import OAuthError, append_query

PAR_EXPIRES_IN: Final = 60
REQUEST_URI_PREFIX: Final = "urn:ietf:params:oauth:request_uri:"

# Size limits: generous for real clients, small enough that a request cannot be used to store
# or amplify arbitrary data.
MAX_PARAMS: Final = 40
MAX_PARAM_LENGTH: Final = 2048
MAX_TOTAL_LENGTH: Final = 16 * 1024
MAX_SCOPES: Final = 64
MAX_CONTEXT_MESSAGE: Final = 100

LOA2: Final = "urn:singpass:authentication:loa:2"
LOA3: Final = "urn:singpass:authentication:loa:3"
SUPPORTED_ACR: Final = (LOA2,)

# Scopes that shape the ID token (sub_attributes) ...
LOGIN_SCOPES: Final = frozenset({"openid", "user.identity", "name", "email", "mobileno"})
# ... and MyInfo data items, returned from userinfo as person_info once the person consents.
MYINFO_SCOPES: Final = frozenset(
    {
        "uinfin",
        "name",
        "aliasname",
        "sex",
        "race",
        "dob",
        "birthcountry",
        "nationality",
        "residentialstatus",
        "regadd",
        "mobileno",
        "email",
        "marital",
        "edulevel",
        "employment",
        "occupation",
        "hdbtype",
        "hdbownership",
        "cpfbalances",
        "noa-basic",
        "vehicles",
        "drivinglicence",
        "childrenbirthrecords",
    }
)
KNOWN_SCOPES: Final = LOGIN_SCOPES | MYINFO_SCOPES

_STATE_OR_NONCE: Final = re.compile(r"[A-Za-z0-9/+_\-=.]{30,255}")
_CONTEXT_TYPE: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_SCOPE_TOKEN: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,64}")  # RFC 6749 scope-token


@dataclass(frozen=True)
class ClientRegistration:
    """What the protocol needs to know about a registered relying party."""

    client_id: str
    redirect_uris: tuple[str, ...]
    # None allows every known scope; a set restricts the client to what it was approved for.
    allowed_scopes: frozenset[str] | None = None
    # None accepts any well-formed authentication_context_type.
    allowed_context_types: frozenset[str] | None = None


@dataclass(frozen=True)
class AuthorizationRequest:
    """A validated PAR request, stored under its request_uri until the browser arrives."""

    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str
    code_challenge: str
    acr: str
    dpop_jkt: str | None
    authentication_context_type: str | None = None
    authentication_context_message: str | None = None


def parse_form(form: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Flatten form pairs to a dict, enforcing size limits and refusing repeated parameters
    (RFC 6749 section 3.1: parameters must not be included more than once)."""
    pairs = list(form.items()) if isinstance(form, Mapping) else list(form)
    if len(pairs) > MAX_PARAMS:
        raise OAuthError("invalid_request", f"too many parameters (at most {MAX_PARAMS})")
    out: dict[str, str] = {}
    total = 0
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            raise OAuthError("invalid_request", "parameters must be strings")
        if len(value) > MAX_PARAM_LENGTH or len(name) > 64:
            raise OAuthError("invalid_request", f"parameter {name[:64]!r} is too long")
        total += len(name) + len(value)
        if total > MAX_TOTAL_LENGTH:
            raise OAuthError("invalid_request", "request is too large")
        if name in out:
            raise OAuthError("invalid_request", f"parameter {name!r} is repeated")
        out[name] = value
    return out


def validate_par_request(
    form: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    client: ClientRegistration,
    dpop_jkt_from_proof: str | None,
) -> AuthorizationRequest:
    """Validate a PAR request from an already authenticated ``client``.

    ``dpop_jkt_from_proof`` is the thumbprint of the request's verified DPoP proof, if any.
    Every refusal is an :class:`OAuthError` to answer as JSON (no redirect at PAR).
    """
    params = parse_form(form)
    if params.get("client_id", client.client_id) != client.client_id:
        raise OAuthError("invalid_request", "client_id does not match the authenticated client")
    if "request_uri" in params:
        raise OAuthError("invalid_request", "request_uri is not allowed in a pushed request")
    if "request" in params:
        raise OAuthError("request_not_supported", "request objects are not supported")
    redirect_uri = check_redirect_uri(params.get("redirect_uri"), client)
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    if params.get("response_mode", "query") != "query":
        raise OAuthError("invalid_request", "response_mode must be query")
    scopes = _check_scopes(params.get("scope"), client)
    state = _check_state_or_nonce("state", params.get("state"))
    nonce = _check_state_or_nonce("nonce", params.get("nonce"))
    challenge = pkce.check_challenge(
        params.get("code_challenge"), params.get("code_challenge_method")
    )
    acr = check_acr_values(params.get("acr_values"))
    context_type = _check_context_type(params.get("authentication_context_type"), client)
    context_message = _check_context_message(params.get("authentication_context_message"))
    jkt = check_par_dpop_jkt(params.get("dpop_jkt"), dpop_jkt_from_proof)
    return AuthorizationRequest(
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        state=state,
        nonce=nonce,
        code_challenge=challenge,
        acr=acr,
        dpop_jkt=jkt,
        authentication_context_type=context_type,
        authentication_context_message=context_message,
    )


def check_redirect_uri(redirect_uri: str | None, client: ClientRegistration) -> str:
    """Exact string match against the registration: no prefix, pattern or port leniency."""
    if not redirect_uri:
        raise OAuthError("invalid_request", "redirect_uri is required")
    if redirect_uri not in client.redirect_uris:
        raise OAuthError("invalid_request", "redirect_uri is not registered for this client")
    if urlsplit(redirect_uri).fragment:
        raise OAuthError("invalid_request", "redirect_uri must not contain a fragment")
    return redirect_uri


def check_registered_redirect_uri(redirect_uri: str) -> str:
    """Registration-time rule: absolute https URL without fragment (http only on loopback)."""
    parts = urlsplit(redirect_uri)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise OAuthError("invalid_redirect_uri", "redirect_uri must use https")
    if not parts.hostname or parts.fragment or parts.username or parts.password:
        raise OAuthError(
            "invalid_redirect_uri",
            "redirect_uri must be an absolute URL without fragment or credentials",
        )
    return redirect_uri


def check_acr_values(acr_values: str | None) -> str:
    """The ACR to satisfy: the first supported value listed (default LoA 2).

    LoA 3 requires face verification, which this provider does not offer: a request that
    accepts nothing weaker is refused with a clear reason rather than silently downgraded.
    """
    if acr_values is None:
        return LOA2
    requested = acr_values.split()
    for value in requested:
        if value in SUPPORTED_ACR:
            return value
    if LOA3 in requested:
        raise OAuthError(
            "invalid_request",
            "acr_values urn:singpass:authentication:loa:3 requires face verification, which is "
            "not available; request urn:singpass:authentication:loa:2",
        )
    raise OAuthError("invalid_request", "acr_values lists no supported value")


def _check_scopes(scope: str | None, client: ClientRegistration) -> tuple[str, ...]:
    if not scope:
        raise OAuthError("invalid_scope", "scope is required and must contain openid")
    scopes = scope.split(" ")
    if len(scopes) > MAX_SCOPES or not all(_SCOPE_TOKEN.fullmatch(s) for s in scopes):
        raise OAuthError("invalid_scope", "scope is malformed")
    if "openid" not in scopes:
        raise OAuthError("invalid_scope", "scope must contain openid")
    allowed = KNOWN_SCOPES if client.allowed_scopes is None else client.allowed_scopes
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        raise OAuthError("invalid_scope", f"scope not allowed: {' '.join(sorted(unknown))}")
    return tuple(dict.fromkeys(scopes))  # drop duplicates, keep order


def _check_state_or_nonce(name: str, value: str | None) -> str:
    if value is None or not _STATE_OR_NONCE.fullmatch(value):
        raise OAuthError(
            "invalid_request", f"{name} must be 30-255 characters of A-Z a-z 0-9 / + _ - = ."
        )
    return value


def _check_context_type(value: str | None, client: ClientRegistration) -> str | None:
    if value is None:
        return None
    if not _CONTEXT_TYPE.fullmatch(value):
        raise OAuthError("invalid_request", "authentication_context_type is malformed")
    if client.allowed_context_types is not None and value not in client.allowed_context_types:
        raise OAuthError("invalid_request", "authentication_context_type not allowed for client")
    return value


def _check_context_message(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) > MAX_CONTEXT_MESSAGE or not value.isprintable():
        raise OAuthError(
            "invalid_request",
            f"authentication_context_message must be at most {MAX_CONTEXT_MESSAGE} printable "
            "characters",
        )
    return value


def new_request_uri() -> str:
    return REQUEST_URI_PREFIX + secrets.token_urlsafe(32)


def resolve_authorize_request(
    query: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    stored: AuthorizationRequest | None,
    expires_at: datetime | None,
    now: datetime | None = None,
) -> AuthorizationRequest:
    """Check the browser's ``/auth?client_id=...&request_uri=...`` against the stored request.

    The caller looks ``request_uri`` up (and deletes it: one use only) and passes what it found.
    Every error here is shown as a page, never redirected: until this returns, nothing proves
    the redirect URI belongs to this client.
    """
    params = parse_form(query)
    request_uri = params.get("request_uri")
    if not request_uri or not request_uri.startswith(REQUEST_URI_PREFIX):
        raise OAuthError("invalid_request_uri", "request_uri from the pushed request is required")
    if stored is None or expires_at is None:
        raise OAuthError("invalid_request_uri", "request_uri is unknown, used or expired")
    if params.get("client_id") != stored.client_id:
        raise OAuthError("invalid_request", "client_id does not match the pushed request")
    if epoch(now) >= epoch(expires_at):
        raise OAuthError("invalid_request_uri", "request_uri has expired")
    return stored


def redirect_error(request: AuthorizationRequest, error: OAuthError) -> OAuthError:
    """The same error, now allowed to redirect to the request's validated redirect URI."""
    return OAuthError(
        error.error,
        error.description,
        error.status,
        redirect_uri=request.redirect_uri,
        state=request.state,
    )


def authorization_response_url(request: AuthorizationRequest, code: str, issuer: str) -> str:
    """The success redirect: ``code``, ``state`` and ``iss`` (RFC 9207, against mix-up)."""
    return append_query(request.redirect_uri, {"code": code, "state": request.state, "iss": issuer})

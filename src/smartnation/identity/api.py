"""The OpenID provider's protocol endpoints under ``/id`` (FAPI 2.0 profile).

These answer OAuth errors (``{"error", "error_description"}`` with the headers the protocol
core gives), not problem documents. The login pages behind ``/id/auth`` are in
:mod:`smartnation.identity.login_pages`; this module's ``router`` carries them too, right after
the protocol endpoints, because a login is a run of requests to both: the application matches
routes in the order they were included, one by one, so routes included early are found sooner
(for a page included after every other domain's API that search cost more than the page).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from smartnation.core.web.auth import Public
from smartnation.core.web.deps import DbSession
from smartnation.identity import login_pages
from smartnation.identity import provider as oidc_provider
from smartnation.identity.login_pages import provider_of
from smartnation.identity.oidc.discovery import CACHE_CONTROL
from smartnation.identity.oidc.errors import OAuthError

protocol = APIRouter(prefix="/id", tags=["identity"], dependencies=[Public])
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_BODY = 64 * 1024


def oauth_error(error: OAuthError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status, headers=error.headers())


async def _form(request: Request) -> list[tuple[str, str]]:
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    body = await request.body()
    if len(body) > MAX_BODY:
        raise OAuthError("invalid_request", "request is too large")
    form = await request.form()
    return [(k, v) for k, v in form.multi_items() if isinstance(v, str)]


@protocol.get("/.well-known/openid-configuration")
def openid_configuration(request: Request) -> JSONResponse:
    """OpenID Provider metadata."""
    document = oidc_provider.discovery(provider_of(request))
    return JSONResponse(document, headers={"Cache-Control": CACHE_CONTROL})


@protocol.get("/jwks")
def jwks(session: DbSession) -> JSONResponse:
    """The provider's public signing keys (next, current and previous during rotation)."""
    return JSONResponse(
        oidc_provider.jwks(session), headers={"Cache-Control": "public, max-age=300"}
    )


@protocol.get("/.well-known/keys", include_in_schema=False)
def jwks_alias(session: DbSession) -> JSONResponse:
    return jwks(session)


@protocol.post("/par", status_code=201)
async def par(request: Request, session: DbSession) -> JSONResponse:
    """Pushed authorisation request (RFC 9126) with private_key_jwt and DPoP."""
    try:
        form = await _form(request)
        answer = oidc_provider.push_authorization_request(
            session, provider_of(request), form, request.headers.get("dpop")
        )
    except OAuthError as error:
        return oauth_error(error)
    return JSONResponse(answer, status_code=201, headers=NO_STORE)


@protocol.post("/token")
async def token(request: Request, session: DbSession) -> JSONResponse:
    """Authorisation code exchange: private_key_jwt, DPoP, PKCE; ID token signed then encrypted."""
    try:
        form = await _form(request)
        answer = oidc_provider.exchange_code(
            session, provider_of(request), form, request.headers.get("dpop")
        )
    except OAuthError as error:
        return oauth_error(error)
    return JSONResponse(answer, headers=NO_STORE)


@protocol.get("/userinfo")
def userinfo(request: Request, session: DbSession) -> Response:
    """The consented MyInfo person data, signed then encrypted (application/jwt)."""
    try:
        body = oidc_provider.userinfo(
            session,
            provider_of(request),
            request.headers.get("authorization"),
            request.headers.get("dpop"),
        )
    except OAuthError as error:
        return oauth_error(error)
    return Response(body, media_type="application/jwt", headers=NO_STORE)


# What the application includes: the protocol endpoints, then the login pages.
router = APIRouter()
router.include_router(protocol)
router.include_router(login_pages.router)

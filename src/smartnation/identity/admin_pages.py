"""Officer and administrator pages (relying parties, roles), and the public developer guide."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartnation.core.errors import DomainError
from smartnation.core.web.auth import Principal, Public, require_role
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.identity import clients as client_registry
from smartnation.identity import roles as role_grants
from smartnation.identity.login_pages import provider_of
from smartnation.identity.oidc.params import KNOWN_SCOPES

router = APIRouter(prefix="/identity", include_in_schema=False)
Csrf = Depends(verify_csrf)
Officer = Annotated[Principal, Depends(require_role("identity.officer"))]
Admin = Annotated[Principal, Depends(require_role("platform.admin"))]
Text = Annotated[str, Form(max_length=2000)]


def _render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.render(  # type: ignore[no-any-return]
        request, f"identity/{name}", context or {}, status_code=status
    )


def _errors(error: DomainError) -> dict[str, str]:
    problems = getattr(error, "problems", None) or []
    return {p.field: p.message for p in problems} or {"form": error.message}


# ---- relying parties ---------------------------------------------------------------------------
def _clients_page(
    request: Request,
    session: Any,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    created: Any = None,
    status: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "clients.html",
        {
            "clients": client_registry.list_clients(session),
            "values": values or {},
            "errors": errors or {},
            "created": created,
            "scopes": sorted(KNOWN_SCOPES),
        },
        status,
    )


@router.get("/clients", response_class=HTMLResponse)
def clients_page(request: Request, session: DbSession, _officer: Officer) -> HTMLResponse:
    return _clients_page(request, session)


@router.post("/clients", response_class=HTMLResponse, dependencies=[Csrf])
def clients_register(
    request: Request,
    session: DbSession,
    _officer: Officer,
    name: Text = "",
    purpose: Text = "",
    kind: Text = "singpass",
    redirect_uris: Text = "",
    jwks: Annotated[str, Form(max_length=65_536)] = "",
    jwks_uri: Text = "",
    scopes: Text = "openid",
) -> HTMLResponse:
    values = {
        "name": name,
        "purpose": purpose,
        "kind": kind,
        "redirect_uris": redirect_uris,
        "jwks": jwks,
        "jwks_uri": jwks_uri,
        "scopes": scopes,
    }
    try:
        client = client_registry.register_client(
            session,
            name=name,
            purpose=purpose,
            kind=kind,
            redirect_uris=redirect_uris.split(),
            scopes=scopes.replace(",", " ").split(),
            jwks=client_registry.parse_jwks_text(jwks) if jwks.strip() else None,
            jwks_uri=jwks_uri.strip() or None,
        )
    except DomainError as error:
        return _clients_page(request, session, values, _errors(error), status=error.status)
    return _clients_page(request, session, created=client, status=201)


# ---- roles -------------------------------------------------------------------------------------
def _roles_page(
    request: Request,
    session: Any,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "roles.html",
        {
            "grants": role_grants.list_grants(session),
            "roles": role_grants.ROLES,
            "agencies": role_grants.AGENCIES,
            "errors": errors or {},
            "values": values or {},
        },
        status,
    )


@router.get("/roles", response_class=HTMLResponse)
def roles_page(request: Request, session: DbSession, _admin: Admin) -> HTMLResponse:
    return _roles_page(request, session)


@router.post("/roles", response_class=HTMLResponse, dependencies=[Csrf])
def roles_grant(
    request: Request,
    session: DbSession,
    admin: Admin,
    nric: Text = "",
    role: Text = "",
    agency: Text = "",
) -> Response:
    try:
        role_grants.grant_role(session, nric, role, agency, granted_by=admin.actor)
    except DomainError as error:
        values = {"nric": nric, "role": role, "agency": agency}
        return _roles_page(request, session, _errors(error), values, error.status)
    return RedirectResponse("/identity/roles", status_code=303)


@router.post("/roles/revoke", response_class=HTMLResponse, dependencies=[Csrf])
def roles_revoke(
    request: Request,
    session: DbSession,
    _admin: Admin,
    nric: Text = "",
    role: Text = "",
    agency: Text = "",
) -> Response:
    try:
        role_grants.revoke_role(session, nric, role, agency)
    except DomainError as error:
        return _roles_page(request, session, _errors(error), status=error.status)
    return RedirectResponse("/identity/roles", status_code=303)


# ---- developers ----------------------------------------------------------------------------------
@router.get("/developers", response_class=HTMLResponse, dependencies=[Public])
def developers(request: Request) -> HTMLResponse:
    """How a service integrates with the national login."""
    issuer = provider_of(request).issuer
    return _render(
        request,
        "developers.html",
        {"issuer": issuer, "discovery": f"{issuer}/.well-known/openid-configuration"},
    )

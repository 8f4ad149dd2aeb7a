"""Registry pages for officers: look a resident or business up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from smartnation.core.errors import DomainError
from smartnation.core.i18n import N_
from smartnation.core.web.auth import Principal, require_role
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import ServiceLink, get_templates
from smartnation.registry import codes, service

router = APIRouter(prefix="/registry", include_in_schema=False)
SERVICES = [
    ServiceLink(
        N_("Registry lookup"),
        N_("For officers: look up a resident's or a business's record."),
        "/registry",
    ),
]
Officer = Annotated[Principal, Depends(require_role("registry.read", "registry.write"))]


@router.get("", response_class=HTMLResponse)
def lookup(
    request: Request,
    session: DbSession,
    _officer: Officer,
    nric: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    resident, error = None, None
    if nric:
        try:
            resident = service.get_resident(session, nric)
        except DomainError as problem:
            error = problem.message
    return get_templates(request).render(
        request,
        "registry/lookup.html",
        {"resident": resident, "error": error, "query": nric or "", "codes": codes},
    )

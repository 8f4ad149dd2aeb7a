"""The shell's own routes: home, language, health, metrics, the accessibility statement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from smartnation.core import i18n
from smartnation.core.web.auth import Public
from smartnation.core.web.deps import get_database
from smartnation.core.web.middleware import LANGUAGE_COOKIE
from smartnation.core.web.templates import get_templates

router = APIRouter(dependencies=[Public])


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request) -> HTMLResponse:
    return get_templates(request).render(request, "core/home.html")


@router.get("/accessibility", response_class=HTMLResponse, include_in_schema=False)
def accessibility(request: Request) -> HTMLResponse:
    return get_templates(request).render(request, "core/accessibility.html")


def _safe_next(target: str) -> str:
    # Only paths on this site: never an open redirect.
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/language/{code}", include_in_schema=False)
def choose_language(
    code: str, next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/"
) -> Response:
    """Remember the chosen language in a cookie and go back to the page."""
    response = RedirectResponse(_safe_next(next_path), status_code=303)
    if code in i18n.LANGUAGE_CODES:
        response.set_cookie(
            LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", httponly=True
        )
    return response


@router.get("/healthz", tags=["operations"])
def healthz(request: Request) -> JSONResponse:
    """Whether this process can reach its database."""
    try:
        get_database(request).ping()
    except Exception as error:
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", tags=["operations"], include_in_schema=False)
def metrics() -> Response:
    """Prometheus metrics of this process."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

"""Errors shown as `application/problem+json` to API clients and as friendly pages to people."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from smartnation.core.errors import DomainError, FieldProblem, InvalidInput, NotAuthenticated
from smartnation.core.i18n import N_

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


def wants_json(request: Request) -> bool:
    """APIs and clients that ask for JSON get problem documents; browsers get pages."""
    accept = request.headers.get("accept", "")
    if request.url.path.startswith("/api/"):
        return True
    # The identity provider's protocol endpoints answer JSON; its login pages answer browsers.
    if request.url.path.startswith("/id/") and "text/html" not in accept:
        return True
    return "application/json" in accept and "text/html" not in accept


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        problem, status_code=int(problem["status"]), media_type=PROBLEM_JSON, headers=headers
    )


def _page(request: Request, error: DomainError, headers: dict[str, str] | None = None) -> Response:
    templates = request.app.state.templates
    return templates.render(  # type: ignore[no-any-return]
        request,
        "core/error.html",
        {"error": error, "problems": getattr(error, "problems", [])},
        status_code=error.status,
        headers=headers,
    )


def _loc_to_field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to a clear answer; nothing reaches the client as a bare 500 page."""

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        headers = {}
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if wants_json(request):
            return problem_response(error.problem(), headers)
        if isinstance(error, NotAuthenticated):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return _page(request, error, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = [
            FieldProblem(_loc_to_field(item.get("loc", ())), str(item.get("msg", "is not valid")))
            for item in error.errors()
        ]
        return await domain_error(request, InvalidInput(problems))

    @app.exception_handler(DataError)
    async def unstorable_value(request: Request, error: DataError) -> Response:
        # A value the database refuses (such as a NUL character in text): the request's
        # transaction is rolled back, and the client is told what to change.
        log.info("refused a value the database cannot store: %s", type(error.orig).__name__)
        problem = FieldProblem(
            "request",
            N_("Some of the text contains characters that cannot be stored, such as NUL."),
            "unstorable",
        )
        return await domain_error(request, InvalidInput(problem))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        generic = DomainError(str(error.detail) if error.detail else "Not found")
        generic.status = error.status_code
        generic.code = {404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "http_error"
        )
        generic.title = {404: N_("Page not found"), 405: N_("Method not allowed")}.get(
            error.status_code, N_("Request refused")
        )
        if error.status_code == 404:
            generic.message = N_("We could not find that page or record.")
        return await domain_error(request, generic)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        generic = DomainError(
            N_("Something went wrong on our side. Nothing was saved; please try again.")
        )
        generic.status, generic.code, generic.title = (
            500,
            "internal_error",
            N_("Sorry, we had a problem"),
        )
        return await domain_error(request, generic)

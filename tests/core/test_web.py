"""The web shell: pages in four languages, problem documents, security headers, CSRF, guards."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from anyio import to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

from smartnation.core.web.auth import public
from smartnation.core.web.csrf import csrf_token, verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.core.web.middleware import LANGUAGE_COOKIE

LANGUAGE_SAMPLES = {
    "en": "Government services in one place",
    "zh": "一站式政府服务",
    "ms": "Perkhidmatan kerajaan di satu tempat",
    "ta": "அரசாங்கச் சேவைகள் ஒரே இடத்தில்",
}


@pytest.mark.parametrize(("code", "heading"), LANGUAGE_SAMPLES.items())
def test_home_page_in_each_language(client: TestClient, code: str, heading: str) -> None:
    response = client.get(f"/language/{code}?next=/", follow_redirects=True)
    assert response.status_code == 200
    assert f'<html lang="{code}">' in response.text
    assert heading in response.text
    for native in ("English", "中文", "Melayu", "தமிழ்"):
        assert native in response.text


def test_language_follows_accept_language_until_chosen(client: TestClient) -> None:
    response = client.get("/", headers={"accept-language": "ms-MY,ms;q=0.9,en;q=0.5"})
    assert '<html lang="ms">' in response.text


def test_language_switch_never_redirects_off_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get(f"/language/zh?next={target}", follow_redirects=False)
        assert response.headers["location"] == "/"


def test_security_headers_on_pages(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-language"] == "en"


def test_healthz_checks_the_database(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    client.get("/")
    body = client.get("/metrics").text
    assert "smartnation_http_requests_total" in body


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    assert client.get("/openapi.json").json()["info"]["title"] == "smartnation"
    assert client.get("/api/docs").status_code == 200


def test_unknown_api_path_is_a_problem_document(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"


def test_unknown_page_is_a_friendly_page(client: TestClient) -> None:
    response = client.get("/no-such-page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Go to the home page" in response.text


def test_protected_api_without_credentials_is_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/registry/residents/S1234567D")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_protected_page_without_login_redirects_to_login(client: TestClient) -> None:
    response = client.get("/registry", headers={"accept": "text/html"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_csrf_accepts_the_session_token_and_refuses_others(app: FastAPI) -> None:
    router = APIRouter(dependencies=[Depends(public)])

    @router.get("/test-form")
    def form(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @router.post("/test-form", dependencies=[Depends(verify_csrf)])
    def submit() -> dict[str, str]:
        return {"ok": "yes"}

    app.include_router(router)
    with TestClient(app) as client:
        token = client.get("/test-form").json()["token"]
        forged = client.post(
            "/test-form", data={"csrf_token": "forged"}, headers={"accept": "text/html"}
        )
        assert forged.status_code == 400
        assert "This form has expired" in forged.text
        missing = client.post("/test-form", data={}, headers={"accept": "text/html"})
        assert missing.status_code == 400
        accepted = client.post("/test-form", data={"csrf_token": token})
        assert accepted.json() == {"ok": "yes"}
    with TestClient(app) as stranger:  # another browser's session: the token means nothing there
        assert stranger.post("/test-form", data={"csrf_token": token}).status_code == 400


def _walk(routes):  # type: ignore[no-untyped-def]
    """Every APIRoute, including those of included routers (FastAPI includes them lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _walk(route.original_router.routes)


def _dependency_calls(route: APIRoute) -> list[object]:
    calls = []
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        calls.append(dependant.call)
        stack.extend(dependant.dependencies)
    return calls


def test_every_route_is_public_or_checks_a_role(app: FastAPI) -> None:
    """No endpoint is left unguarded: each declares `public` or depends on `require_role`."""
    unguarded = []
    routes = list(_walk(app.routes))
    paths = {route.path for route in routes}
    # The walk must see the domains' routers, or this test would check nothing.
    assert {"/", "/api/v1/registry/residents/{nric}", "/dev/inbox"} <= paths
    for route in routes:
        calls = _dependency_calls(route)
        guarded = any(call is public or hasattr(call, "required_roles") for call in calls)
        if not guarded:
            unguarded.append(f"{sorted(route.methods)} {route.path}")
    assert unguarded == []


def test_every_form_post_page_checks_csrf(app: FastAPI) -> None:
    """State-changing pages (non-API POSTs) verify the CSRF token."""
    missing = []
    for route in _walk(app.routes):
        if "POST" not in route.methods:
            continue
        # APIs take bearer tokens; the OAuth endpoints authenticate the client itself.
        if route.path.startswith("/api/") or route.path in {"/id/par", "/id/token"}:
            continue
        if verify_csrf not in _dependency_calls(route):
            missing.append(route.path)
    assert missing == []


def test_audit_entries_name_the_principal_of_a_guarded_sync_endpoint(app: FastAPI) -> None:
    """The actor set by the role check reaches a plain (thread-pool) endpoint."""
    from smartnation.core.audit import current_actor
    from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal, require_role

    router = APIRouter()

    @router.get("/test-login", dependencies=[Depends(public)])
    def login(request: Request) -> dict[str, str]:
        principal = Principal("person", "officer-9", "Officer", frozenset({"registry.read"}))
        request.session[PRINCIPAL_SESSION_KEY] = principal.to_session()
        return {"ok": "yes"}

    @router.get("/test-actor", dependencies=[Depends(require_role("registry.read"))])
    def actor() -> dict[str, str]:
        return {"actor": current_actor.get()}

    app.include_router(router)
    with TestClient(app) as client:
        client.get("/test-login")
        assert client.get("/test-actor").json() == {"actor": "person:officer-9"}


@pytest.mark.parametrize("language", ["en", "zh", "ms", "ta"])
def test_every_public_page_without_parameters_renders(
    app: FastAPI, client: TestClient, language: str
) -> None:
    """Each public GET page a visitor can open straight away answers, in every language."""
    pages = [
        route.path
        for route in _walk(app.routes)
        if "GET" in route.methods
        and "{" not in route.path
        and not route.path.startswith(("/api/", "/id/"))
        and public in _dependency_calls(route)
    ]
    assert {"/", "/accessibility"} <= set(pages)
    client.cookies.set(LANGUAGE_COOKIE, language)
    failing = {}
    for path in pages:
        response = client.get(path, follow_redirects=False)
        if response.status_code >= 500:
            failing[path] = response.status_code
    assert failing == {}


def test_plain_endpoints_get_as_many_threads_as_there_are_connections(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        assert client.portal is not None
        tokens = client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens)
    assert tokens == app.state.settings.database.pool_size


def test_a_commit_never_waits_for_the_threads_endpoints_hold(app) -> None:  # type: ignore[no-untyped-def]
    # Endpoints' threads all busy (as when each waits for a connection that a finished request
    # still holds until its commit): the commit must still go through, on threads of its own.
    @app.get("/test-commit", dependencies=[Depends(public)])
    async def commit_something(session: DbSession) -> dict[str, bool]:
        session.execute(text("SELECT 1"))  # begins a transaction: the answer waits for its commit
        return {"committed": True}

    app.router.routes.insert(0, app.router.routes.pop())
    with TestClient(app) as client:
        assert client.portal is not None
        limiter = client.portal.call(to_thread.current_default_thread_limiter)
        borrowers = [object() for _ in range(int(limiter.total_tokens))]
        for borrower in borrowers:
            client.portal.call(limiter.acquire_on_behalf_of_nowait, borrower)
        answers: list[Any] = []
        request = threading.Thread(target=lambda: answers.append(client.get("/test-commit")))
        request.start()
        try:
            request.join(timeout=20)  # before, it waited here until the tokens came back
            assert answers, "the commit waited for a thread the endpoints hold"
        finally:
            for borrower in borrowers:
                client.portal.call(limiter.release_on_behalf_of, borrower)
            request.join()
        assert answers[0].status_code == 200, answers[0].text
        assert answers[0].json() == {"committed": True}

"""The path gates in front of each router choose exactly what FastAPI's own matching chooses."""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.routing import Match

from smartnation.app import create_app
from smartnation.core.config import Settings
from smartnation.core.web.routing import gate_of


@pytest.fixture(scope="module")
def whole_app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    folder = tmp_path_factory.mktemp("routing")
    return create_app(Settings.model_validate({"database": {"url": f"sqlite:///{folder}/r.db"}}))


def _scope(path: str, method: str = "GET") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _first_match(app: FastAPI, path: str, method: str, *, gated: bool) -> tuple[int, Match]:
    """Index and kind of the route Starlette would pick (FULL first, else the first PARTIAL)."""
    partial = None
    for index, route in enumerate(app.router.routes):
        scope = _scope(path, method)
        if gated:
            match, _ = route.matches(scope)
        else:
            match, _ = type(route).matches(route, scope)  # FastAPI's own, without the gate
        if match == Match.FULL:
            return index, match
        if match == Match.PARTIAL and partial is None:
            partial = index
    return (partial, Match.PARTIAL) if partial is not None else (-1, Match.NONE)


def _all_paths(app: FastAPI) -> list[str]:
    paths = []
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            for context in route.effective_route_contexts():
                paths.append(re.sub(r"\{[^}:]+(:path)?\}", "x1", context.path_format))
    return paths


def test_every_domain_router_is_gated(whole_app: FastAPI) -> None:
    included = [r for r in whole_app.router.routes if isinstance(r, _IncludedRouter)]
    assert len(included) >= 10  # every domain's API and pages
    assert all(gate_of(r) is not None for r in included), "a FastAPI upgrade dropped the gates"


def test_gated_matching_equals_fastapi_matching_on_every_route(whole_app: FastAPI) -> None:
    for path in _all_paths(whole_app):
        for variant in {path, path.rstrip("/") or "/", path + "/", path + "/more"}:
            for method in ("GET", "POST", "DELETE"):
                assert _first_match(whole_app, variant, method, gated=True) == _first_match(
                    whole_app, variant, method, gated=False
                ), (variant, method)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["api", "v1", "id", "appointments", "x", "", "{", "%20", "auth", "token"]),
        max_size=5,
    )
)
def test_gated_matching_equals_fastapi_matching_on_odd_paths(
    whole_app: FastAPI, parts: list[str]
) -> None:
    path = "/" + "/".join(parts)
    assert _first_match(whole_app, path, "GET", gated=True) == _first_match(
        whole_app, path, "GET", gated=False
    )


def test_requests_still_reach_routes_and_slash_redirects(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/id/.well-known/openid-configuration").status_code == 200
    assert client.get("/no/such/page").status_code == 404
    assert client.put("/healthz").status_code == 405

"""Route matching by path prefix: a request is tried only against the routers that could match it.

FastAPI tries routes one by one, and each included router re-checks its routes through several
layers of scope bookkeeping: about 3 µs a route, twice (once to find the router, once inside
it). With every domain's pages and APIs in one application, a request for a route near the end
of the table spent about half a millisecond of CPU just being matched, more than the rest of a
simple request. Each included router is therefore given a gate: the exact paths of its routes
without parameters and the fixed beginnings of those with parameters. A path that fits none is
refused at once; one that fits is matched by FastAPI exactly as before, so 404, 405 and the
redirect to the path with or without its trailing slash behave as they always did.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette._utils import get_route_path
from starlette.routing import Match
from starlette.types import Scope

try:  # the router FastAPI keeps for each include_router(); absent in other versions
    from fastapi.routing import _IncludedRouter
except ImportError:  # pragma: no cover - depends on the installed FastAPI
    _IncludedRouter = None  # type: ignore[assignment,misc]


def _gate(paths: list[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    exact = frozenset(p for p in paths if "{" not in p)
    prefixes = tuple(sorted({p.split("{", 1)[0] for p in paths if "{" in p}))
    return exact, prefixes


def gate_routers_by_prefix(app: FastAPI) -> int:
    """Put a path gate in front of each router included in `app`; returns how many were gated."""
    if _IncludedRouter is None:
        return 0
    gated = 0
    for route in app.router.routes:
        if not isinstance(route, _IncludedRouter):
            continue
        paths = [context.path_format for context in route.effective_route_contexts()]
        if not paths or list(route.effective_low_priority_routes()):
            continue  # nothing to gate on, or routes matched by other rules
        exact, prefixes = _gate(paths)
        route.matches = _gated(route.matches, exact, prefixes)  # type: ignore[method-assign,assignment]
        gated += 1
    return gated


def _gated(
    matches: Callable[[Scope], tuple[Match, Scope]],
    exact: frozenset[str],
    prefixes: tuple[str, ...],
) -> Callable[[Scope], tuple[Match, Scope]]:
    def gated_matches(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            path = get_route_path(scope)
            if path not in exact and not path.startswith(prefixes):
                return Match.NONE, {}
        return matches(scope)

    gated_matches.gate = (exact, prefixes)  # type: ignore[attr-defined]
    return gated_matches


def gate_of(route: Any) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """The gate in front of an included router, if it has one (for tests)."""
    return getattr(getattr(route, "matches", None), "gate", None)

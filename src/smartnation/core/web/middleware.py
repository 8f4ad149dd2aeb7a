"""Middleware: security headers, the request's language, and request metrics."""

from __future__ import annotations

import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartnation.core import i18n
from smartnation.core.audit import current_actor
from smartnation.core.metrics import HTTP_LATENCY, HTTP_REQUESTS

LANGUAGE_COOKIE = "lang"

SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# The interactive API docs load their own scripts inline; they get a looser policy.
DOCS_PATHS = ("/api/docs", "/api/redoc")


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                cookie_name, _, cookie_value = part.strip().partition("=")
                if cookie_name == name:
                    return str(cookie_value)
    return None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_name(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class PlatformMiddleware:
    """Sets the request's language, resets the actor, adds security headers, counts requests."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = _cookie(scope, LANGUAGE_COOKIE)
        language = (
            chosen
            if chosen in i18n.LANGUAGE_CODES
            else i18n.negotiate(_header(scope, b"accept-language"))
        )
        language_token = i18n.current_language.set(language)
        actor_token = current_actor.set("anonymous")
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}
        is_docs = str(scope.get("path", "")).startswith(DOCS_PATHS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                present = {key.lower() for key, _ in headers}
                for key, value in SECURITY_HEADERS:
                    if key == b"content-security-policy" and is_docs:
                        continue
                    if key not in present:
                        headers.append((key, value))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                headers.append((b"content-language", language.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            i18n.current_language.reset(language_token)
            current_actor.reset(actor_token)
            route = _route_name(scope)
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(method, route, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)

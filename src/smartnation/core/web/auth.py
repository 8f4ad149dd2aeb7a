"""Who is asking, and whether they may. Every route is either declared public or checks a role.

People are identified by the signed session cookie set at login (the identity domain fills it);
machine clients by a bearer API token. A whole-application test walks every route and fails when
one has neither `public` nor `require_role` among its dependencies.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.concurrency import run_in_threadpool

from smartnation.core.audit import current_actor, record
from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime
from smartnation.core.errors import NotAllowed, NotAuthenticated
from smartnation.core.i18n import N_
from smartnation.core.web.deps import get_database

PRINCIPAL_SESSION_KEY = "principal"


@dataclass(frozen=True)
class Principal:
    """An authenticated person or machine client and the roles it holds."""

    kind: str  # "person" or "client"
    id: str
    name: str
    roles: frozenset[str] = field(default_factory=frozenset)
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"

    def has_role(self, role: str) -> bool:
        return role in self.roles or "platform.admin" in self.roles

    def to_session(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "name": self.name,
            "roles": sorted(self.roles),
            "attributes": self.attributes,
        }

    @classmethod
    def from_session(cls, data: dict[str, Any]) -> Principal:
        return cls(
            kind=data["kind"],
            id=data["id"],
            name=data.get("name", ""),
            roles=frozenset(data.get("roles", [])),
            attributes=data.get("attributes", {}),
        )


class ApiToken(Base):
    """A bearer token for a machine client (another agency's system); only its hash is kept."""

    __tablename__ = "core_api_token"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(session: Session, name: str, roles: list[str]) -> str:
    """Create a token for a machine client; the secret is returned once and never stored."""
    secret = "sn_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, token_hash=_hash_token(secret), roles=sorted(roles))
    token.created_at = utcnow()
    session.add(token)
    session.flush()
    record(
        session,
        "core.api_token.issued",
        subject_type="api_token",
        subject_id=token.id,
        details={"name": name, "roles": sorted(roles)},
    )
    return secret


# Verified tokens are remembered for this long by each process, so a busy API client costs one
# token lookup per process every half minute instead of one per request. A revoked token is
# therefore refused by every process within this time.
TOKEN_CACHE_SECONDS = 30.0
_TOKEN_CACHE_LIMIT = 10_000


@dataclass
class _TokenCache:
    entries: dict[str, tuple[float, Principal]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, token_hash: str) -> Principal | None:
        entry = self.entries.get(token_hash)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token_hash: str, principal: Principal) -> None:
        with self.lock:
            if len(self.entries) >= _TOKEN_CACHE_LIMIT:
                self.entries.clear()  # only ever full of valid tokens; start again
            self.entries[token_hash] = (time.monotonic() + TOKEN_CACHE_SECONDS, principal)


def _token_cache(request: Request) -> _TokenCache:
    state = request.app.state
    cache = getattr(state, "api_token_cache", None)
    if cache is None:
        cache = state.api_token_cache = _TokenCache()
    return cache


def _principal_from_bearer(request: Request, header: str) -> Principal | None:
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.startswith("sn_"):
        return None
    token_hash = _hash_token(secret.strip())
    cache = _token_cache(request)
    cached = cache.get(token_hash)
    if cached is not None:
        return cached
    with get_database(request).sessions() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))
        if token is None or token.revoked_at is not None:
            return None
        principal = Principal("client", str(token.id), token.name, frozenset(token.roles))
    cache.put(token_hash, principal)
    return principal


def current_principal(request: Request) -> Principal | None:
    """The person or client making this request, if any."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    principal: Principal | None = None
    header = request.headers.get("authorization")
    if header:
        principal = _principal_from_bearer(request, header)
    elif "session" in request.scope:
        data = request.session.get(PRINCIPAL_SESSION_KEY)
        if isinstance(data, dict):
            principal = Principal.from_session(data)
    request.state.principal = principal
    if principal is not None:
        current_actor.set(principal.actor)
    return principal


async def public() -> None:
    """Marks a route as open to everyone. Its presence is what the route-guard test looks for.

    A coroutine, so that FastAPI runs it inline instead of handing it to the thread pool.
    """


def require_role(*roles: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting a principal with any of `roles` (none given: anyone logged in)."""

    async def check(request: Request) -> Principal:
        # A coroutine, so the actor is set in the request's own context: a plain function would
        # run in a thread pool copy, and audit entries written by the endpoint would not see it.
        principal = await run_in_threadpool(current_principal, request)
        if principal is None:
            raise NotAuthenticated(N_("Log in to continue."), login_url="/login")
        if roles and not any(principal.has_role(role) for role in roles):
            raise NotAllowed(N_("Your account does not have the role needed for this."))
        current_actor.set(principal.actor)
        return principal

    check.required_roles = roles  # type: ignore[attr-defined]
    return check


def require_login() -> Callable[[Request], Awaitable[Principal]]:
    return require_role()


Public = Depends(public)
Anyone = Annotated[Principal, Depends(require_login())]

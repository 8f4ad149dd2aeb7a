"""Route dependencies that check a role and make the principal the audit actor.

`core.web.auth.require_role` runs as a sync dependency in a worker thread, so the actor it sets
does not reach the endpoint's own thread. This async wrapper runs in the request's task after the
check and sets `core.audit.current_actor` there, which the endpoint's thread then inherits, so
every audit entry written by the tracing services names the officer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends

from smartnation.core.audit import current_actor
from smartnation.core.web.auth import Principal, require_role


def acting(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting a principal with any of `roles`, recorded as the acting party."""
    check = require_role(*roles)

    # A default rather than Annotated: with postponed annotations FastAPI could not see `check`.
    async def as_actor(principal: Principal = Depends(check)) -> Principal:  # noqa: B008
        current_actor.set(principal.actor)
        return principal

    return as_actor

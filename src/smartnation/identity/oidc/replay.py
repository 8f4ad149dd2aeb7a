"""Single-use values (client assertion jti, DPoP proof jti, authorisation codes).

The protocol core only asks one question, "is this the first time?", through :class:`ReplayGuard`.
The in-memory guard serves one process and tests; a shared store (database row with a unique
key, or Redis ``SET NX EX``) serves many processes behind a load balancer.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from smartnation.identity.oidc.clock import utc_now


class ReplayGuard(Protocol):
    def first_use(self, namespace: str, key: str, expires_at: datetime) -> bool:
        """Record ``key`` in ``namespace`` until ``expires_at``; True only the first time."""
        ...


class InMemoryReplayGuard:
    """A process-local ReplayGuard that forgets entries once they expire."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._seen: dict[tuple[str, str], datetime] = {}
        self._expiry: list[tuple[datetime, str, str]] = []
        self._lock = threading.Lock()

    def first_use(self, namespace: str, key: str, expires_at: datetime) -> bool:
        with self._lock:
            self._purge(self._clock())
            entry = (namespace, key)
            if entry in self._seen:
                return False
            self._seen[entry] = expires_at
            heapq.heappush(self._expiry, (expires_at, namespace, key))
            return True

    def _purge(self, now: datetime) -> None:
        while self._expiry and self._expiry[0][0] < now:
            expires_at, namespace, key = heapq.heappop(self._expiry)
            if self._seen.get((namespace, key)) == expires_at:
                del self._seen[(namespace, key)]

    def __len__(self) -> int:
        return len(self._seen)

"""State every fake provider shares: scripted faults per recipient, a rate cap, a record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from smartnation.messaging.channels.ratelimit import TokenBucket


@dataclass
class FakeProvider:
    """What a test or benchmark sets on a fake, and what the fake saw.

    `rate_per_second` caps accepted sends like the real provider (None: no cap); sends beyond
    get the provider's own throttling answer. The per-recipient sets script one fault each.
    """

    rate_per_second: float | None = None
    # False in benchmarks: keeping millions of requests would measure the list, not the fake.
    record: bool = True
    # Sleep this long before answering (to outlast a client's timeout).
    delays: dict[str, float] = field(default_factory=dict)
    # Answer the provider's own "internal error" reply.
    server_errors: set[str] = field(default_factory=set)
    # Always answer the provider's rate-limit reply, whatever the cap.
    throttled: set[str] = field(default_factory=set)
    # Answer a bare HTTP status with a text body, as a proxy or load balancer in front would.
    bare_status: dict[str, int] = field(default_factory=dict)
    # Sent as Retry-After on rate-limit and bare answers when set.
    retry_after: float | None = None
    received: list[dict[str, Any]] = field(default_factory=list)
    # Client (host, port) pairs seen: how many connections the client really opened.
    peers: set[tuple[str, int]] = field(default_factory=set)
    accepted: int = 0
    rejected_for_rate: int = 0
    _cap: TokenBucket | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.rate_per_second:
            # A second's worth of burst: "N a second" as a provider counts it.
            self._cap = TokenBucket(self.rate_per_second, capacity=self.rate_per_second)

    def over_rate(self, recipient: str) -> bool:
        if recipient in self.throttled or (self._cap is not None and not self._cap.try_acquire()):
            self.rejected_for_rate += 1
            return True
        return False

    def retry_headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(int(self.retry_after))}

    def note_peer(self, request: Request) -> None:
        if self.record and request.client is not None:
            self.peers.add((request.client.host, request.client.port))

    async def scripted(self, recipient: str) -> Response | None:
        """Apply a scripted delay; return a bare-status reply if one is scripted."""
        delay = self.delays.get(recipient)
        if delay:
            await asyncio.sleep(delay)
        status = self.bare_status.get(recipient)
        if status is not None:
            return PlainTextResponse(
                f"{status} error from upstream", status_code=status, headers=self.retry_headers()
            )
        return None

    def keep(self, request: dict[str, Any]) -> None:
        self.accepted += 1
        if self.record:
            self.received.append(request)

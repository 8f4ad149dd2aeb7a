"""The embedded stand-in for every channel: messages land in an inbox instead of a provider.

This is the default when no provider is configured, so the platform runs with nothing set:
a developer inbox page can list what would have gone out. The inbox sits behind the small
`InboxStore` protocol so that it can be kept in the database; `InMemoryInboxStore` keeps it in
the process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from smartnation.messaging.channels.base import (
    BoundedChannel,
    ChannelKind,
    DeliveryStatus,
    OutboundMessage,
    SendPolicy,
    SendResult,
)


@dataclass(frozen=True, slots=True)
class InboxEntry:
    provider_message_id: str
    message: OutboundMessage
    received_at: datetime
    status: DeliveryStatus = DeliveryStatus.DELIVERED


class InboxStore(Protocol):
    async def put(self, entry: InboxEntry) -> InboxEntry:
        """Keep `entry`, or return the entry already kept under the same dedupe key."""
        ...

    async def get(self, provider_message_id: str) -> InboxEntry | None: ...

    async def recent(
        self,
        *,
        channel: ChannelKind | None = None,
        recipient: str | None = None,
        limit: int = 100,
    ) -> list[InboxEntry]:
        """Newest first."""
        ...


class InMemoryInboxStore:
    """An inbox in the process, keeping the newest `max_entries` (a long demo stays bounded)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._by_key: OrderedDict[tuple[ChannelKind, str], InboxEntry] = OrderedDict()
        self._by_id: dict[str, InboxEntry] = {}
        self._lock = asyncio.Lock()

    async def put(self, entry: InboxEntry) -> InboxEntry:
        key = (entry.message.channel, entry.message.dedupe_key)
        async with self._lock:
            existing = self._by_key.get(key)
            if existing is not None:
                return existing
            self._by_key[key] = entry
            self._by_id[entry.provider_message_id] = entry
            while len(self._by_key) > self.max_entries:
                _, oldest = self._by_key.popitem(last=False)
                self._by_id.pop(oldest.provider_message_id, None)
            return entry

    async def get(self, provider_message_id: str) -> InboxEntry | None:
        return self._by_id.get(provider_message_id)

    async def recent(
        self,
        *,
        channel: ChannelKind | None = None,
        recipient: str | None = None,
        limit: int = 100,
    ) -> list[InboxEntry]:
        found: list[InboxEntry] = []
        for entry in reversed(self._by_key.values()):
            if channel is not None and entry.message.channel is not channel:
                continue
            if recipient is not None and entry.message.recipient != recipient:
                continue
            found.append(entry)
            if len(found) >= limit:
                break
        return found


class LocalChannel(BoundedChannel):
    """Accepts every message for `kind` into `store`; a repeated dedupe key is not kept twice."""

    def __init__(
        self,
        kind: ChannelKind,
        store: InboxStore,
        policy: SendPolicy | None = None,
    ) -> None:
        # One class stands in for every channel.
        self.kind = kind
        self.store = store
        self.policy = policy or SendPolicy()

    async def send(self, message: OutboundMessage) -> SendResult:
        entry = InboxEntry(
            provider_message_id=f"local-{self.kind}-{uuid.uuid4().hex}",
            message=message,
            received_at=datetime.now(UTC),
        )
        kept = await self.store.put(entry)
        return SendResult.ok(message, kept.provider_message_id)

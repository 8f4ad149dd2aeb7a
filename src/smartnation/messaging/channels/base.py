"""The small interface every channel adapter implements, and the types it speaks.

An adapter turns an `OutboundMessage` into one provider request and the provider's answer into
a `SendResult`. It never raises for a provider's refusal or an unreachable provider: those come
back as a typed `Failure` so that a broadcast of a million messages is not stopped by one bad
number. Exceptions are kept for programming errors.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol, runtime_checkable

from smartnation.messaging.channels.ratelimit import TokenBucket


class ChannelKind(enum.StrEnum):
    WHATSAPP = "whatsapp"
    TELEGRAM = "telegram"
    SMS = "sms"
    EMAIL = "email"


class Language(enum.StrEnum):
    """The four official languages a subscriber may prefer."""

    EN = "en"
    ZH = "zh"
    MS = "ms"
    TA = "ta"


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to one recipient, already rendered for that recipient's language.

    `recipient` is an E.164 phone number (WhatsApp, SMS), a Telegram chat id, or an email
    address. A message carries a rendered `body`, a provider template (`template_name` with
    positional `template_parameters`, which WhatsApp requires outside the 24-hour customer
    window), or both; each adapter uses what its provider accepts.
    """

    message_id: str
    channel: ChannelKind
    recipient: str
    language: Language = Language.EN
    body: str | None = None
    template_name: str | None = None
    template_parameters: tuple[str, ...] = ()
    # Defaults to message_id; a campaign sets it to (campaign, recipient) so a retry after a
    # crash can be recognised as the same send.
    idempotency_key: str | None = None
    subject: str | None = None
    html_body: str | None = None
    unsubscribe_url: str | None = None
    unsubscribe_mailto: str | None = None

    def __post_init__(self) -> None:
        if self.body is None and self.template_name is None:
            raise ValueError("an outbound message needs a body or a template name")
        if not self.recipient:
            raise ValueError("an outbound message needs a recipient")

    @property
    def dedupe_key(self) -> str:
        return self.idempotency_key or self.message_id


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a provider did not accept a message: its own code and words, kept for operators."""

    code: str
    text: str
    # Whether sending the same message again later may succeed.
    retryable: ClassVar[bool] = False


@dataclass(frozen=True, slots=True)
class RateLimited(Failure):
    """The provider refused because we are over a rate; nothing was sent."""

    retry_after: float = 1.0
    retryable: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class InvalidRecipient(Failure):
    """The address cannot receive on this channel (not registered, blocked us, opted out)."""


@dataclass(frozen=True, slots=True)
class TemporaryFailure(Failure):
    """A fault that may pass: provider 5xx, timeout, connection reset.

    `ambiguous` is true when the request may have reached the provider (the reply was lost),
    so a retry might deliver twice; the dispatcher decides whether that is acceptable.
    """

    ambiguous: bool = False
    retryable: ClassVar[bool] = True


@dataclass(frozen=True, slots=True)
class PermanentFailure(Failure):
    """A refusal that will repeat: bad credentials, unknown template, malformed request."""


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    provider_message_id: str | None = None
    failure: Failure | None = None

    @property
    def accepted(self) -> bool:
        return self.failure is None

    @classmethod
    def ok(cls, message: OutboundMessage, provider_message_id: str) -> SendResult:
        return cls(message.message_id, provider_message_id)

    @classmethod
    def failed(cls, message: OutboundMessage, failure: Failure) -> SendResult:
        return cls(message.message_id, None, failure)


class DeliveryStatus(enum.StrEnum):
    """Where a message is. Values only move forward: queued < sent < delivered < read.

    `failed` is terminal. It can be entered only before delivery: a failure reported after a
    device has the message (several devices, reordered callbacks) does not undo delivery.
    """

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def is_final(self) -> bool:
        return self in (DeliveryStatus.READ, DeliveryStatus.FAILED)


_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENT: 1,
    DeliveryStatus.DELIVERED: 2,
    DeliveryStatus.READ: 3,
}


def advance(current: DeliveryStatus, new: DeliveryStatus) -> DeliveryStatus:
    """The status after a report of `new` arrives for a message that is at `current`.

    Providers deliver callbacks out of order and more than once, so a report that would move
    a message backwards, or out of a final state, is ignored rather than applied.
    """
    if current is DeliveryStatus.FAILED:
        return current
    if new is DeliveryStatus.FAILED:
        return new if current.rank < DeliveryStatus.DELIVERED.rank else current
    return new if new.rank > current.rank else current


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One provider report about one message, parsed from a status webhook or callback."""

    channel: ChannelKind
    provider_message_id: str
    status: DeliveryStatus
    occurred_at: datetime
    recipient: str | None = None
    # Our own message id when the provider echoes it back (WhatsApp biz_opaque_callback_data).
    message_id: str | None = None
    error_code: str | None = None
    error_text: str | None = None


class InvalidSignature(Exception):
    """A webhook whose signature is missing or does not match its body: reject it (403)."""


class MalformedWebhook(ValueError):
    """A signed webhook whose body is not the provider's format: answer 400 so it is retried."""


@runtime_checkable
class Channel(Protocol):
    """What the dispatcher needs from a channel: send one, send many, close."""

    kind: ChannelKind

    async def send(self, message: OutboundMessage) -> SendResult: ...

    async def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult]: ...

    async def aclose(self) -> None: ...


@dataclass
class SendPolicy:
    """How `send_many` paces a batch: in-flight bound, provider rate, rate-limit retries."""

    concurrency: int = 64
    limiter: TokenBucket | None = None
    # A provider's rate-limit answer means nothing was sent, so retrying is always safe.
    rate_limit_retries: int = 3
    max_retry_after: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)


async def send_bounded(
    send: Callable[[OutboundMessage], Awaitable[SendResult]],
    messages: Sequence[OutboundMessage],
    policy: SendPolicy,
) -> list[SendResult]:
    """Send every message with at most `policy.concurrency` in flight; results keep order.

    A fixed pool of workers pulls from one iterator instead of one task per message, so a
    batch of a million costs `concurrency` tasks, not a million.
    """
    results: list[SendResult | None] = [None] * len(messages)
    pending = iter(enumerate(messages))

    async def worker() -> None:
        # next() on a shared iterator is safe: workers only switch at awaits.
        for index, message in pending:
            results[index] = await _send_with_retries(send, message, policy)

    workers = max(1, min(policy.concurrency, len(messages)))
    async with asyncio.TaskGroup() as group:
        for _ in range(workers):
            group.create_task(worker())
    return [result for result in results if result is not None]


async def _send_with_retries(
    send: Callable[[OutboundMessage], Awaitable[SendResult]],
    message: OutboundMessage,
    policy: SendPolicy,
) -> SendResult:
    attempt = 0
    while True:
        if policy.limiter is not None:
            await policy.limiter.acquire()
        result = await send(message)
        failure = result.failure
        if not isinstance(failure, RateLimited) or attempt >= policy.rate_limit_retries:
            return result
        attempt += 1
        wait = min(failure.retry_after, policy.max_retry_after)
        if policy.limiter is not None:
            # Every worker shares the bucket, so pausing it slows the whole batch at once.
            policy.limiter.pause(wait)
        else:
            await policy.sleep(wait)


class BoundedChannel:
    """Gives an adapter `send_many` from its `send` and a `SendPolicy`."""

    kind: ChannelKind
    policy: SendPolicy

    async def send(self, message: OutboundMessage) -> SendResult:
        raise NotImplementedError

    async def send_many(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        return await send_bounded(self.send, messages, self.policy)

    async def aclose(self) -> None:
        return None

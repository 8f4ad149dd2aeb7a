"""Handing queued messages to their channel's adapter and recording what the provider said."""

from __future__ import annotations

import asyncio
import threading
from functools import cache

from smartnation.messaging.channels.base import (
    Channel,
    ChannelKind,
    InvalidRecipient,
    Language,
    OutboundMessage,
    PermanentFailure,
    SendResult,
)
from smartnation.messaging.channels.config import MessagingSettings, build_channels
from smartnation.messaging.models import Message


class RetryLater(RuntimeError):
    """The provider could not take the message now (rate limit, outage); the job retries."""


@cache
def channels() -> dict[ChannelKind, Channel]:
    """The configured adapters of this process (real providers or the local stand-in)."""
    return build_channels(MessagingSettings())


def outbound(message: Message) -> OutboundMessage:
    return OutboundMessage(
        message_id=str(message.id),
        channel=ChannelKind(message.channel),
        recipient=message.recipient,
        language=Language(message.language),
        body=message.body,
        subject=message.subject,
        idempotency_key=message.idempotency_key,
    )


@cache
def _loop() -> asyncio.AbstractEventLoop:
    # One event loop for the process's adapters: their HTTP connection pools belong to it.
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="messaging-io", daemon=True).start()
    return loop


def send_now(message: Message, timeout: float = 60.0) -> SendResult:
    """Send one message through its channel; returns the provider's answer."""
    adapter = channels()[ChannelKind(message.channel)]
    future = asyncio.run_coroutine_threadsafe(adapter.send(outbound(message)), _loop())
    return future.result(timeout)


def is_permanent(result: SendResult) -> bool:
    return isinstance(result.failure, (InvalidRecipient, PermanentFailure)) or (
        result.failure is not None and not result.failure.retryable
    )

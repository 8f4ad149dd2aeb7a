import pytest

from smartnation.messaging.channels.base import (
    ChannelKind,
    InvalidRecipient,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
)
from smartnation.messaging.channels.fakes.telegram_server import FakeTelegram
from smartnation.messaging.channels.telegram import TelegramBotChannel

from .conftest import Running

pytestmark = pytest.mark.anyio

CHAT = "987654321"


def channel_for(running: Running[FakeTelegram], **kwargs) -> TelegramBotChannel:
    kwargs.setdefault("bot_token", running.fake.bot_token)
    return TelegramBotChannel(base_url=running.url, **kwargs)


def text(body: str | None = "Vaccination slots open tomorrow", chat: str = CHAT):
    if body is None:
        return OutboundMessage("t1", ChannelKind.TELEGRAM, chat, template_name="x")
    return OutboundMessage("t1", ChannelKind.TELEGRAM, chat, body=body)


async def send(running, message, **kwargs):
    channel = channel_for(running, **kwargs)
    try:
        return await channel.send(message)
    finally:
        await channel.aclose()


async def test_send_message_posts_chat_id_and_text(telegram_fake):
    result = await send(telegram_fake, text(), parse_mode="HTML")
    assert result.accepted
    assert result.provider_message_id == f"{CHAT}:1"
    assert telegram_fake.fake.received == [
        {
            "chat_id": CHAT,
            "text": "Vaccination slots open tomorrow",
            "link_preview_options": {"is_disabled": True},
            "parse_mode": "HTML",
        }
    ]


async def test_flood_control_429_carries_retry_after(telegram_fake):
    telegram_fake.fake.throttled.add(CHAT)
    telegram_fake.fake.flood_wait_seconds = 17
    result = await send(telegram_fake, text())
    assert isinstance(result.failure, RateLimited)
    assert result.failure.retry_after == 17.0
    assert result.failure.text == "Too Many Requests: retry after 17"


async def test_unknown_chat_is_an_invalid_recipient(telegram_fake):
    telegram_fake.fake.known_chats = {"1"}
    result = await send(telegram_fake, text())
    assert isinstance(result.failure, InvalidRecipient)
    assert result.failure.text == "Bad Request: chat not found"


async def test_a_user_who_blocked_the_bot_is_an_invalid_recipient(telegram_fake):
    telegram_fake.fake.blocked.add(CHAT)
    result = await send(telegram_fake, text())
    assert isinstance(result.failure, InvalidRecipient)
    assert result.failure.code == "403"


async def test_server_errors_are_temporary(telegram_fake):
    telegram_fake.fake.server_errors.add(CHAT)
    result = await send(telegram_fake, text())
    assert isinstance(result.failure, TemporaryFailure)


async def test_a_bare_502_is_temporary(telegram_fake):
    telegram_fake.fake.bare_status[CHAT] = 502
    result = await send(telegram_fake, text())
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "502"


async def test_a_timeout_is_temporary_and_does_not_leak_the_token(telegram_fake):
    telegram_fake.fake.delays[CHAT] = 0.5
    result = await send(telegram_fake, text(), timeout=0.1)
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.ambiguous
    assert telegram_fake.fake.bot_token not in result.failure.text


async def test_a_wrong_token_is_permanent(telegram_fake):
    result = await send(telegram_fake, text(), bot_token="1:wrong")
    assert isinstance(result.failure, PermanentFailure)
    assert result.failure.code == "401"


async def test_a_message_without_a_body_is_refused_before_any_request(telegram_fake):
    result = await send(telegram_fake, text(None))
    assert isinstance(result.failure, PermanentFailure)
    assert telegram_fake.fake.received == []


async def test_an_overlong_text_is_refused_before_any_request(telegram_fake):
    result = await send(telegram_fake, text("x" * 4097))
    assert isinstance(result.failure, PermanentFailure)
    assert result.failure.code == "too-long"

import socket

import pytest

from smartnation.messaging.channels.base import (
    ChannelKind,
    InvalidRecipient,
    Language,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    SendPolicy,
    TemporaryFailure,
)
from smartnation.messaging.channels.fakes.server import LeanServerThread, ServerThread
from smartnation.messaging.channels.fakes.whatsapp_server import FakeWhatsApp
from smartnation.messaging.channels.ratelimit import TokenBucket
from smartnation.messaging.channels.whatsapp import WhatsAppCloudChannel

from .conftest import Running

pytestmark = pytest.mark.anyio

RECIPIENT = "+6581234567"


def channel_for(
    running: Running[FakeWhatsApp], *, timeout: float = 5.0, **kwargs
) -> WhatsAppCloudChannel:
    return WhatsAppCloudChannel(
        phone_number_id=running.fake.phone_number_id,
        access_token=running.fake.access_token,
        base_url=running.url,
        api_version="v23.0",
        timeout=timeout,
        **kwargs,
    )


def template_message(
    recipient: str = RECIPIENT, language: Language = Language.EN, n: int = 1
) -> OutboundMessage:
    return OutboundMessage(
        message_id=f"msg-{n}",
        channel=ChannelKind.WHATSAPP,
        recipient=recipient,
        language=language,
        template_name="covid_update",
        template_parameters=("Tan Ah Kow", "12 May"),
    )


async def test_template_send_is_the_cloud_api_shape_and_returns_the_wamid(whatsapp_fake):
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert result.accepted
    assert result.provider_message_id is not None
    assert result.provider_message_id.startswith("wamid.")
    assert whatsapp_fake.fake.received == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": RECIPIENT,
            "biz_opaque_callback_data": "msg-1",
            "type": "template",
            "template": {
                "name": "covid_update",
                "language": {"code": "en"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Tan Ah Kow"},
                            {"type": "text", "text": "12 May"},
                        ],
                    }
                ],
            },
        }
    ]


@pytest.mark.parametrize(
    ("language", "code"),
    [(Language.EN, "en"), (Language.ZH, "zh_CN"), (Language.MS, "ms"), (Language.TA, "ta")],
)
async def test_each_language_uses_its_template_language_code(whatsapp_fake, language, code):
    whatsapp_fake.fake.templates = {"covid_update": {"en": 2, "zh_CN": 2, "ms": 2, "ta": 2}}
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message(language=language))
    finally:
        await channel.aclose()
    assert result.accepted
    assert whatsapp_fake.fake.received[0]["template"]["language"] == {"code": code}


async def test_a_plain_body_goes_as_a_text_message(whatsapp_fake):
    channel = channel_for(whatsapp_fake)
    message = OutboundMessage("m9", ChannelKind.WHATSAPP, RECIPIENT, body="Stay safe")
    try:
        result = await channel.send(message)
    finally:
        await channel.aclose()
    assert result.accepted
    sent = whatsapp_fake.fake.received[0]
    assert sent["type"] == "text"
    assert sent["text"] == {"preview_url": False, "body": "Stay safe"}


async def test_throughput_error_130429_is_rate_limited_with_a_one_second_hint(whatsapp_fake):
    whatsapp_fake.fake.throttled.add(RECIPIENT)
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    failure = result.failure
    assert isinstance(failure, RateLimited)
    assert failure.code == "130429"
    assert failure.retry_after == 1.0
    assert "throughput" in failure.text


async def test_retry_after_header_wins_over_the_default_hint(whatsapp_fake):
    whatsapp_fake.fake.throttled.add(RECIPIENT)
    whatsapp_fake.fake.retry_after = 7
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, RateLimited)
    assert result.failure.retry_after == 7.0


async def test_a_bare_http_429_from_a_proxy_is_rate_limited(whatsapp_fake):
    whatsapp_fake.fake.bare_status[RECIPIENT] = 429
    whatsapp_fake.fake.retry_after = 3
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, RateLimited)
    assert result.failure.code == "http-429"
    assert result.failure.retry_after == 3.0


@pytest.mark.parametrize("code", ["131026", "131030"])
async def test_undeliverable_and_not_allowed_recipients_are_invalid(whatsapp_fake, code):
    if code == "131026":
        whatsapp_fake.fake.undeliverable.add(RECIPIENT)
    else:
        whatsapp_fake.fake.allowed_recipients = {"+6590000000"}
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, InvalidRecipient)
    assert result.failure.code == code


async def test_provider_500_is_temporary(whatsapp_fake):
    whatsapp_fake.fake.server_errors.add(RECIPIENT)
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "131000"


async def test_a_bare_502_without_json_is_temporary(whatsapp_fake):
    whatsapp_fake.fake.bare_status[RECIPIENT] = 502
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "http-502"


async def test_a_timeout_is_temporary_and_ambiguous(whatsapp_fake):
    whatsapp_fake.fake.delays[RECIPIENT] = 0.5
    channel = channel_for(whatsapp_fake, timeout=0.1)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "timeout"
    # The provider may have accepted it before the reply was lost.
    assert result.failure.ambiguous


async def test_a_refused_connection_is_temporary_and_certainly_not_sent():
    # Bound but not listening: connections are refused, and no one else can take the port.
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        channel = WhatsAppCloudChannel(
            phone_number_id="1", access_token="t", base_url=f"http://127.0.0.1:{port}"
        )
        try:
            result = await channel.send(template_message())
        finally:
            await channel.aclose()
    assert isinstance(result.failure, TemporaryFailure)
    assert not result.failure.ambiguous


async def test_a_bad_token_is_permanent(whatsapp_fake):
    channel = WhatsAppCloudChannel(
        phone_number_id=whatsapp_fake.fake.phone_number_id,
        access_token="wrong",
        base_url=whatsapp_fake.url,
    )
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, PermanentFailure)
    assert result.failure.code == "190"


@pytest.mark.parametrize(
    ("templates", "code"),
    [({"other": {"en": 2}}, "132001"), ({"covid_update": {"en": 1}}, "132000")],
)
async def test_template_errors_are_permanent(whatsapp_fake, templates, code):
    whatsapp_fake.fake.templates = templates
    channel = channel_for(whatsapp_fake)
    try:
        result = await channel.send(template_message())
    finally:
        await channel.aclose()
    assert isinstance(result.failure, PermanentFailure)
    assert result.failure.code == code


async def test_send_many_mixes_outcomes_and_keeps_order(whatsapp_fake):
    whatsapp_fake.fake.undeliverable.add("+6580000002")
    channel = channel_for(whatsapp_fake, policy=SendPolicy(concurrency=4))
    messages = [template_message(f"+658000000{n}", n=n) for n in range(6)]
    try:
        results = await channel.send_many(messages)
    finally:
        await channel.aclose()
    assert [r.message_id for r in results] == [m.message_id for m in messages]
    assert [r.accepted for r in results] == [True, True, False, True, True, True]
    assert whatsapp_fake.fake.accepted == 5


async def test_connections_are_kept_alive_and_bounded_by_concurrency(whatsapp_fake):
    channel = channel_for(whatsapp_fake, policy=SendPolicy(concurrency=3))
    messages = [template_message(f"+65{8000000 + n}", n=n) for n in range(30)]
    try:
        results = await channel.send_many(messages)
    finally:
        await channel.aclose()
    assert all(r.accepted for r in results)
    assert 1 <= len(whatsapp_fake.fake.peers) <= 3


async def test_send_many_holds_a_capped_provider_without_losing_a_message():
    fake = FakeWhatsApp(rate_per_second=200)
    with ServerThread(fake.app()) as server:
        running = Running(fake, server.url)
        # The bucket's burst is small so that no second sees more than the cap.
        channel = channel_for(
            running, policy=SendPolicy(concurrency=32, limiter=TokenBucket(190, capacity=5))
        )
        messages = [template_message(f"+65{8000000 + n}", n=n) for n in range(300)]
        try:
            results = await channel.send_many(messages)
        finally:
            await channel.aclose()
    assert all(r.accepted for r in results)
    assert fake.accepted == 300
    assert fake.rejected_for_rate == 0


async def test_send_many_without_a_limiter_recovers_from_throttling_by_retrying():
    # A cap far below what one client sends, so throttling is certain.
    fake = FakeWhatsApp(rate_per_second=20)
    with ServerThread(fake.app()) as server:
        running = Running(fake, server.url)
        channel = channel_for(running, policy=SendPolicy(concurrency=16, rate_limit_retries=10))
        messages = [template_message(f"+65{8000000 + n}", n=n) for n in range(50)]
        try:
            results = await channel.send_many(messages)
        finally:
            await channel.aclose()
    assert all(r.accepted for r in results)
    assert fake.accepted == 50
    assert fake.rejected_for_rate > 0


async def test_the_bare_stand_in_answers_as_the_starlette_one_does():
    # The benchmarks' stand-in: the same provider logic behind a server with no framework.
    fake = FakeWhatsApp(rate_per_second=3)
    fake.undeliverable.add("+6580000009")
    with LeanServerThread(fake.lean_handler) as server:
        running = Running(fake, server.url)
        channel = channel_for(running, policy=SendPolicy(concurrency=4, rate_limit_retries=0))
        wrong = WhatsAppCloudChannel(
            phone_number_id=fake.phone_number_id, access_token="wrong", base_url=server.url
        )
        try:
            undeliverable = await channel.send(template_message("+6580000009", n=9))
            results = await channel.send_many(
                [template_message(f"+658000000{n}", n=n) for n in range(8)]
            )
            refused = await wrong.send(template_message())
        finally:
            await channel.aclose()
            await wrong.aclose()
    assert isinstance(undeliverable.failure, InvalidRecipient)
    codes = [r.failure.code if r.failure else "ok" for r in results]
    # A burst of 8 against a cap of 3 a second: the rest are throttled, as Meta does.
    assert 1 <= codes.count("ok") <= 4 and codes.count("130429") == 8 - codes.count("ok")
    assert all(r.provider_message_id.startswith("wamid.") for r in results if r.accepted)
    assert fake.accepted == codes.count("ok")
    assert isinstance(refused.failure, PermanentFailure)
    assert refused.failure.code == "190"

from datetime import UTC, datetime

import pytest

from smartnation.messaging.channels.base import (
    ChannelKind,
    DeliveryStatus,
    InvalidRecipient,
    InvalidSignature,
    MalformedWebhook,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
)
from smartnation.messaging.channels.fakes.twilio_server import FakeTwilio
from smartnation.messaging.channels.sms import (
    TwilioSmsChannel,
    compute_signature,
    parse_status_callback,
    parse_verified_status_callback,
    verify_signature,
)

from .conftest import Running

pytestmark = pytest.mark.anyio

TO = "+6581234567"
CALLBACK = "https://notify.example.gov.sg/api/v1/messaging/callbacks/twilio?campaign=7"


def channel_for(running: Running[FakeTwilio], **kwargs) -> TwilioSmsChannel:
    kwargs.setdefault("account_sid", running.fake.account_sid)
    kwargs.setdefault("auth_token", running.fake.auth_token)
    kwargs.setdefault("from_number", "+6560000000")
    return TwilioSmsChannel(base_url=running.url, **kwargs)


def sms(to: str = TO) -> OutboundMessage:
    return OutboundMessage("s1", ChannelKind.SMS, to, body="Your booking is confirmed.")


async def send(running, message, **kwargs):
    channel = channel_for(running, **kwargs)
    try:
        return await channel.send(message)
    finally:
        await channel.aclose()


async def test_send_is_form_encoded_with_basic_auth_and_returns_the_sid(twilio_fake):
    result = await send(twilio_fake, sms(), status_callback_url=CALLBACK)
    assert result.accepted
    assert result.provider_message_id is not None
    assert result.provider_message_id.startswith("SM")
    assert len(result.provider_message_id) == 34
    assert twilio_fake.fake.received == [
        {
            "To": TO,
            "Body": "Your booking is confirmed.",
            "From": "+6560000000",
            "StatusCallback": CALLBACK,
        }
    ]


async def test_a_messaging_service_replaces_from(twilio_fake):
    result = await send(twilio_fake, sms(), from_number=None, messaging_service_sid="MG" + "1" * 32)
    assert result.accepted
    assert twilio_fake.fake.received[0]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in twilio_fake.fake.received[0]


def test_a_sender_is_required():
    with pytest.raises(ValueError, match="From"):
        TwilioSmsChannel(account_sid="AC1", auth_token="t")


async def test_an_invalid_number_21211_is_an_invalid_recipient(twilio_fake):
    result = await send(twilio_fake, sms("81234567"))
    assert isinstance(result.failure, InvalidRecipient)
    assert result.failure.code == "21211"


async def test_an_unsubscribed_recipient_21610_is_an_invalid_recipient(twilio_fake):
    twilio_fake.fake.unsubscribed.add(TO)
    result = await send(twilio_fake, sms())
    assert isinstance(result.failure, InvalidRecipient)
    assert result.failure.code == "21610"


async def test_429_20429_is_rate_limited_with_retry_after(twilio_fake):
    twilio_fake.fake.throttled.add(TO)
    twilio_fake.fake.retry_after = 4
    result = await send(twilio_fake, sms())
    assert isinstance(result.failure, RateLimited)
    assert result.failure.code == "20429"
    assert result.failure.retry_after == 4.0


async def test_server_errors_are_temporary(twilio_fake):
    twilio_fake.fake.server_errors.add(TO)
    result = await send(twilio_fake, sms())
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "20500"


async def test_a_timeout_is_temporary(twilio_fake):
    twilio_fake.fake.delays[TO] = 0.5
    result = await send(twilio_fake, sms(), timeout=0.1)
    assert isinstance(result.failure, TemporaryFailure)
    assert result.failure.code == "timeout"


async def test_wrong_credentials_are_permanent(twilio_fake):
    result = await send(twilio_fake, sms(), auth_token="wrong")
    assert isinstance(result.failure, PermanentFailure)
    assert result.failure.code == "20003"


def test_signature_matches_twilios_published_example():
    # The example from Twilio's security documentation.
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature("12345", url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
    assert verify_signature("12345", url, params, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")


async def test_status_callbacks_verify_and_parse(twilio_fake):
    result = await send(twilio_fake, sms())
    sid = result.provider_message_id
    assert sid is not None
    fake = twilio_fake.fake
    params, signature = fake.status_callback(sid, "delivered", CALLBACK)
    update = parse_verified_status_callback(fake.auth_token, CALLBACK, params, signature)
    assert update is not None
    assert update.channel is ChannelKind.SMS
    assert update.provider_message_id == sid
    assert update.status is DeliveryStatus.DELIVERED
    assert update.recipient == TO
    assert update.occurred_at.tzinfo is UTC


async def test_unsigned_wrongly_signed_and_tampered_callbacks_are_refused(twilio_fake):
    result = await send(twilio_fake, sms())
    assert result.provider_message_id is not None
    fake = twilio_fake.fake
    params, signature = fake.status_callback(result.provider_message_id, "delivered", CALLBACK)
    with pytest.raises(InvalidSignature):
        parse_verified_status_callback(fake.auth_token, CALLBACK, params, None)
    with pytest.raises(InvalidSignature):
        parse_verified_status_callback("other-token", CALLBACK, params, signature)
    with pytest.raises(InvalidSignature):
        parse_verified_status_callback(
            fake.auth_token, CALLBACK, {**params, "MessageStatus": "read"}, signature
        )
    with pytest.raises(InvalidSignature):
        parse_verified_status_callback(
            fake.auth_token, CALLBACK.replace("campaign=7", "campaign=8"), params, signature
        )


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("queued", DeliveryStatus.QUEUED),
        ("sent", DeliveryStatus.SENT),
        ("delivered", DeliveryStatus.DELIVERED),
        ("read", DeliveryStatus.READ),
        ("undelivered", DeliveryStatus.FAILED),
        ("failed", DeliveryStatus.FAILED),
    ],
)
def test_twilio_statuses_map_to_ours(name, status):
    when = datetime(2021, 5, 12, 4, 0, tzinfo=UTC)
    update = parse_status_callback(
        {"MessageSid": "SM1", "MessageStatus": name, "ErrorCode": "30003"}, now=lambda: when
    )
    assert update is not None
    assert update.status is status
    assert update.occurred_at == when
    assert update.error_code == "30003"


def test_untracked_statuses_are_skipped_and_incomplete_ones_refused():
    assert parse_status_callback({"MessageSid": "SM1", "MessageStatus": "receiving"}) is None
    with pytest.raises(MalformedWebhook):
        parse_status_callback({"MessageStatus": "sent"})

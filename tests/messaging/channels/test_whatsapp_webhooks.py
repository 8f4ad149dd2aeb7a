import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from smartnation.messaging.channels.base import (
    ChannelKind,
    DeliveryStatus,
    InvalidSignature,
    MalformedWebhook,
    OutboundMessage,
)
from smartnation.messaging.channels.whatsapp import (
    WhatsAppCloudChannel,
    parse_status_webhook,
    parse_verified_status_webhook,
    verify_signature,
    verify_subscription,
)

pytestmark = pytest.mark.anyio

SECRET = "test-app-secret"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'


def meta_signature(secret: str, body: bytes) -> str:
    # Written out here rather than taken from the adapter, so a wrong adapter cannot agree
    # with itself.
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_a_correct_signature_verifies():
    assert verify_signature(SECRET, BODY, meta_signature(SECRET, BODY))


def test_hex_case_does_not_matter():
    header = meta_signature(SECRET, BODY)
    assert verify_signature(SECRET, BODY, "sha256=" + header[7:].upper())


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "nonsense"])
def test_unsigned_or_malformed_headers_are_refused(header):
    assert not verify_signature(SECRET, BODY, header)


def test_a_signature_made_with_another_secret_is_refused():
    assert not verify_signature(SECRET, BODY, meta_signature("other-secret", BODY))


def test_a_tampered_body_is_refused():
    header = meta_signature(SECRET, BODY)
    assert not verify_signature(SECRET, BODY.replace(b"[]", b"[{}]"), header)


def test_a_non_ascii_header_is_refused_not_an_error():
    assert not verify_signature(SECRET, BODY, "sha256=é" + "0" * 63)


def test_parse_verified_raises_on_a_bad_signature():
    with pytest.raises(InvalidSignature):
        parse_verified_status_webhook(SECRET, BODY, meta_signature("x", BODY))
    assert parse_verified_status_webhook(SECRET, BODY, meta_signature(SECRET, BODY)) == []


def test_subscription_handshake_echoes_the_challenge_only_for_our_token():
    query = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert verify_subscription(query, "tok") == "1158201444"
    assert verify_subscription({**query, "hub.verify_token": "guess"}, "tok") is None
    assert verify_subscription({**query, "hub.mode": "unsubscribe"}, "tok") is None
    assert verify_subscription({"hub.mode": "subscribe"}, "tok") is None
    # An unset verify token must not accept an empty one.
    assert verify_subscription({**query, "hub.verify_token": ""}, "") is None


async def test_status_webhooks_for_a_sent_message_parse_to_updates_with_our_id(whatsapp_fake):
    channel = WhatsAppCloudChannel(
        phone_number_id=whatsapp_fake.fake.phone_number_id,
        access_token=whatsapp_fake.fake.access_token,
        base_url=whatsapp_fake.url,
    )
    message = OutboundMessage(
        "our-42", ChannelKind.WHATSAPP, "+6581234567", template_name="t", template_parameters=()
    )
    try:
        result = await channel.send(message)
    finally:
        await channel.aclose()
    assert result.provider_message_id is not None
    wamid = result.provider_message_id

    updates = []
    for status in ("sent", "delivered", "read"):
        body, header = whatsapp_fake.fake.signed_status_webhook(
            wamid, status, timestamp=1_700_000_000
        )
        updates += parse_verified_status_webhook(whatsapp_fake.fake.app_secret, body, header)
    assert [u.status for u in updates] == [
        DeliveryStatus.SENT,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.READ,
    ]
    first = updates[0]
    assert first.channel is ChannelKind.WHATSAPP
    assert first.provider_message_id == wamid
    assert first.message_id == "our-42"
    assert first.recipient == "6581234567"
    assert first.occurred_at == datetime.fromtimestamp(1_700_000_000, tz=UTC)


async def test_a_failed_status_carries_the_error(whatsapp_fake):
    whatsapp_fake.fake.sent["wamid.X"] = ("+6581234567", None)
    body = whatsapp_fake.fake.status_webhook(
        "wamid.X", "failed", error_code=131026, error_title="Message undeliverable"
    )
    (update,) = parse_status_webhook(body)
    assert update.status is DeliveryStatus.FAILED
    assert update.error_code == "131026"
    assert update.error_text is not None
    assert "undeliverable" in update.error_text
    assert update.message_id is None


def test_statuses_we_do_not_track_and_inbound_messages_are_skipped():
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "messages": [{"from": "6581234567", "id": "wamid.in", "type": "text"}],
                            "statuses": [
                                {"id": "wamid.A", "status": "deleted", "timestamp": "1"},
                                {"id": "wamid.B", "status": "played", "timestamp": "2"},
                            ],
                        },
                    }
                ],
            }
        ],
    }
    updates = parse_status_webhook(json.dumps(payload).encode())
    assert [(u.provider_message_id, u.status) for u in updates] == [
        ("wamid.B", DeliveryStatus.READ)
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"object":"page","entry":[]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":[{}]}}]}]}',
        b'{"object":"whatsapp_business_account","entry":[{"changes":[{"value":{"statuses":'
        b'[{"id":"w","status":"sent","timestamp":"soon"}]}}]}]}',
        b'{"object":"whatsapp_business_account","entry":"x"}',
    ],
)
def test_malformed_bodies_raise_a_typed_error(body):
    with pytest.raises(MalformedWebhook):
        parse_status_webhook(body)

"""Provider webhooks (signatures, unknown ids answered for retry, forward-only), the API and pages."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from broadcast_support import APPROVER, AUTHOR, TEXTS, add_subscribers, dispatch_until_idle
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from smartnation.core.db import Database
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal, public
from smartnation.messaging.channels.sms import compute_signature
from smartnation.messaging.channels.whatsapp import sign_payload
from smartnation.messaging.models import Message, Subscriber

APP_SECRET = "whatsapp-app-secret"
TWILIO_TOKEN = "twilio-auth-token"
TELEGRAM_SECRET = "telegram-secret"
WHATSAPP_HOOK = "/api/v1/messaging/webhooks/whatsapp"
TWILIO_STATUS = "/api/v1/messaging/webhooks/twilio/status"


@pytest.fixture(autouse=True)
def provider_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTNATION_MESSAGING_WHATSAPP_APP_SECRET", APP_SECRET)
    monkeypatch.setenv("SMARTNATION_MESSAGING_WHATSAPP_VERIFY_TOKEN", "verify-me")
    monkeypatch.setenv("SMARTNATION_MESSAGING_SMS_AUTH_TOKEN", TWILIO_TOKEN)
    monkeypatch.setenv("SMARTNATION_MESSAGING_WEBHOOKS_TELEGRAM_SECRET_TOKEN", TELEGRAM_SECRET)


def _whatsapp_status(wamid: str, status: str, opaque: str | None = None, at: int = 0) -> bytes:
    report = {"id": wamid, "status": status, "timestamp": str(at or int(time.time()))}
    if opaque:
        report["biz_opaque_callback_data"] = opaque
    return _whatsapp_body({"statuses": [report]})


def _whatsapp_body(value: dict[str, object]) -> bytes:
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(body).encode()


def _post_whatsapp(client: TestClient, body: bytes, signature: str | None = "sign") -> int:
    headers = {"content-type": "application/json"}
    if signature == "sign":
        signature = sign_payload(APP_SECRET, body)
    if signature:
        headers["X-Hub-Signature-256"] = signature
    return client.post(WHATSAPP_HOOK, content=body, headers=headers).status_code


def _sent_message(database: Database, provider_id: str, channel: str = "whatsapp") -> int:
    [subscriber_id] = add_subscribers(database, 1, channel=channel, start=5000)
    with database.transaction() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        message = Message(
            idempotency_key=f"t:{provider_id}",
            channel=channel,
            recipient=subscriber.address,
            language="en",
            template="t",
            body="hello",
            status="sent",
            attempts=1,
            provider_message_id=provider_id,
        )
        session.add(message)
        session.flush()
        return message.id


def test_whatsapp_handshake(client: TestClient) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}
    answer = client.get(WHATSAPP_HOOK, params=query)
    assert (answer.status_code, answer.text) == (200, "42")
    bad = client.get(WHATSAPP_HOOK, params={**query, "hub.verify_token": "guess"})
    assert bad.status_code == 403
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_whatsapp_statuses_are_signed_forward_only_and_unknown_ids_retried(
    client: TestClient, database: Database
) -> None:
    message_id = _sent_message(database, "wamid.A")
    body = _whatsapp_status("wamid.A", "read")
    assert _post_whatsapp(client, body, signature=None) == 401
    assert _post_whatsapp(client, body, signature="sha256=" + "0" * 64) == 403
    assert _post_whatsapp(client, body) == 200
    assert _post_whatsapp(client, _whatsapp_status("wamid.A", "delivered")) == 200
    with database.transaction() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.status == "read"  # never back to delivered
    unknown = client.post(
        WHATSAPP_HOOK,
        content=_whatsapp_status("wamid.NEW", "sent"),
        headers={
            "X-Hub-Signature-256": sign_payload(APP_SECRET, _whatsapp_status("wamid.NEW", "sent"))
        },
    )
    assert unknown.status_code == 503
    assert unknown.json()["unknown"] == ["wamid.NEW"]
    assert _post_whatsapp(client, b"{not json") == 400


def test_whatsapp_report_beating_our_commit_is_matched_by_our_echoed_id(
    client: TestClient, database: Database
) -> None:
    message_id = _sent_message(database, "wamid.X")
    with database.transaction() as session:
        message = session.get(Message, message_id)
        assert message is not None
        message.status, message.provider_message_id = "sending", None
    assert _post_whatsapp(client, _whatsapp_status("wamid.Y", "delivered", str(message_id))) == 200
    with database.transaction() as session:
        message = session.get(Message, message_id)
        assert message is not None
        assert (message.status, message.provider_message_id) == ("delivered", "wamid.Y")


def test_whatsapp_inbound_stop_unsubscribes(client: TestClient, database: Database) -> None:
    [subscriber_id] = add_subscribers(database, 1)
    inbound = {
        "messages": [
            {
                "from": "6590000000",
                "id": "wamid.in1",
                "timestamp": "1700000000",
                "type": "text",
                "text": {"body": "STOP"},
            }
        ]
    }
    assert _post_whatsapp(client, _whatsapp_body(inbound)) == 200
    with database.transaction() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None and subscriber.status == "unsubscribed"


def test_twilio_status_callbacks(client: TestClient, database: Database) -> None:
    message_id = _sent_message(database, "SM123", channel="sms")
    url = "http://testserver" + TWILIO_STATUS
    params = {"MessageSid": "SM123", "MessageStatus": "delivered", "To": "+6590005000"}
    signed = {"X-Twilio-Signature": compute_signature(TWILIO_TOKEN, url, params)}
    assert client.post(TWILIO_STATUS, data=params).status_code == 401
    forged = {"X-Twilio-Signature": compute_signature("wrong", url, params)}
    assert client.post(TWILIO_STATUS, data=params, headers=forged).status_code == 403
    assert client.post(TWILIO_STATUS, data=params, headers=signed).status_code == 200
    with database.transaction() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.status == "delivered"
    other = {**params, "MessageSid": "SM999"}
    signed_other = {"X-Twilio-Signature": compute_signature(TWILIO_TOKEN, url, other)}
    assert client.post(TWILIO_STATUS, data=other, headers=signed_other).status_code == 503


def test_telegram_start_needs_the_secret_token(client: TestClient, database: Database) -> None:
    update = {
        "update_id": 1,
        "message": {"message_id": 7, "date": 1700000000, "chat": {"id": 4242}, "text": "/start"},
    }
    hook = "/api/v1/messaging/webhooks/telegram"
    assert client.post(hook, json=update).status_code == 401
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "nope"}
    assert client.post(hook, json=update, headers=wrong).status_code == 403
    right = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    answer = client.post(hook, json=update, headers=right)
    assert answer.json()["keywords"] == ["subscribed"]


# -- officers' API and pages ----------------------------------------------------------------------
@pytest.fixture
def as_officer(app: FastAPI) -> Iterator[callable]:  # type: ignore[valid-type]
    """Log in by setting the session principal (the test stand-in for the login page)."""

    @app.post("/test-login", dependencies=[__import__("fastapi").Depends(public)])
    async def login(request: Request) -> dict[str, bool]:
        data = await request.json()
        request.session[PRINCIPAL_SESSION_KEY] = data
        return {"ok": True}

    def login_as(client: TestClient, principal: Principal) -> None:
        assert client.post("/test-login", json=principal.to_session()).status_code == 200

    yield login_as


def test_api_campaign_approval_rules(client: TestClient, as_officer, database: Database) -> None:  # type: ignore[no-untyped-def]
    add_subscribers(database, 8)
    assert client.get("/api/v1/messaging/campaigns").status_code == 401
    as_officer(client, AUTHOR)
    bad = client.post(
        "/api/v1/messaging/campaigns",
        json={
            "title": "x",
            "channel": "whatsapp",
            "texts": {**TEXTS, "zh": "{when}"},
            "variables": {"date": "1 June"},
        },
    )
    assert bad.status_code == 422
    assert {"field": "texts.zh", "code": "unknown_variable"}.items() <= bad.json()["errors"][
        0
    ].items()
    made = client.post(
        "/api/v1/messaging/campaigns",
        json={
            "title": "Update",
            "channel": "whatsapp",
            "texts": TEXTS,
            "variables": {"date": "1 June"},
            "topic": "health",
        },
    ).json()
    url = f"/api/v1/messaging/campaigns/{made['id']}"
    assert client.post(url + "/submit").json()["recipients"] == 8
    assert client.post(url + "/approve").status_code == 403  # not an approver
    as_officer(client, Principal("person", AUTHOR.id, "x", APPROVER.roles))
    refused = client.post(url + "/approve")
    assert (refused.status_code, refused.json()["code"]) == (403, "author_cannot_approve")
    as_officer(client, APPROVER)
    assert client.post(url + "/approve").json()["status"] == "approved"
    dispatch_until_idle(database)
    stats = client.get(url + "/stats").json()
    assert stats["status"] == "completed" and stats["percent"] == 100
    assert [s["delivered"] for s in stats["by_language"]] == [2, 2, 2, 2]


def test_pages_need_an_officer_and_show_progress(client: TestClient, as_officer) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/messaging/campaigns", follow_redirects=False).status_code == 303
    as_officer(client, AUTHOR)
    form = client.get("/messaging/campaigns/new")
    assert form.status_code == 200
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    fields = {
        "csrf_token": token,
        "title": "Haze",
        "channel": "whatsapp",
        "variables": "date=1 June",
    }
    fields |= {f"text_{code}": text for code, text in TEXTS.items()}
    broken = client.post("/messaging/campaigns/new", data={**fields, "text_ta": "{oops}"})
    assert broken.status_code == 422 and 'aria-invalid="true"' in broken.text
    made = client.post("/messaging/campaigns/new", data=fields, follow_redirects=False)
    assert made.status_code == 303
    page = client.get(made.headers["location"])
    assert "疫苗接种中心" in page.text and 'id="progress"' in page.text
    panel = client.get(made.headers["location"] + "/progress")
    assert panel.status_code == 200 and "campaign-status" in panel.text


def test_sign_up_page_refuses_a_bad_number_kindly(client: TestClient) -> None:
    form = client.get("/messaging/subscribe")
    token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/messaging/subscribe",
        data={"csrf_token": token, "channel": "sms", "address": "12", "language": "en"},
    )
    assert answer.status_code == 422 and 'id="address-error"' in answer.text

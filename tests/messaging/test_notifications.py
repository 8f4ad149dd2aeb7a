"""Notifications other domains send: queued with the change, delivered once, statuses forward only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from smartnation.core.db import Database
from smartnation.core.errors import InvalidInput
from smartnation.core.jobs import Job, Worker
from smartnation.messaging import jobs as messaging_jobs  # noqa: F401 - registers the job
from smartnation.messaging import service
from smartnation.messaging.channels.base import DeliveryStatus
from smartnation.messaging.models import Message
from smartnation.messaging.notifications import NotificationTemplate

service.register_template(
    NotificationTemplate(
        "test.greeting",
        {
            "en": "Hello {name}, your code is {code}.",
            "zh": "{name}您好，您的验证码是 {code}。",
            "ms": "Helo {name}, kod anda ialah {code}.",
            "ta": "வணக்கம் {name}, உங்கள் குறியீடு {code}.",
        },
    )
)


def _send(database: Database, key: str = "greeting-1", **overrides: object) -> service.SentMessage:
    arguments: dict[str, object] = {
        "channel": "sms",
        "to": "91234567",
        "template": "test.greeting",
        "variables": {"name": "Mdm Tan", "code": "123456"},
        "idempotency_key": key,
        "language": "zh",
    }
    arguments.update(overrides)
    with database.transaction() as session:
        return service.send(session, **arguments)  # type: ignore[arg-type]


def test_send_queues_then_the_worker_delivers_to_the_local_inbox(database: Database) -> None:
    sent = _send(database)
    assert sent.status == "queued"
    assert sent.recipient == "+6591234567"
    assert Worker(database).run_until_idle() == 1
    with database.transaction() as session:
        message = service.get_message(session, sent.id)
        assert message.status == DeliveryStatus.DELIVERED.value
        assert message.body == "Mdm Tan您好，您的验证码是 123456。"
        assert (message.provider_message_id or "").startswith("local-sms-")
        assert [m.id for m in service.local_inbox(session, recipient="+6591234567")] == [sent.id]


def test_the_same_idempotency_key_never_sends_twice(database: Database) -> None:
    first = _send(database)
    again = _send(database)
    assert again.id == first.id
    Worker(database).run_until_idle()
    Worker(database).run_until_idle()
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_nothing_is_sent_when_the_callers_transaction_rolls_back(database: Database) -> None:
    with pytest.raises(RuntimeError), database.transaction() as session:
        service.send(
            session,
            channel="sms",
            to="91234567",
            template="test.greeting",
            variables={"name": "A", "code": "1"},
            idempotency_key="k",
        )
        raise RuntimeError("the booking failed")
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


@pytest.mark.parametrize(
    ("variables", "fields"),
    [
        ({"name": "A"}, {"variables.code"}),
        ({"name": "A", "code": "1", "extra": "x"}, {"variables.extra"}),
    ],
)
def test_template_variables_are_checked_before_anything_is_sent(
    database: Database, variables: dict[str, str], fields: set[str]
) -> None:
    with pytest.raises(InvalidInput) as raised:
        _send(database, variables=variables)
    assert {p.field for p in raised.value.problems} == fields


@pytest.mark.parametrize(
    ("channel", "to"),
    [("sms", "12345"), ("sms", "62345678"), ("email", "not-an-address"), ("fax", "1")],
)
def test_invalid_recipients_and_channels_are_refused(
    database: Database, channel: str, to: str
) -> None:
    with pytest.raises(InvalidInput):
        _send(database, channel=channel, to=to)


def test_statuses_only_move_forward(database: Database) -> None:
    sent = _send(database)
    Worker(database).run_until_idle()
    with database.transaction() as session:
        message = service.get_message(session, sent.id)
        assert service.record_status(session, message, DeliveryStatus.READ)
        assert not service.record_status(session, message, DeliveryStatus.SENT)
        assert not service.record_status(session, message, DeliveryStatus.FAILED)
        assert message.status == "read"
        assert message.read_at is not None


def test_developer_inbox_page_shows_messages(database: Database, client: TestClient) -> None:
    _send(database, key="page-1", language="ta")
    Worker(database).run_until_idle()
    page = client.get("/dev/inbox?to=%2B6591234567")
    assert page.status_code == 200
    assert "வணக்கம் Mdm Tan, உங்கள் குறியீடு 123456." in page.text


def test_developer_inbox_is_hidden_outside_development(app, client: TestClient) -> None:  # type: ignore[no-untyped-def]
    app.state.settings.environment = "production"
    assert client.get("/dev/inbox", headers={"accept": "text/html"}).status_code == 404

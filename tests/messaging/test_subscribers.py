"""Subscribers: keywords, double opt-in, STOP at once with proof, export and deletion."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from broadcast_support import add_subscribers, approved_campaign

from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.errors import InvalidInput, NotFound
from smartnation.messaging import campaigns, subscribers
from smartnation.messaging.models import ConsentEvent, Message, Subscriber


def _keyword(database: Database, text: str, inbound_id: str, address: str = "91234567") -> str:
    with database.transaction() as session:
        return subscribers.handle_keyword(
            session,
            channel="whatsapp",
            address=address,
            text=text,
            inbound_id=inbound_id,
            received_at=utcnow(),
        ).action


def test_join_lang_and_stop_by_keyword_keep_their_proof(database: Database) -> None:
    assert _keyword(database, "JOIN health", "wamid.1") == "subscribed"
    assert _keyword(database, "LANG ta", "wamid.2") == "language"
    assert _keyword(database, "hello there", "wamid.3") == "ignored"
    assert _keyword(database, "stop", "wamid.4") == "unsubscribed"
    with database.transaction() as session:
        subscriber = subscribers.find(session, "whatsapp", "+6591234567")
        assert subscriber is not None
        assert (subscriber.status, subscriber.language) == ("unsubscribed", "ta")
        assert subscribers.topics_of(session, subscriber.id) == ["health"]
        events = session.scalars(
            sa.select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
        ).all()
        assert [(e.action, e.proof["inbound_id"]) for e in events] == [
            ("subscribed", "wamid.1"),
            ("language_changed", "wamid.2"),
            ("unsubscribed", "wamid.4"),
        ]
        replies = session.scalars(
            sa.select(Message.template).where(Message.recipient == "+6591234567")
        ).all()
        assert sorted(replies) == ["messaging.goodbye", "messaging.welcome"]


def test_stop_cancels_queued_broadcast_rows_at_once(database: Database) -> None:
    [subscriber_id] = add_subscribers(database, 1)
    campaign_id = approved_campaign(database)
    with database.transaction() as session:
        campaigns.queue_audience(session, campaign_id)
        subscriber = session.get(Subscriber, subscriber_id)
        assert subscriber is not None
        subscribers.unsubscribe(session, subscriber, method="keyword", proof={"inbound_id": "x"})
        row = session.scalars(sa.select(Message).where(Message.campaign_id == campaign_id)).one()
        assert row.status == "cancelled"


def test_web_sign_up_needs_the_code_and_applies_the_request(database: Database) -> None:
    with database.transaction() as session:
        pending = subscribers.start_web_sign_up(
            session,
            channel="sms",
            address="8123 4567",
            language="zh",
            topics=["transport"],
            confirm_url="http://x/confirm",
        )
        assert subscribers.get(session, pending.subscriber_id).status == "pending"
        sent = session.scalars(
            sa.select(Message.body).where(Message.template == "messaging.confirm_subscription")
        ).one()
        assert pending.code in sent and "http://x/confirm?s=" in sent
    with database.transaction() as session, pytest.raises(InvalidInput):
        subscribers.confirm_web_sign_up(session, pending.subscriber_id, "000000x")
    with database.transaction() as session:
        subscriber = subscribers.confirm_web_sign_up(session, pending.subscriber_id, pending.code)
        assert (subscriber.status, subscriber.language) == ("active", "zh")
        assert subscribers.topics_of(session, subscriber.id) == ["transport"]


def test_codes_are_refused_after_five_wrong_attempts(database: Database) -> None:
    with database.transaction() as session:
        pending = subscribers.start_web_sign_up(
            session, channel="sms", address="81234567", language="en", topics=[], confirm_url="/c"
        )
    for _ in range(5):
        with database.transaction() as session, pytest.raises(InvalidInput):
            subscribers.confirm_web_sign_up(session, pending.subscriber_id, "999999")
    with database.transaction() as session, pytest.raises(InvalidInput):
        subscribers.confirm_web_sign_up(session, pending.subscriber_id, pending.code)


@pytest.mark.parametrize(
    ("channel", "address", "field"),
    [("sms", "6123 4567", "address"), ("sms", "12", "address"), ("email", "a@b.c", "channel")],
)
def test_bad_numbers_and_channels_are_refused(
    database: Database, channel: str, address: str, field: str
) -> None:
    with database.transaction() as session, pytest.raises(InvalidInput) as refused:
        subscribers.start_web_sign_up(
            session, channel=channel, address=address, language="en", topics=[], confirm_url="/"
        )
    assert field in [p.field for p in refused.value.problems]


def test_export_then_delete_leaves_nothing_that_names_the_person(database: Database) -> None:
    [subscriber_id] = add_subscribers(database, 1)
    campaign_id = approved_campaign(database)
    with database.transaction() as session:
        campaigns.queue_audience(session, campaign_id)
        subscriber = subscribers.get(session, subscriber_id)
        token = subscribers.manage_token("secret", subscriber_id)
        assert subscribers.from_token(session, "secret", token).id == subscriber_id
        with pytest.raises(NotFound):
            subscribers.from_token(session, "other-secret", token)
        data = subscribers.export(session, subscriber)
        assert data["subscriber"]["address"] == "+6590000000"
        assert data["subscriber"]["topics"] == ["health"]
        assert len(data["messages"]) == 1
        subscribers.delete_subscriber(session, subscriber)
    with database.transaction() as session:
        assert session.get(Subscriber, subscriber_id) is None
        row = session.scalars(sa.select(Message).where(Message.campaign_id == campaign_id)).one()
        assert (row.recipient, row.subscriber_id, row.status) == ("erased", None, "cancelled")
        assert session.scalar(sa.select(sa.func.count()).select_from(ConsentEvent)) == 0

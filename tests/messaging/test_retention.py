"""Retention: final message rows older than the period are purged nightly, audited."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from smartnation.core.audit import AuditEvent
from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.jobs import PERIODIC_JOBS
from smartnation.messaging import jobs, retention
from smartnation.messaging.models import Message, StatusEvent
from smartnation.messaging.settings import RetentionSettings


def _message(session: sa.orm.Session, key: str, status: str, age_days: int) -> Message:
    message = Message(
        idempotency_key=key,
        channel="sms",
        recipient="+6581234567",
        language="en",
        template="greeting",
        body="Hello",
        status=status,
        attempts=1,
        created_at=utcnow() - timedelta(days=age_days),
    )
    session.add(message)
    session.flush()
    return message


def test_old_final_rows_are_purged_and_the_purge_is_audited(database: Database) -> None:
    with database.transaction() as session:
        old_sent = _message(session, "old-sent", "sent", 40)
        session.add(StatusEvent(message_id=old_sent.id, status="sent", detail={}))
        _message(session, "old-failed", "failed", 31)
        _message(session, "old-queued", "queued", 40)  # a broadcast still going: kept
        _message(session, "old-sending", "sending", 40)
        _message(session, "recent-read", "read", 29)
    with database.transaction() as session:
        report = retention.purge_expired(session, settings=RetentionSettings(days=30))
        assert report.messages_deleted == 2
    with database.transaction() as session:
        kept = set(session.scalars(sa.select(Message.idempotency_key)))
        assert kept == {"old-queued", "old-sending", "recent-read"}
        assert session.scalar(sa.select(sa.func.count()).select_from(StatusEvent)) == 0
        event = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "messaging.retention.purged")
        ).one()
        assert event.details["messages_deleted"] == 2
        assert event.details["cutoff"] == report.cutoff.isoformat()


def test_a_second_run_finds_nothing_and_is_audited_too(database: Database) -> None:
    with database.transaction() as session:
        _message(session, "old", "delivered", 400)
    with database.transaction() as session:
        assert retention.purge_expired(session).messages_deleted == 1
        assert retention.purge_expired(session).messages_deleted == 0
        events = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "messaging.retention.purged")
        ).all()
        assert len(events) == 2


def test_the_purge_runs_nightly() -> None:
    assert PERIODIC_JOBS[jobs.RETENTION_JOB].every == timedelta(days=1)

"""Retention: message rows are kept `SMARTNATION_MESSAGING_RETENTION_DAYS` (180), then purged.

A message row holds a recipient's number and the text they were sent, so it is kept only as
long as delivery statistics and complaints need it. The nightly `messaging.retention` job
deletes rows created before the cutoff whose status is final (sent, delivered, read, failed,
cancelled): a row still queued or in flight is never purged under a running broadcast. Their
status reports go with them (foreign key cascade). Campaigns and their recipient counts stay.
The purge is audited with its cutoff and how many rows it removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.messaging.models import Message
from smartnation.messaging.settings import RetentionSettings

FINAL_STATUSES = ("sent", "delivered", "read", "failed", "cancelled")
# Rows deleted per statement: a national broadcast's rows leave in bounded steps.
BATCH = 50_000


@dataclass(frozen=True)
class RetentionReport:
    cutoff: datetime
    messages_deleted: int


def purge_expired(
    session: Session, now: datetime | None = None, settings: RetentionSettings | None = None
) -> RetentionReport:
    """Delete final message rows older than the retention period; audited."""
    settings = settings or RetentionSettings()
    moment = now or utcnow()
    cutoff = moment - timedelta(days=settings.days)
    deleted = 0
    while True:
        batch = (
            select(Message.id)
            .where(Message.status.in_(FINAL_STATUSES), Message.created_at < cutoff)
            .limit(BATCH)
        )
        result = session.execute(
            delete(Message).where(Message.id.in_(batch.scalar_subquery())),
            execution_options={"synchronize_session": False},
        )
        count = int(result.rowcount)  # type: ignore[attr-defined]
        deleted += count
        if count < BATCH:
            break
    audit.record(
        session,
        "messaging.retention.purged",
        subject_type="messaging_retention",
        subject_id=moment.date().isoformat(),
        details={"cutoff": cutoff.isoformat(), "messages_deleted": deleted},
    )
    return RetentionReport(cutoff, deleted)

"""The audit log: who did what to which record, written in the same transaction as the change.

A change and its audit entry commit together or not at all, so the log never claims something
that did not happen and nothing happens without a trace.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime

# The acting person or process for the current request, job or command; set by the web layer,
# the worker and the CLI so that services need not pass it through every call.
current_actor: ContextVar[str] = ContextVar("current_actor", default="system")


class AuditEvent(Base):
    __tablename__ = "core_audit_event"
    __table_args__ = (Index("ix_core_audit_event_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(120), index=True)
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(120))
    on_behalf_of: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    session: Session,
    action: str,
    *,
    subject_type: str,
    subject_id: str | int,
    details: dict[str, Any] | None = None,
    actor: str | None = None,
    on_behalf_of: str | None = None,
) -> AuditEvent:
    """Add an audit entry to the session; it commits with the change it describes."""
    event = AuditEvent(
        occurred_at=utcnow(),
        actor=actor or current_actor.get(),
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        on_behalf_of=on_behalf_of,
        details=details or {},
    )
    session.add(event)
    return event


def history(session: Session, subject_type: str, subject_id: str | int) -> list[AuditEvent]:
    """Every audit entry about one record, oldest first."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == str(subject_id))
        .order_by(AuditEvent.id)
    )
    return list(rows)

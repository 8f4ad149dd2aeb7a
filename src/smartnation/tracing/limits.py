"""Limits on what could be abused or guessed: one-time codes sent at registration, and upload
codes tried by a device.

Both are counted from rows the platform keeps anyway (registrations, and the audit entry of
each refused upload code), in the database, so the limits hold across every web process with
no counter of their own. A refused request answers 429 with `Retry-After`: the seconds until the
oldest counted attempt leaves the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.audit import AuditEvent
from smartnation.core.clock import utcnow
from smartnation.core.errors import TooManyRequests
from smartnation.core.i18n import N_
from smartnation.tracing.models import Registration, TracingUser
from smartnation.tracing.settings import get_tracing_settings

REFUSED_CODE = "tracing.upload_code.refused"


def _retry_after(moments: Sequence[datetime], limit: int, window: timedelta, now: datetime) -> int:
    # With `limit` attempts in the window, the next is allowed once the oldest of the last
    # `limit` of them has aged out.
    oldest = sorted(moments)[-limit]
    return max(1, int((oldest + window - now).total_seconds()) + 1)


def check_registration_rate(session: Session, *, phone: str, nric: str) -> None:
    """Refuse a registration when this phone or NRIC/FIN has been sent too many codes lately."""
    settings = get_tracing_settings()
    window = timedelta(minutes=settings.limit_window_minutes)
    now = utcnow()
    rows = session.execute(
        select(Registration.phone, Registration.nric, Registration.created_at).where(
            or_(Registration.phone == phone, Registration.nric == nric),
            Registration.created_at > now - window,
        )
    ).all()
    for moments, limit in (
        ([at for p, _, at in rows if p == phone], settings.otp_sends_per_phone),
        ([at for _, n, at in rows if n == nric], settings.otp_sends_per_nric),
    ):
        if len(moments) >= limit:
            raise TooManyRequests(
                N_("Too many codes were sent. Please wait before asking for another."),
                retry_after=_retry_after(moments, limit, window, now),
            )


def check_upload_code_attempts(session: Session, user: TracingUser) -> None:
    """Refuse another upload code from a device that has had too many refused lately."""
    settings = get_tracing_settings()
    window = timedelta(minutes=settings.limit_window_minutes)
    now = utcnow()
    moments = list(
        session.scalars(
            select(AuditEvent.occurred_at).where(
                AuditEvent.subject_type == "tracing_user",
                AuditEvent.subject_id == str(user.id),
                AuditEvent.action == REFUSED_CODE,
                AuditEvent.occurred_at > now - window,
            )
        )
    )
    limit = settings.upload_code_attempts
    if len(moments) >= limit:
        raise TooManyRequests(
            N_("Too many wrong upload codes. Please wait and try again later."),
            retry_after=_retry_after(moments, limit, window, now),
        )


def record_refused_code(session: Session, user: TracingUser, *, reason: str) -> None:
    """Audit an upload code refused to a device; the entry is also what the limit counts."""
    audit.record(
        session,
        REFUSED_CODE,
        subject_type="tracing_user",
        subject_id=user.id,
        details={"code": reason},
    )

"""Limits on booking-code attempts, so that codes cannot be guessed.

Failures are counted per NRIC/FIN and per client address in their own transaction (the refused
request itself rolls back, and the count must survive it). Shared in the database, so the limit
holds across every web process.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from smartnation.appointments.models import CodeAttempt
from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.errors import TooManyRequests
from smartnation.core.i18n import N_

WINDOW = timedelta(minutes=15)
LIMITS = {"nric": 5, "ip": 50}


def _limit(key: str) -> int:
    return LIMITS[key.split(":", 1)[0]]


def check(database: Database, keys: list[str]) -> None:
    """Refuse with 429 while any key has used up its attempts in the current window."""
    now = utcnow()
    with database.transaction() as session:
        rows = session.scalars(select(CodeAttempt).where(CodeAttempt.key.in_(keys)))
        for row in rows:
            ends = row.window_started_at + WINDOW
            if ends > now and row.failures >= _limit(row.key):
                raise TooManyRequests(
                    N_("Too many wrong booking codes. Please wait and try again later."),
                    retry_after=max(1, int((ends - now).total_seconds())),
                )


def failed(database: Database, keys: list[str]) -> None:
    """Count one failed attempt against each key."""
    now = utcnow()
    for key in keys:
        with database.transaction() as session:
            counted = session.execute(
                update(CodeAttempt)
                .where(CodeAttempt.key == key, CodeAttempt.window_started_at > now - WINDOW)
                .values(failures=CodeAttempt.failures + 1)
            )
            if counted.rowcount == 1:  # type: ignore[attr-defined]
                continue
            restarted = session.execute(
                update(CodeAttempt)
                .where(CodeAttempt.key == key)
                .values(failures=1, window_started_at=now)
            )
            if restarted.rowcount == 0:  # type: ignore[attr-defined]
                try:
                    with session.begin_nested():
                        session.add(CodeAttempt(key=key, window_started_at=now, failures=1))
                except IntegrityError:
                    session.execute(
                        update(CodeAttempt)
                        .where(CodeAttempt.key == key)
                        .values(failures=CodeAttempt.failures + 1)
                    )

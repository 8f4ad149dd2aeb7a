"""Failed attempts counted per key in fixed time windows, shared by every process.

A key names what is limited (`"login-address:203.0.113.9"`); a window is a fixed slice of time
(`window_start`), so counting a failure is one statement (insert the window's row, or add one to
it) that concurrent processes cannot lose, and a key's count starts again with the next window.
Each row carries the end of its window, so ended windows of every kind are purged together.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Integer, String, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, UTCDateTime


class FailedAttempts(Base):
    """Failures counted against one key in one window."""

    __tablename__ = "core_failed_attempts"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window of length `window` that `now` falls in."""
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


_FAILURES: Final = select(FailedAttempts.failures).where(
    FailedAttempts.key == bindparam("key"),
    FailedAttempts.window_start == bindparam("window_start"),
)


def failures(session: Session, key: str, window: timedelta, now: datetime) -> int:
    """The failures counted against `key` in the window `now` falls in."""
    found = session.execute(
        _FAILURES, {"key": key, "window_start": window_start(now, window)}
    ).scalar()
    return int(found or 0)


def _count_statement(insert: Any) -> Any:
    table = FailedAttempts.__table__
    statement = insert(table).values(
        key=bindparam("key"),
        window_start=bindparam("window_start"),
        window_end=bindparam("window_end"),
        failures=1,
    )
    return statement.on_conflict_do_update(
        index_elements=[table.c.key, table.c.window_start],
        set_={"failures": table.c.failures + 1},
    )


# Built once, one per dialect: one statement counts a failure, also when two race.
_COUNT: Final = {False: _count_statement(sqlite_insert), True: _count_statement(postgresql_insert)}


def count_failure(session: Session, key: str, window: timedelta, now: datetime) -> None:
    """One more failure against `key` in the window `now` falls in."""
    start = window_start(now, window)
    connection = session.connection()
    statement = _COUNT[connection.dialect.name == "postgresql"]
    connection.execute(statement, {"key": key, "window_start": start, "window_end": start + window})


def purge_ended(session: Session, now: datetime | None = None) -> int:
    """Delete the counts of windows ended by `now`; returns how many rows went."""
    ended = FailedAttempts.window_end <= (now or utcnow())
    result = session.execute(delete(FailedAttempts).where(ended))
    return int(getattr(result, "rowcount", 0) or 0)

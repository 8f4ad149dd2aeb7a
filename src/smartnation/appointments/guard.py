"""Limits on booking-code attempts, so that codes cannot be guessed.

Failures are counted per NRIC/FIN and per client address in their own transaction (the refused
request itself rolls back, and the count must survive it). Shared in the database, so the limit
holds across every web process.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartnation.appointments import demand
from smartnation.appointments.models import CodeAttempt
from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.errors import InvalidInput, TooManyRequests
from smartnation.core.i18n import N_

WINDOW = timedelta(minutes=15)
LIMITS = {"nric": 5, "ip": 50}


def _limit(key: str) -> int:
    return LIMITS[key.split(":", 1)[0]]


def keys_for(nric: str, client: str | None) -> list[str]:
    """The keys one attempt counts against: the NRIC/FIN tried and the client's address."""
    # Only printable characters: the key is stored, and PostgreSQL refuses text with NUL bytes.
    tried = "".join(ch for ch in (nric or "") if ch.isprintable()).strip().upper()[:20]
    return [f"nric:{tried}", f"ip:{client or 'unknown'}"]


def check(session: Session, keys: list[str]) -> None:
    """Refuse with 429 while any key has used up its attempts in the current window."""
    now = utcnow()
    rows = session.scalars(select(CodeAttempt).where(CodeAttempt.key.in_(keys)))
    for row in rows:
        ends = row.window_started_at + WINDOW
        if ends > now and row.failures >= _limit(row.key):
            raise TooManyRequests(
                N_("Too many wrong booking codes. Please wait and try again later."),
                retry_after=max(1, int((ends - now).total_seconds())),
            )


def failed(database: Database, keys: list[str]) -> None:
    """Count one failed attempt against each key, each in a transaction of its own."""
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


def redeem(session: Session, nric: str, code: str, client: str | None, failures: list[str]) -> Any:
    """`find_invitation` behind the limit. A wrong code's keys are added to `failures`, for the
    web layer to count once the request's own transaction has ended (`count_failures`)."""
    keys = keys_for(nric, client)
    check(session, keys)
    try:
        return demand.find_invitation(session, nric, code)
    except InvalidInput as error:
        if any(problem.code == "wrong_code" for problem in error.problems):
            failures.extend(keys)
        raise

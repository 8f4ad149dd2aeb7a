"""Request dependencies: the database session of the request and the app's shared objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from anyio import CancelScope, CapacityLimiter, to_thread
from anyio.lowlevel import RunVar
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from smartnation.core.db import Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _has_work(session: Session) -> bool:
    """Whether ending the session needs the database: it began a transaction or holds changes."""
    return session.in_transaction() or bool(session.new or session.dirty or session.deleted)


def _commit_and_close(session: Session) -> None:
    try:
        session.commit()
    finally:
        session.close()


# Commits run on threads of their own, not the endpoints' pool: a session waiting to commit holds
# a connection, and if it had to wait for a thread that endpoints hold while they wait for a
# connection, neither would move until the pool's timeout.
_COMMIT_THREADS: RunVar[CapacityLimiter] = RunVar("smartnation_commit_threads")


def _commit_threads(request: Request) -> CapacityLimiter:
    try:
        return _COMMIT_THREADS.get()
    except LookupError:
        pool = request.app.state.settings.database
        limiter = CapacityLimiter(pool.pool_size + pool.pool_overflow)  # all it may lend at once
        _COMMIT_THREADS.set(limiter)
        return limiter


async def _request_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises.

    Used with scope="function" so the commit happens before the response is sent: a failed commit
    becomes an error answer, never a success for something that was not saved.

    A coroutine, so that opening the session costs no thread hop (a session reaches the database
    only when first used), and ending it costs one only when the request used the database: a
    sync dependency would cross to the thread pool twice more on every request.
    """
    session = get_database(request).sessions()
    try:
        yield session
    except BaseException:
        if _has_work(session):
            with CancelScope(shield=True):  # closing rolls back
                await to_thread.run_sync(session.close, limiter=_commit_threads(request))
        else:
            session.close()
        raise
    if _has_work(session):
        await to_thread.run_sync(_commit_and_close, session, limiter=_commit_threads(request))
    else:
        session.close()


DbSession = Annotated[Session, Depends(_request_session, scope="function")]

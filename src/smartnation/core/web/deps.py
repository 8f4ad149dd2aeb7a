"""Request dependencies: the database session of the request and the app's shared objects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from smartnation.core.db import Database


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _request_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the endpoint returns, rolled back if it raises.

    Used with scope="function" so the commit happens before the response is sent: a failed commit
    becomes an error answer, never a success for something that was not saved.
    """
    with get_database(request).transaction() as session:
        yield session


DbSession = Annotated[Session, Depends(_request_session, scope="function")]

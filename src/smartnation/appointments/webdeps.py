"""Request dependencies shared by the appointment API and pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from smartnation.appointments import guard
from smartnation.core.web.deps import get_database


def _code_failures(request: Request) -> Iterator[list[str]]:
    """Keys of wrong booking codes met in this request, counted after its transaction ends.

    The request itself rolls back when it refuses a code; counting afterwards keeps the count, and
    on SQLite it must wait for the request's write lock to be released anyway.
    """
    failures: list[str] = []
    try:
        yield failures
    finally:
        if failures:
            guard.failed(get_database(request), failures)


CodeFailures = Annotated[list[str], Depends(_code_failures)]


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None

"""The hot statements' PostgreSQL connections: psycopg's asyncio connections, kept per event loop.

The booking statement (and the availability read) are sent straight from the event loop, without
SQLAlchemy's asyncio layer (a greenlet switch and its bookkeeping on every execution) and already
in PostgreSQL's own `$n` form, so psycopg does not parse the text again on each execution (it
caches that only for queries up to 4 KiB; the booking statement is 5 KB). psycopg prepares a
statement on each connection after a few executions, so PostgreSQL plans it once per connection.

At most `booking_concurrency` connections per event loop (the waiting room lets no more bookings
in at once); they are opened when first needed, in autocommit (each statement is its own
transaction), and without a liveness ping: a connection found dead fails its statement and is
dropped, and the caller answers through the ordinary engine, which pings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg import AsyncConnection, AsyncRawCursor
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects import postgresql

from smartnation.appointments.settings import get_appointment_settings
from smartnation.core.db import Database

# Statements as psycopg receives them: PostgreSQL's `$n` placeholders, no text to convert.
_DIALECT = postgresql.psycopg.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
GIVEN = "given_"  # the prefix of the parameters a request supplies; the rest are constants


@dataclass(frozen=True)
class Compiled:
    """A SQLAlchemy statement compiled once: its text, and for each `$n` either the request's
    value (by name, through its type's bind processor) or the constant SQLAlchemy would send."""

    sql: str
    given: tuple[tuple[str, Callable[[Any], Any] | None] | None, ...]
    constants: tuple[Any, ...]

    def parameters(self, values: dict[str, Any]) -> list[Any]:
        sent = []
        for given, constant in zip(self.given, self.constants, strict=True):
            if given is None:
                sent.append(constant)
            else:
                name, process = given
                value = values[name]
                sent.append(process(value) if process is not None else value)
        return sent


@cache
def compiled(statement: Any) -> Compiled:
    """`statement` compiled for psycopg with positional parameters (once per statement)."""
    form = statement.compile(dialect=_DIALECT)
    given: list[tuple[str, Callable[[Any], Any] | None] | None] = []
    constants: list[Any] = []
    for name in form.positiontup:
        bind = form.binds[name]
        process = bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
        if name.startswith(GIVEN):
            given.append((name, process))
            constants.append(None)
        else:
            given.append(None)
            constants.append(process(bind.value) if process is not None else bind.value)
    return Compiled(form.string, tuple(given), tuple(constants))


async def _executed(
    connection: AsyncConnection, statement: Any, values: dict[str, Any]
) -> AsyncRawCursor[Any]:
    form = compiled(statement)
    cursor = AsyncRawCursor(connection, row_factory=namedtuple_row)
    await cursor.execute(form.sql, form.parameters(values))
    return cursor


async def fetch_one(connection: AsyncConnection, statement: Any, values: dict[str, Any]) -> Any:
    """The first row (a named tuple) of `statement` with the request's `values`, or None."""
    return await (await _executed(connection, statement, values)).fetchone()


async def fetch_all(
    connection: AsyncConnection, statement: Any, values: dict[str, Any]
) -> list[Any]:
    """Every row (named tuples) of `statement` with the request's `values`."""
    return await (await _executed(connection, statement, values)).fetchall()


class StatementConnections:
    """Idle connections to one database for one event loop, and a limit on how many are open."""

    def __init__(self, conninfo: str, size: int, loop: asyncio.AbstractEventLoop) -> None:
        self.conninfo = conninfo
        self.loop = loop  # held, so that its id is not reused for another loop's pool
        self.idle: list[AsyncConnection] = []
        self.turns = asyncio.Semaphore(size)
        self.executions = 0  # statements sent, for the benchmarks' count of round trips

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection in autocommit, given back afterwards unless it is not idle (lost, or left
        mid-statement by a cancelled request), in which case it is closed."""
        async with self.turns:
            connection = self.idle.pop() if self.idle else await self._open()
            try:
                yield connection
            finally:
                if connection.info.transaction_status == TransactionStatus.IDLE:
                    self.idle.append(connection)
                else:
                    await connection.close()

    async def _open(self) -> AsyncConnection:
        return await AsyncConnection.connect(self.conninfo, autocommit=True)


_pools: dict[tuple[int, int], StatementConnections] = {}


def for_database(database: Database) -> StatementConnections:
    """The connections to `database` of the running event loop (psycopg's async connections
    belong to the loop that opened them: a web process has one loop, a test client a new one
    per client)."""
    loop = asyncio.get_running_loop()
    key = (id(database.engine), id(loop))
    pool = _pools.get(key)
    if pool is None:
        # The engine's database as a libpq connection string: the same server, user, options.
        url = database.engine.url.set(drivername="postgresql")
        pool = _pools[key] = StatementConnections(
            url.render_as_string(hide_password=False),
            get_appointment_settings().booking_concurrency,
            loop,
        )
    return pool

"""The booking statement's PostgreSQL connections: psycopg's asyncio connections, kept per loop.

The statement is sent straight from the event loop, without SQLAlchemy's asyncio layer (a
greenlet switch and its bookkeeping on every execution) and already in PostgreSQL's own `$n`
form, so psycopg does not parse its 5 KB of text again on each booking (psycopg caches that
only for queries up to 4 KiB). psycopg prepares it on each connection after a few executions,
so PostgreSQL plans it once per connection.

At most `size` connections per event loop (the waiting room lets no more bookings in at once);
they are opened when first needed, in autocommit (the statement is its own transaction), and
without a liveness ping: a connection found dead fails its statement and is dropped, and the
booking is answered by the full path on the ordinary engine, which pings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus


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

    async def close(self) -> None:
        idle, self.idle = self.idle, []
        for connection in idle:
            await connection.close()


_pools: dict[tuple[str, int], StatementConnections] = {}


def for_loop(conninfo: str, size: int) -> StatementConnections:
    """The connections of the running event loop (psycopg's async connections belong to the loop
    that opened them: a web process has one loop, a test client a new one per client)."""
    loop = asyncio.get_running_loop()
    key = (conninfo, id(loop))
    pool = _pools.get(key)
    if pool is None:
        pool = _pools[key] = StatementConnections(conninfo, size, loop)
    return pool

"""The availability read on the event loop (PostgreSQL): a centre's slots on a day in one
statement, sent by psycopg's async driver on the statement connections, with no thread-pool hop
and no ORM session. Elsewhere (SQLite, a test's outer transaction) `service.availability` answers.
"""

from __future__ import annotations

from datetime import UTC, date
from functools import cache
from typing import Any

from sqlalchemy import Date, String, and_, bindparam, select

from smartnation.appointments import statement_connections
from smartnation.appointments.models import Centre, Slot
from smartnation.appointments.supply import SlotView
from smartnation.core.db import Database
from smartnation.core.errors import NotFound


@cache
def _statement() -> Any:
    # The centre joined to its slots of the day: one row with NULL slot columns when it has none,
    # no row when there is no such centre.
    centre, slot = Centre.__table__.alias("c"), Slot.__table__.alias("s")
    return (
        select(slot.c.id, slot.c.starts_at, slot.c.capacity, slot.c.booked)
        .select_from(
            centre.outerjoin(
                slot,
                and_(
                    slot.c.centre_id == centre.c.id,
                    slot.c.day == bindparam("given_day", type_=Date),
                ),
            )
        )
        .where(centre.c.code == bindparam("given_code", type_=String))
        .order_by(slot.c.starts_at)
    )


async def availability(database: Database, code: str, day: date) -> list[SlotView]:
    """`service.availability` of the centre with `code`, read from the event loop; raises
    `NotFound` for an unknown centre as `service.get_centre` does."""
    connections = statement_connections.for_database(database)
    async with connections.connection() as connection:
        rows = await statement_connections.fetch_all(
            connection, _statement(), {"given_code": code, "given_day": day}
        )
    if not rows:
        raise NotFound(f"No centre has the code {code}.")
    return [
        SlotView(row.id, row.starts_at.astimezone(UTC), row.capacity, row.booked)
        for row in rows
        if row.id is not None
    ]

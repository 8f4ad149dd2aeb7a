"""Bulk inserts of time-series rows: PostgreSQL COPY, one executemany on SQLite.

An upload stores tens of thousands of encounter rows and resolution thousands of contacts;
COPY is several times faster than INSERT statements, which matters for the goal of a case's
contact list within seconds of its upload.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session


def copy_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert `rows` (values in `columns` order) into `table`; returns how many."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        values = [dict(zip(columns, row, strict=True)) for row in rows]
        if values:
            session.execute(insert(table), values)
        return len(values)
    raw = connection.connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    # Only JSON columns need wrapping; looking at every value of every row costs more than the
    # COPY itself on an upload's tens of thousands of encounter rows.
    wrapped = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    count = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        # psycopg formats rows in C: faster than building the text lines in Python.
        write = copy.write_row
        if not wrapped:
            for row in rows:
                write(row)
                count += 1
            return count
        for row in rows:
            values = list(row)
            for i in wrapped:
                if isinstance(values[i], dict | list):
                    values[i] = Json(values[i])
            write(values)
            count += 1
    return count

"""Bulk work on time-series rows: PostgreSQL COPY (one executemany on SQLite), and a pause of
Python's cyclic garbage collector while an upload's records are processed.

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

# (table, columns) -> the columns' type OIDs, for binary COPY. Built-in type OIDs never
# change, so one look-up per table serves the process.
_COPY_TYPES: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def _column_types(session: Session, table: Table, columns: Sequence[str]) -> list[int]:
    key = (table.name, tuple(columns))
    types = _COPY_TYPES.get(key)
    if types is None:
        rows = session.connection().exec_driver_sql(
            "SELECT attname, atttypid::int FROM pg_attribute "
            "WHERE attrelid = %(table)s::regclass AND attnum > 0 AND NOT attisdropped",
            {"table": table.name},
        )
        found = {name: oid for name, oid in rows}
        types = _COPY_TYPES[key] = [found[name] for name in columns]
    return types


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
    types = _column_types(session, table, columns)
    raw = connection.connection.driver_connection
    # Binary COPY: the server reads numbers and times as they are instead of parsing text.
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
    # Only JSON columns need wrapping; looking at every value of every row costs more than the
    # COPY itself on an upload's tens of thousands of encounter rows.
    wrapped = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    count = 0
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.set_types(types)
        # psycopg formats rows in C: faster than building the rows' bytes in Python.
        write = copy.write_row
        if not wrapped:
            for row in rows:
                write(row)
                count += 1
            return count
        for row in rows:
            cells: list[Any] = list(row)
            for i in wrapped:
                if isinstance(cells[i], dict | list):
                    cells[i] = Json(cells[i])
            write(cells)
            count += 1
    return count

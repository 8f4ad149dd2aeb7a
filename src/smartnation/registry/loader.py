"""Loading a synthetic population: COPY on PostgreSQL, batched inserts on SQLite.

On PostgreSQL people are generated a chunk at a time in worker processes, already in COPY's text
format, while this process streams the chunks to `COPY ... FROM STDIN`; so generation overlaps with
the database's work and the load runs at about the speed of a plain COPY. A large load into an empty
table drops the table's secondary indexes and foreign keys first and builds them again after the
COPY, in the same transaction: building a B-tree from sorted data is several times faster than
inserting millions of scattered NRICs into one, and one foreign-key check by join is faster than a
trigger per row. The end state is identical, and if anything fails nothing is left half done.

The whole nation (5.7 million people) loads in a couple of minutes on PostgreSQL; the small default
demo in seconds on either database. Progress is reported through callbacks so the command can show
a bar.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import astuple
from datetime import date

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.validators import parse_uen
from smartnation.registry.generator import (
    CHUNK_SIZE,
    RESIDENT_COLUMNS,
    building_count,
    generate_addresses,
    generate_chunks,
)
from smartnation.registry.models import Address, Business, BusinessOfficer, Resident

Progress = Callable[[int], None]
Step = Callable[[str], None]
BATCH = 10_000
# From this many people into an empty table, indexes are built after the COPY instead of during it.
REBUILD_INDEXES_FROM = 200_000
# From this many people, chunks are generated in worker processes.
PARALLEL_FROM = 2 * CHUNK_SIZE

ADDRESS_COLUMNS = ("postal_code", "block", "street", "building", "building_type")
_SSIC = (
    ("86201", "Clinics and other general medical services (Western)"),
    ("56111", "Restaurants"),
    ("47111", "Supermarkets"),
    ("62011", "Development of software and applications"),
    ("41001", "General contractors (building construction)"),
    ("85101", "Pre-primary education"),
    ("96021", "Hairdressing, barbering and beauty treatment"),
    ("68104", "Real estate agencies"),
)
_BUSINESS_WORDS = (
    "LION CITY",
    "MERLION",
    "SENTOSA",
    "KAMPONG",
    "RAFFLES",
    "GARDEN CITY",
    "HARBOURFRONT",
    "PEARL",
    "JADE",
    "ORCHID",
)


def _uen_for(index: int) -> str:
    """A valid local-company UEN: year of incorporation, five digits, check letter."""
    year = 1990 + index % 35
    body = f"{year}{(index * 7919) % 100_000:05d}"
    weights = (10, 8, 6, 4, 9, 7, 5, 3, 1)
    letter = "ZKCMDNERGWH"[sum(w * int(d) for w, d in zip(weights, body, strict=True)) % 11]
    return parse_uen(body + letter)


def _insert_rows(
    connection: Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple[object, ...]],
    progress: Progress | None,
) -> int:
    """Insert rows in batches; COPY on PostgreSQL. Table and columns are this module's constants."""
    total = 0
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                total += 1
                if progress and total % BATCH == 0:
                    progress(BATCH)
        if progress and total % BATCH:
            progress(total % BATCH)
        return total
    # Table and column names are constants of this module, never input.
    statement = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"  # noqa: S608
    )
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == BATCH:
            connection.execute(statement, batch)
            total += len(batch)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        connection.execute(statement, batch)
        total += len(batch)
        if progress:
            progress(len(batch))
    return total


def default_workers() -> int:
    """Generator processes beside this one: every core but the one the database needs."""
    return max(1, (os.cpu_count() or 2) - 1)


def copy_blocks(
    seed: int, start: int, count: int, buildings: int, now: str, workers: int | None = None
) -> Iterator[tuple[bytes, int]]:
    """People `start` to `start + count` in COPY text (with created_at and updated_at `now`), in
    order, a chunk at a time.

    Large populations (or any, when `workers` is given) are generated by `workers` processes
    (`python -m smartnation.registry.generator`), each making every n-th chunk and writing it to
    its standard output; the pipe's buffer keeps each a chunk or so ahead of the consumer and no
    further. `workers=0` generates in this process.
    """
    if workers is None:
        workers = default_workers() if count >= PARALLEL_FROM else 0
    if workers < 1:
        for chunk in generate_chunks(seed, start, count, buildings):
            yield chunk.copy_text(now, now), len(chunk)
        return
    chunks = [
        (s, min(CHUNK_SIZE, start + count - s)) for s in range(start, start + count, CHUNK_SIZE)
    ]
    workers = min(workers, len(chunks))
    processes = [
        subprocess.Popen(  # noqa: S603 - this interpreter running our own module
            [
                sys.executable,
                "-m",
                "smartnation.registry.generator",
                *(str(v) for v in (seed, start, count, buildings, now, workers, number)),
            ],
            stdout=subprocess.PIPE,
        )
        for number in range(workers)
    ]
    try:
        for number, (_chunk_start, rows) in enumerate(chunks):
            stream = processes[number % workers].stdout
            assert stream is not None
            size = int.from_bytes(stream.read(8), "big")
            block = stream.read(size)
            if len(block) != size or (size == 0 and rows):
                raise RuntimeError("a population generator process stopped early")
            yield block, rows
        for process in processes:
            if process.wait() != 0:
                raise RuntimeError(f"a population generator process failed ({process.returncode})")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout:
                process.stdout.close()


_SECONDARY_CONSTRAINTS = text(
    """
    SELECT c.conname, pg_get_constraintdef(c.oid), c.contype
    FROM pg_constraint c
    WHERE c.conrelid = CAST(:table AS regclass) AND c.contype IN ('u', 'f')
      AND (c.contype = 'f' OR NOT EXISTS (
        SELECT 1 FROM pg_constraint f
        WHERE f.contype = 'f' AND f.conindid = c.conindid AND f.conrelid <> c.conrelid))
    ORDER BY c.contype DESC, c.conname
    """
)
_SECONDARY_INDEXES = text(
    """
    SELECT i.relname, pg_get_indexdef(x.indexrelid)
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
    WHERE x.indrelid = CAST(:table AS regclass) AND NOT x.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
    ORDER BY i.relname
    """
)


@contextmanager
def indexes_built_afterwards(
    connection: Connection, table: str, step: Step | None
) -> Iterator[None]:
    """Drop `table`'s secondary indexes, unique constraints and foreign keys; re-create them after.

    Runs inside the caller's transaction, so other sessions never see the table without them and a
    failure leaves everything as it was. Unique constraints other tables' foreign keys rely on stay.
    """
    constraints = connection.execute(_SECONDARY_CONSTRAINTS, {"table": table}).all()
    indexes = connection.execute(_SECONDARY_INDEXES, {"table": table}).all()
    # Names come from the catalogue, never from input; they are quoted all the same.
    for name, _definition, _kind in constraints:
        connection.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    if step:
        step("Building indexes")
    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '512MB'")
    for _name, definition in indexes:
        connection.exec_driver_sql(definition)
    # Unique constraints first: foreign keys (checked with one join each) come last.
    for name, definition, _kind in sorted(constraints, key=lambda c: c[2] == "f"):
        connection.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _copy_residents(
    connection: Connection,
    seed: int,
    start: int,
    people: int,
    buildings: int,
    progress: Progress | None,
    step: Step | None,
    workers: int | None,
    rebuild_indexes: bool | None,
) -> int:
    table = Resident.__tablename__
    if rebuild_indexes is None:
        rebuild_indexes = people >= REBUILD_INDEXES_FROM
    rebuild = bool(
        rebuild_indexes
        and connection.exec_driver_sql(f"SELECT NOT EXISTS (SELECT 1 FROM {table})").scalar()  # noqa: S608
    )
    raw = connection.connection.driver_connection
    assert raw is not None
    now = utcnow().isoformat()
    columns = ", ".join((*RESIDENT_COLUMNS, "created_at", "updated_at"))
    total = 0
    with (
        indexes_built_afterwards(connection, table, step) if rebuild else nullcontext(),
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for block, rows in copy_blocks(seed, start, people, buildings, now, workers):
            copy.write(block)
            total += rows
            if progress:
                progress(rows)
    if rebuild:
        if step:
            step("Analysing")
        connection.exec_driver_sql(f"ANALYZE {table}")
    return total


def load_population(
    database: Database,
    people: int,
    seed: int = 1,
    *,
    progress: Progress | None = None,
    step: Step | None = None,
    start: int = 0,
    workers: int | None = None,
    rebuild_indexes: bool | None = None,
) -> int:
    """Load `people` synthetic residents (and, from the first, their buildings) in one transaction.

    `progress` is told how many people were loaded after each batch, `step` the name of each phase
    that follows the rows (building indexes). On PostgreSQL, `workers` is how many generator
    processes to use (default: all cores but one, for large loads) and `rebuild_indexes` whether
    to build the indexes after the rows when the table is empty (default: for large loads).
    """
    buildings = building_count(start + people)
    with database.connection() as connection:
        if start == 0:
            addresses = (astuple(a) for a in generate_addresses(seed, buildings))
            _insert_rows(connection, Address.__tablename__, ADDRESS_COLUMNS, addresses, None)
        if connection.dialect.name == "postgresql":
            return _copy_residents(
                connection, seed, start, people, buildings, progress, step, workers, rebuild_indexes
            )
        now = utcnow().replace(tzinfo=None)  # SQLite keeps naive UTC (see core.db.UTCDateTime)
        rows = (
            (*row, now, now)
            for chunk in generate_chunks(seed, start, people, buildings)
            for row in chunk.rows()
        )
        columns = (*RESIDENT_COLUMNS, "created_at", "updated_at")
        return _insert_rows(connection, Resident.__tablename__, columns, rows, progress)


def load_businesses(database: Database, count: int, seed: int = 1) -> int:
    """Register `count` businesses, each with a director and a secretary from the residents."""
    rng = random.Random(f"{seed}:businesses")
    with database.transaction() as session:
        adults = list(
            session.execute(
                text(
                    "SELECT id FROM registry_resident WHERE date_of_birth < :cutoff "
                    "AND residential_status IN ('C', 'P') ORDER BY id LIMIT :limit"
                ),
                {"cutoff": date(2000, 1, 1), "limit": max(10, count * 3)},
            ).scalars()
        )
        postal_codes = list(
            session.execute(
                text("SELECT postal_code FROM registry_address ORDER BY postal_code LIMIT 500")
            ).scalars()
        )
        if not adults or not postal_codes:
            return 0
        now = utcnow()
        businesses = []
        for index in range(count):
            ssic_code, ssic_description = _SSIC[index % len(_SSIC)]
            word = _BUSINESS_WORDS[rng.randrange(len(_BUSINESS_WORDS))]
            trade = ssic_description.split(" ")[0].split("(")[0].rstrip(",").upper()
            name = f"{word} {trade} PTE. LTD." if index % 3 else f"{word} {trade} & SONS PTE. LTD."
            businesses.append(
                {
                    "uen": _uen_for(index),
                    "name": name,
                    "entity_type": "LC",
                    "ssic_code": ssic_code,
                    "ssic_description": ssic_description,
                    "postal_code": postal_codes[index % len(postal_codes)],
                    "floor": f"{rng.randint(1, 20):02d}",
                    "unit": f"{rng.randint(1, 99):02d}",
                    "registered_on": date(1990 + index % 35, 1 + index % 12, 1 + index % 28),
                    "status": "live",
                    "created_at": now,
                }
            )
        ids = session.scalars(insert(Business).returning(Business.id), businesses).all()
        officers = []
        for index, business_id in enumerate(ids):
            director = adults[(index * 2) % len(adults)]
            secretary = adults[(index * 2 + 1) % len(adults)]
            appointed = businesses[index]["registered_on"]
            officers.append(
                {
                    "business_id": business_id,
                    "resident_id": director,
                    "role": "director",
                    "appointed_on": appointed,
                }
            )
            officers.append(
                {
                    "business_id": business_id,
                    "resident_id": secretary,
                    "role": "secretary",
                    "appointed_on": appointed,
                }
            )
        session.execute(insert(BusinessOfficer), officers)
        return len(ids)

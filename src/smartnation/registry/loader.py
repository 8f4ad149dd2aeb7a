"""Loading a synthetic population: COPY on PostgreSQL, batched inserts on SQLite.

The whole nation (5.7 million people) loads in minutes on PostgreSQL; the small default demo in
seconds on either database. Progress is reported through a callback so the command can show a bar.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import astuple
from datetime import date

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.validators import parse_uen
from smartnation.registry.generator import (
    RESIDENT_COLUMNS,
    building_count,
    generate_addresses,
    generate_residents,
)
from smartnation.registry.models import Address, Business, BusinessOfficer, Resident

Progress = Callable[[int], None]
BATCH = 10_000

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
    """Insert rows in batches; COPY on PostgreSQL."""
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


def load_population(
    database: Database,
    people: int,
    seed: int = 1,
    *,
    progress: Progress | None = None,
    start: int = 0,
) -> int:
    """Load `people` synthetic residents (and their buildings) in one transaction per call."""
    buildings = building_count(max(people, start + people))
    now = utcnow()
    with database.connection() as connection:
        if start == 0:
            addresses = (astuple(a) for a in generate_addresses(seed, buildings))
            _insert_rows(connection, Address.__tablename__, ADDRESS_COLUMNS, addresses, None)
        rows = ((*row, now, now) for row in generate_residents(seed, start, people, buildings))
        columns = (*RESIDENT_COLUMNS, "created_at", "updated_at")
        if connection.dialect.name == "sqlite":
            now_naive = now.replace(tzinfo=None)
            rows = ((*row[:-2], now_naive, now_naive) for row in rows)
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

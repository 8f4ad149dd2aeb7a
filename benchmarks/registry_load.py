"""Loading the whole nation into PostgreSQL, beside a plain COPY of the same rows (the limit).

Run: `uv run python benchmarks/registry_load.py [--people 5700000] [--workers N]`

In a fresh PostgreSQL database (dropped at the end) it measures, in one run:
1. the loader `smartnation demo load` uses: people generated in worker processes and streamed
   to `COPY ... FROM STDIN`, secondary indexes and foreign keys built after the rows, ANALYZE;
2. the limit: a plain server-side `COPY ... FROM '<file>' (FORMAT csv)` of exactly the rows the
   loader wrote (exported first, not timed) into an identical table with its indexes and
   foreign key in place;
3. the same COPY with the secondary indexes and foreign key dropped and built afterwards (the
   loader's strategy, so the comparison is like for like).
Every figure is rows per second of wall time, including index builds; ratios are printed.
Set SMARTNATION_BENCH_POSTGRES_URL to use another server (default the local one, user postgres).
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import sqlalchemy as sa

from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.registry.generator import RESIDENT_COLUMNS
from smartnation.registry.loader import default_workers, indexes_built_afterwards, load_population

ADMIN_URL = os.environ.get(
    "SMARTNATION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
COLUMNS = ", ".join((*RESIDENT_COLUMNS, "created_at", "updated_at"))
COPY_TABLE = "bench_resident_copy"


def _admin(statement: str) -> None:
    engine = Database.from_settings(DatabaseSettings(url=ADMIN_URL)).engine
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def _identical_table(connection: sa.Connection) -> None:
    """A copy of registry_resident: columns, defaults, keys, indexes and its foreign key."""
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {COPY_TABLE}")
    connection.exec_driver_sql(f"CREATE TABLE {COPY_TABLE} (LIKE registry_resident INCLUDING ALL)")
    foreign_keys = connection.exec_driver_sql(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'registry_resident'::regclass AND contype = 'f'"
    ).scalars()
    for number, definition in enumerate(foreign_keys):
        connection.exec_driver_sql(
            f"ALTER TABLE {COPY_TABLE} ADD CONSTRAINT {COPY_TABLE}_fk{number} {definition}"
        )


def _copy_from_csv(database: Database, csv_path: str, people: int, rebuild: bool) -> float:
    with database.engine.begin() as connection:
        _identical_table(connection)
    began = time.perf_counter()
    with database.engine.begin() as connection:
        with indexes_built_afterwards(connection, COPY_TABLE, None) if rebuild else nullcontext():
            connection.exec_driver_sql(
                f"COPY {COPY_TABLE} ({COLUMNS}) FROM '{csv_path}' WITH (FORMAT csv)"
            )
        if rebuild:
            connection.exec_driver_sql(f"ANALYZE {COPY_TABLE}")
    taken = time.perf_counter() - began
    with database.engine.begin() as connection:
        copied = connection.exec_driver_sql(f"SELECT count(*) FROM {COPY_TABLE}").scalar_one()
        assert copied == people, (copied, people)
        connection.exec_driver_sql(f"DROP TABLE {COPY_TABLE}")
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_700_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=default_workers())
    args = parser.parse_args()
    people: int = args.people

    name = f"smartnation_bench_load_{os.getpid()}_{secrets.token_hex(2)}"
    _admin(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    database = Database.from_settings(DatabaseSettings(url=url))
    folder = Path(tempfile.mkdtemp(prefix="smartnation-bench-"))
    folder.chmod(0o777)  # the server process writes and reads the CSV file
    csv_path = str(folder / "residents.csv")
    try:
        upgrade_database(url)
        with database.engine.connect() as connection:
            version = connection.exec_driver_sql("SHOW server_version").scalar_one()
        print(
            f"Loading {people:,} synthetic residents into PostgreSQL {version} "
            f"({os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{args.workers} generator process(es))"
        )

        began = time.perf_counter()
        loaded = load_population(database, people, args.seed, workers=args.workers)
        loader_seconds = time.perf_counter() - began
        assert loaded == people

        with database.engine.begin() as connection:
            connection.exec_driver_sql(
                f"COPY registry_resident ({COLUMNS}) TO '{csv_path}' WITH (FORMAT csv)"
            )
        size = Path(csv_path).stat().st_size
        kept_seconds = _copy_from_csv(database, csv_path, people, rebuild=False)
        rebuilt_seconds = _copy_from_csv(database, csv_path, people, rebuild=True)

        loader = people / loader_seconds
        kept = people / kept_seconds
        rebuilt = people / rebuilt_seconds
        print(f"  {'rows':<64} {people:>12,}  (CSV file {size / 1e6:,.0f} MB)")
        print(
            f"  {'smartnation loader: generate + COPY FROM STDIN, indexes after':<64} "
            f"{loader:>12,.0f} rows/s  ({loader_seconds:,.1f} s)"
        )
        print(
            f"  {'limit: COPY FROM CSV file, identical table, indexes in place':<64} "
            f"{kept:>12,.0f} rows/s  ({kept_seconds:,.1f} s)"
        )
        print(
            f"  {'limit: COPY FROM CSV file, indexes dropped and built after':<64} "
            f"{rebuilt:>12,.0f} rows/s  ({rebuilt_seconds:,.1f} s)"
        )
        print(f"  loader / COPY (indexes in place)      = {loader / kept:.2f}")
        print(f"  loader / COPY (indexes built after)   = {loader / rebuilt:.2f}   (goal: >= 0.5)")
    finally:
        database.engine.dispose()
        Path(csv_path).unlink(missing_ok=True)
        folder.rmdir()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()

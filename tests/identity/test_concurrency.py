"""Invariants that need separate connections at once: each thread has its own transaction on a
database of the test's own (PostgreSQL runs them in parallel, SQLite one writer at a time)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from conftest import create_postgres_database, drop_postgres_database
from smartnation.cli import upgrade_database
from smartnation.core.clock import utcnow
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.identity.models import SigningKey
from smartnation.identity.storage import DatabaseReplayGuard, load_keyring

THREADS = 8


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    url = (
        create_postgres_database("smartnation_identity")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}/identity.db"
    )
    database = None
    try:
        upgrade_database(url)
        database = Database.from_settings(DatabaseSettings(url=url, pool_size=THREADS))
        yield database
    finally:
        if database is not None:
            database.engine.dispose()
        if backend == "postgresql":
            drop_postgres_database(url)


def _at_once(work, count: int = THREADS) -> list:  # type: ignore[no-untyped-def, type-arg]
    start = threading.Barrier(count)

    def run(_: int):  # type: ignore[no-untyped-def]
        start.wait()
        return work()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_processes_starting_together_create_one_key_ring(fresh_database: Database) -> None:
    def first_request() -> str:
        with fresh_database.transaction() as session:
            return load_keyring(session).current.kid

    currents = _at_once(first_request)
    assert len(set(currents)) == 1
    with fresh_database.transaction() as session:
        rows = session.execute(
            sa.select(SigningKey.kid, SigningKey.state).where(SigningKey.retired.is_(False))
        ).all()
        ring = load_keyring(session)
    assert sorted(kid for kid, _ in rows) == sorted(key.kid for key in ring.keys)
    assert [kid for kid, state in rows if state == "current"] == [currents[0]]


def test_a_value_is_used_once_however_many_try_at_once(fresh_database: Database) -> None:
    expires = utcnow() + timedelta(minutes=2)

    def use() -> bool:
        with fresh_database.transaction() as session:
            return DatabaseReplayGuard(session).first_use("dpop", "same-jti", expires)

    assert sorted(_at_once(use)) == [False] * (THREADS - 1) + [True]

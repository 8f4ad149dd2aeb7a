"""Fixtures of the appointment tests: a fresh database of its own, for tests that need separate
connections (concurrency, counters that must survive a rolled-back request)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import create_postgres_database, drop_postgres_database
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database


@pytest.fixture
def fresh_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new, migrated database on the test's backend, dropped afterwards."""
    url = (
        create_postgres_database("smartnation_nas")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}/nas.db"
    )
    try:
        upgrade_database(url)
        yield url
    finally:
        if backend == "postgresql":
            drop_postgres_database(url)


@pytest.fixture
def fresh_database(fresh_url: str) -> Iterator[Database]:
    database = Database.from_settings(DatabaseSettings(url=fresh_url, pool_size=20))
    yield database
    database.engine.dispose()

"""Test databases: every test that touches data runs on SQLite and on PostgreSQL.

Each backend gets a fresh database per run, migrated with the real Alembic history; each test runs
inside a transaction that is rolled back at its end. Set SMARTNATION_TEST_DATABASES=sqlite to run
without PostgreSQL (CI always runs both).
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from smartnation.app import create_app
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings, Settings, WebSettings
from smartnation.core.db import Database, make_engine

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
POSTGRES_ADMIN_URL = os.environ.get(
    "SMARTNATION_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = [
    name.strip()
    for name in os.environ.get("SMARTNATION_TEST_DATABASES", "sqlite,postgresql").split(",")
    if name.strip()
]


def _postgres_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="smartnation-test-") as folder:
        url = f"sqlite:///{folder}/test.db"
        upgrade_database(url)
        yield url


def create_postgres_database(prefix: str = "smartnation_test") -> str:
    """A fresh, empty PostgreSQL database; returns its URL."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(
            "PostgreSQL is not reachable at "
            f"{POSTGRES_ADMIN_URL} ({error.orig}). Start it (see README) or set "
            "SMARTNATION_TEST_DATABASES=sqlite.",
            pytrace=False,
        )
    finally:
        admin.dispose()
    return _postgres_url(name)


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    url = create_postgres_database()
    upgrade_database(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="session")
def engines(request: pytest.FixtureRequest) -> Iterator[dict[str, sa.Engine]]:
    made: dict[str, sa.Engine] = {}
    yield made
    for engine in made.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test run: sqlite or postgresql."""
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture
def database(database_url: str, backend: str, engines: dict[str, sa.Engine]) -> Iterator[Database]:
    """A Database whose every unit of work is a savepoint in one transaction rolled back at the end."""
    if backend not in engines:
        engines[backend] = make_engine(DatabaseSettings(url=database_url))
    engine = engines[backend]
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield Database(engine, bind=connection)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def session(database: Database) -> Iterator[sa.orm.Session]:
    """A session inside the test's transaction."""
    with database.transaction() as session:
        yield session


def test_settings(database_url: str) -> Settings:
    return Settings(
        database=DatabaseSettings(url=database_url),
        web=WebSettings(secret_key="test-secret", embedded_worker=False),
    )


@pytest.fixture
def app(database: Database, database_url: str):  # type: ignore[no-untyped-def]
    return create_app(test_settings(database_url), database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def shared_dir() -> Path:
    """The shared specs, vectors and fixtures beside the project; skips when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not present: the reference vectors and fixtures live there")
    return SHARED

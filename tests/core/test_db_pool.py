"""The connection pool checks a connection before use only when it has been idle a while."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from tests.conftest import BACKENDS

from smartnation.core.config import DatabaseSettings
from smartnation.core.db import make_engine

pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="needs PostgreSQL (SMARTNATION_TEST_DATABASES excludes it)"
)


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _engine(url: str, ping_after_idle_seconds: float) -> sa.Engine:
    return make_engine(
        DatabaseSettings(url=url, pool_size=1, ping_after_idle_seconds=ping_after_idle_seconds)
    )


def _terminate(url: str, pid: int) -> None:
    admin = make_engine(DatabaseSettings(url=url))
    with admin.connect() as connection:
        assert connection.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar_one()
        connection.commit()
    admin.dispose()


def test_a_connection_idle_past_the_limit_is_checked_and_replaced(postgresql_url: str) -> None:
    engine = _engine(postgresql_url, ping_after_idle_seconds=0.0)
    try:
        first = _backend_pid(engine)
        _terminate(postgresql_url, first)  # e.g. a restart or a dropped idle connection
        # The dead connection is found by the ping and replaced: the caller never sees it.
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(postgresql_url: str) -> None:
    engine = _engine(postgresql_url, ping_after_idle_seconds=3600.0)
    statements: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    try:
        _backend_pid(engine)
        statements.clear()
        _backend_pid(engine)
        assert statements == ["SELECT pg_backend_pid()"]  # no "SELECT 1" before it
    finally:
        engine.dispose()


def test_a_connection_dropped_while_pooled_recovers_after_one_failure(postgresql_url: str) -> None:
    # Without a ping (used within the limit), a connection killed in between fails that one use;
    # SQLAlchemy then discards the pool's connections and the next use gets a fresh one.
    engine = _engine(postgresql_url, ping_after_idle_seconds=3600.0)
    try:
        first = _backend_pid(engine)
        _terminate(postgresql_url, first)
        with pytest.raises(sa.exc.OperationalError):
            _backend_pid(engine)
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()

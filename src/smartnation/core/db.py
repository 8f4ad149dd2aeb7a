"""The database: engine, sessions (one transaction per request, job or command) and column types.

The same models and migrations run on SQLite (embedded) and PostgreSQL (production).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import CHAR, TypeDecorator

from smartnation.core.config import DatabaseSettings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table of every domain: `<domain>_<entity>`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# A 64-bit key that autoincrements on both databases (SQLite only does so for INTEGER keys).
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant: refuses naive values, always returns UTC.

    SQLite keeps no zone, so values are stored as naive UTC there and made aware on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use smartnation.core.clock.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class GUID(TypeDecorator[uuid.UUID]):
    """A UUID: native on PostgreSQL, 32 hex characters on SQLite."""

    impl = CHAR(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import UUID

            return dialect.type_descriptor(UUID(as_uuid=True))
        return dialect.type_descriptor(CHAR(32))

    def process_bind_param(self, value: uuid.UUID | str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, uuid.UUID):
            value = uuid.UUID(str(value))
        return value if dialect.name == "postgresql" else value.hex

    def process_result_value(self, value: Any, dialect: Dialect) -> uuid.UUID | None:
        if value is None:
            return None
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling would defeat SAVEPOINT and SELECT ... FOR UPDATE
        # emulation; let SQLAlchemy emit BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front so concurrent writers queue instead of failing
        # half-way with "database is locked".
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection with a round trip only if it has been idle `idle_seconds`.

    SQLAlchemy's `pool_pre_ping` pings on every checkout: one extra round trip per request, about
    a fifth of a simple request's time. A connection returned moments ago is as good as the ping
    would show; one idle for a while may have been dropped (a restart, a failover, a firewall),
    and is replaced before any request sees it. A connection that breaks while in use still
    invalidates the pool, as SQLAlchemy always does on a disconnect error.
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # a new connection, or one in steady use
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # The pool discards this connection and checks out a fresh one.
            raise DisconnectionError(f"connection idle {idle_seconds:g} s is gone") from error


def make_engine(settings: DatabaseSettings) -> Engine:
    """An engine for the configured database, with the SQLite pragmas the platform relies on."""
    url = settings.url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=settings.echo, connect_args={"check_same_thread": False, "timeout": 30}
        )
        _configure_sqlite(engine)
        return engine
    engine = create_engine(
        url,
        echo=settings.echo,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_overflow,
    )
    _ping_when_idle(engine, settings.ping_after_idle_seconds)
    return engine


class Database:
    """An engine and the session factory bound to it."""

    def __init__(self, engine: Engine, bind: Engine | Connection | None = None) -> None:
        self.engine = engine
        self.bind = bind
        # Binding to a connection already inside a transaction (as the tests do) turns each
        # unit of work into a savepoint, so the outer transaction can be rolled back at the end.
        self.sessions = sessionmaker(
            bind=bind if bind is not None else engine,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        return cls(make_engine(settings))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A Core connection in a transaction, for bulk work such as COPY."""
        if isinstance(self.bind, Connection):
            with self.bind.begin_nested():
                yield self.bind
        else:
            with self.engine.begin() as connection:
                yield connection

    def ping(self) -> None:
        """Check that the database answers, in one round trip where the database allows it.

        On PostgreSQL the query runs on an autocommit connection: psycopg would otherwise send
        BEGIN and then ROLLBACK around it, three round trips for one question.
        """
        if isinstance(self.bind, Connection):
            self.bind.exec_driver_sql("SELECT 1")
        elif self.dialect == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("SELECT 1")
        else:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        with self.sessions() as session, session.begin():
            yield session

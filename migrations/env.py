"""Alembic environment: one linear history for SQLite and PostgreSQL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

from smartnation.core.db import Base
from smartnation.domains import register_models

register_models()
config = context.config
target_metadata = Base.metadata


def _url() -> str:
    # Run by hand, `alembic` follows SMARTNATION_DATABASE_URL like the rest of the platform.
    from_env = os.environ.get("SMARTNATION_DATABASE_URL")
    url = (
        from_env
        if from_env and not config.attributes.get("from_cli")
        else (config.get_main_option("sqlalchemy.url") or "")
    )
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        section = config.get_section(config.config_ini_section) or {}
        section["sqlalchemy.url"] = _url()
        engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection: object) -> None:
    # Batch mode lets ALTER TABLE work on SQLite by rebuilding the table.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,  # type: ignore[arg-type]
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

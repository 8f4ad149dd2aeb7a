"""The commands work in a fresh checkout: nothing has to exist beforehand."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from smartnation.cli import upgrade_database


def test_upgrade_creates_the_folder_of_a_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "var" / "nested" / "smartnation.db"
    upgrade_database(f"sqlite:///{path}")
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM registry_resident").scalar() == 0
    engine.dispose()

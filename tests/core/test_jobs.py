"""The database-backed job queue: enqueued with the change, run once, retried, never half applied."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from job_handlers import CALLS  # noqa: F401 - registers the test job kinds

from conftest import create_postgres_database, drop_postgres_database
from smartnation.cli import upgrade_database
from smartnation.core.audit import AuditEvent
from smartnation.core.clock import utcnow
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.core.jobs import Job, Worker, enqueue

HERE = Path(__file__).resolve().parent


def _audit_count(database: Database, action: str) -> int:
    with database.transaction() as session:
        return (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action)
            )
            or 0
        )


def test_a_job_exists_only_if_its_transaction_commits(database: Database) -> None:
    try:
        with database.transaction() as session:
            enqueue(session, "test.record", {"id": "rolled-back"})
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_worker_runs_a_job_and_its_effect_commits_with_it(database: Database) -> None:
    with database.transaction() as session:
        enqueue(session, "test.record", {"id": "one"})
    worker = Worker(database)
    assert worker.run_until_idle() == 1
    assert _audit_count(database, "test.recorded") == 1
    with database.transaction() as session:
        job_row = session.scalars(sa.select(Job)).one()
        assert job_row.status == "done"
        assert job_row.attempts == 1
    assert worker.run_until_idle() == 0  # never run twice


def test_failures_are_retried_with_backoff_then_dead_and_never_half_applied(
    database: Database,
) -> None:
    with database.transaction() as session:
        enqueue(session, "test.always_fails", {"id": "x"})
    worker = Worker(database)
    worker.run_once()
    with database.transaction() as session:
        job_row = session.scalars(sa.select(Job)).one()
        assert job_row.status == "queued"
        assert job_row.run_after > utcnow() - timedelta(seconds=1)
        assert "the provider is down" in (job_row.last_error or "")
        job_row.run_after = utcnow() - timedelta(seconds=1)
    worker.run_once()
    with database.transaction() as session:
        assert session.scalars(sa.select(Job)).one().status == "dead"
    assert _audit_count(database, "test.half_done") == 0


def test_dedupe_key_enqueues_a_logical_job_once(database: Database) -> None:
    with database.transaction() as session:
        enqueue(session, "test.record", {"id": "a"}, dedupe_key="nightly@1")
    try:
        with database.transaction() as session:
            enqueue(session, "test.record", {"id": "a"}, dedupe_key="nightly@1")
    except sa.exc.IntegrityError:
        pass
    with database.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Job)) == 1


def test_a_killed_worker_leaves_its_job_to_be_retried_never_half_applied(
    database_url: str, tmp_path: Path, backend: str
) -> None:
    """A worker process killed mid-job: nothing it did is kept, and the job runs again once."""
    url = (
        create_postgres_database("smartnation_kill")
        if backend == "postgresql"
        else (f"sqlite:///{tmp_path}/kill.db")
    )
    try:
        upgrade_database(url)
        database = Database.from_settings(DatabaseSettings(url=url))
        marker = tmp_path / "marker"
        with database.transaction() as session:
            enqueue(session, "test.slow_first_time", {"id": "k", "marker": str(marker)})
        code = (
            f"import sys; sys.path.insert(0, {str(HERE)!r}); import job_handlers\n"
            "from smartnation.core.db import Database\n"
            "from smartnation.core.config import DatabaseSettings\n"
            "from smartnation.core.jobs import Worker\n"
            f"Worker(Database.from_settings(DatabaseSettings(url={url!r})), lease_seconds=2).run_once()\n"
        )
        process = subprocess.Popen([sys.executable, "-c", code])
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the worker process never started the job"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert _audit_count(database, "test.slow") == 0  # nothing half applied
        time.sleep(2.1)  # the dead worker's lease runs out
        assert Worker(database, lease_seconds=2).run_until_idle() == 1
        assert _audit_count(database, "test.slow") == 1
        with database.transaction() as session:
            job_row = session.scalars(sa.select(Job)).one()
            assert (job_row.status, job_row.attempts) == ("done", 2)
        database.engine.dispose()
    finally:
        if backend == "postgresql":
            drop_postgres_database(url)

"""Background jobs backed by the database.

A job is a row enqueued in the same transaction as the change that causes it, so it exists if and
only if that change committed. Workers claim jobs with `FOR UPDATE SKIP LOCKED` on PostgreSQL (any
number of worker processes on any number of machines share the queue; SQLite serialises writers
instead). A job's handler runs in one transaction together with marking the job done: a process
killed half-way leaves nothing applied, and the job's lease runs out so another worker retries it.
Handlers take ids, reload what they need and must be safe to run twice.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from smartnation.core.audit import current_actor
from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, Database, UTCDateTime
from smartnation.core.metrics import JOBS_FINISHED

log = logging.getLogger(__name__)

JobHandler = Callable[[Session, dict[str, Any]], None]


class Job(Base):
    __tablename__ = "core_job"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued -> running -> done, or back to queued after a failure, or dead when out of attempts
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(String(120))
    # Unique when set: the same logical job (one periodic run, one message) is enqueued once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LeaseLost(RuntimeError):
    """The job's lease expired while it ran and another worker claimed it."""


@dataclass(frozen=True)
class JobKind:
    """A registered kind of job: its handler and how hard to retry it."""

    name: str
    handler: JobHandler
    max_attempts: int
    backoff_seconds: float

    def delay_after(self, attempts: int) -> timedelta:
        """Exponential backoff, capped at an hour."""
        return timedelta(seconds=min(3600.0, self.backoff_seconds * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class PeriodicJob:
    """A job enqueued once per period (nightly retention, reminders)."""

    name: str
    every: timedelta


JOB_KINDS: dict[str, JobKind] = {}
PERIODIC_JOBS: dict[str, PeriodicJob] = {}
# Long-running loops a domain needs beside the job queue (a broadcast sender that claims its own
# rows); each runs in a thread of every worker until the stop event is set.
BackgroundLoop = Callable[[Database, threading.Event], None]
BACKGROUND_LOOPS: dict[str, BackgroundLoop] = {}


def job(
    name: str, *, max_attempts: int = 5, backoff_seconds: float = 5.0
) -> Callable[[JobHandler], JobHandler]:
    """Register a function as the handler of a kind of job."""

    def register(handler: JobHandler) -> JobHandler:
        JOB_KINDS[name] = JobKind(name, handler, max_attempts, backoff_seconds)
        return handler

    return register


def periodic(name: str, every: timedelta) -> None:
    """Have the workers enqueue a registered job once every period."""
    PERIODIC_JOBS[name] = PeriodicJob(name, every)


def background_loop(name: str) -> Callable[[BackgroundLoop], BackgroundLoop]:
    """Register a function that workers run in a thread of its own until they stop."""

    def register(loop: BackgroundLoop) -> BackgroundLoop:
        BACKGROUND_LOOPS[name] = loop
        return loop

    return register


def start_background_loops(db: Database, stop: threading.Event) -> list[threading.Thread]:
    """Start each registered loop in a daemon thread; one that raises is logged and restarted."""

    def supervise(name: str, loop: BackgroundLoop) -> None:
        while not stop.is_set():
            try:
                loop(db, stop)
            except Exception:
                log.exception("background loop %s failed; restarting", name)
            stop.wait(1.0)

    threads = [
        threading.Thread(target=supervise, args=(name, loop), name=f"loop-{name}", daemon=True)
        for name, loop in BACKGROUND_LOOPS.items()
    ]
    for thread in threads:
        thread.start()
    return threads


def enqueue(
    session: Session,
    name: str,
    payload: dict[str, Any] | None = None,
    *,
    run_after: datetime | None = None,
    dedupe_key: str | None = None,
) -> Job:
    """Add a job in the caller's transaction: it runs only if that transaction commits."""
    kind = JOB_KINDS.get(name)
    new = Job(
        name=name,
        payload=payload or {},
        status="queued",
        attempts=0,
        max_attempts=kind.max_attempts if kind else 5,
        run_after=run_after or utcnow(),
        dedupe_key=dedupe_key,
        created_at=utcnow(),
    )
    session.add(new)
    session.flush()
    return new


class Worker:
    """Claims and runs jobs. Several may run at once, in threads or processes or machines."""

    def __init__(
        self,
        db: Database,
        *,
        lease_seconds: int = 300,
        batch_size: int = 10,
        kinds: dict[str, JobKind] | None = None,
    ) -> None:
        self.db = db
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.kinds = kinds if kinds is not None else JOB_KINDS
        self.identity = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self._stop = threading.Event()

    def claim(self) -> list[int]:
        """Take a batch of due jobs (or jobs whose worker died) and lease them to this worker."""
        now = utcnow()
        with self.db.transaction() as session:
            due = (
                select(Job.id)
                .where(
                    ((Job.status == "queued") & (Job.run_after <= now))
                    | ((Job.status == "running") & (Job.locked_until < now))
                )
                .order_by(Job.run_after, Job.id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            )
            ids = list(session.scalars(due))
            if ids:
                session.execute(
                    update(Job)
                    .where(Job.id.in_(ids))
                    .values(
                        status="running",
                        attempts=Job.attempts + 1,
                        locked_until=now + self.lease,
                        locked_by=self.identity,
                    )
                )
            return ids

    def run_job(self, job_id: int) -> str:
        """Run one claimed job; returns its new status."""
        with self.db.transaction() as session:
            row = session.get(Job, job_id)
            if row is None or row.status != "running" or row.locked_by != self.identity:
                return "skipped"
            kind = self.kinds.get(row.name)
            if kind is None:
                row.status, row.last_error, row.finished_at = "dead", "unknown job kind", utcnow()
                JOBS_FINISHED.labels(row.name, "dead").inc()
                return "dead"
            if row.attempts > row.max_attempts:
                row.status, row.finished_at = "dead", utcnow()
                row.last_error = (row.last_error or "") + "\nout of attempts (worker lost)"
                JOBS_FINISHED.labels(row.name, "dead").inc()
                return "dead"
            payload, name, attempts = dict(row.payload), row.name, row.attempts
        try:
            with self.db.transaction() as session:
                token = current_actor.set(f"job:{name}")
                try:
                    kind.handler(session, payload)
                finally:
                    current_actor.reset(token)
                finished = session.execute(
                    update(Job)
                    .where(Job.id == job_id, Job.locked_by == self.identity)
                    .where(Job.status == "running")
                    .values(status="done", finished_at=utcnow(), locked_until=None)
                )
                if finished.rowcount != 1:  # type: ignore[attr-defined]
                    # The lease ran out and another worker took the job: undo our work.
                    raise LeaseLost(f"job {job_id} was taken over by another worker")
        except LeaseLost:
            log.warning("job %s #%s: lease lost, changes rolled back", name, job_id)
            return "lost"
        except Exception as error:
            log.warning("job %s #%s failed (attempt %s): %s", name, job_id, attempts, error)
            return self._record_failure(job_id, kind, attempts, error)
        JOBS_FINISHED.labels(name, "done").inc()
        return "done"

    def _record_failure(self, job_id: int, kind: JobKind, attempts: int, error: Exception) -> str:
        text = "".join(traceback.format_exception_only(type(error), error)).strip()[:4000]
        status = "dead" if attempts >= kind.max_attempts else "queued"
        with self.db.transaction() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(
                    status=status,
                    last_error=text,
                    locked_until=None,
                    run_after=utcnow() + kind.delay_after(attempts),
                    finished_at=utcnow() if status == "dead" else None,
                )
            )
        JOBS_FINISHED.labels(kind.name, "dead" if status == "dead" else "retry").inc()
        return status

    def enqueue_periodic(self) -> None:
        """Enqueue each periodic job for the current period; the dedupe key makes it once only."""
        now = utcnow()
        for periodic_job in PERIODIC_JOBS.values():
            period = int(now.timestamp() // periodic_job.every.total_seconds())
            try:
                with self.db.transaction() as session:
                    enqueue(session, periodic_job.name, dedupe_key=f"{periodic_job.name}@{period}")
            except IntegrityError:
                pass  # another worker enqueued this period's run already

    def run_once(self) -> int:
        """Claim and run one batch; returns how many jobs were run."""
        ids = self.claim()
        for job_id in ids:
            self.run_job(job_id)
        return len(ids)

    def run_until_idle(self, max_rounds: int = 1000) -> int:
        """Run batches until none is due (tests and commands use this)."""
        total = 0
        for _ in range(max_rounds):
            ran = self.run_once()
            total += ran
            if ran == 0:
                break
        return total

    def run_forever(self, poll_seconds: float = 0.5) -> None:
        """Work until `stop()` is called, sleeping briefly when the queue is empty."""
        last_periodic = 0.0
        while not self._stop.is_set():
            if time.monotonic() - last_periodic > 30:
                self.enqueue_periodic()
                last_periodic = time.monotonic()
            try:
                ran = self.run_once()
            except Exception:  # the database may be briefly unreachable; keep the worker alive
                log.exception("worker could not claim jobs")
                ran = 0
            if ran == 0:
                self._stop.wait(poll_seconds)

    def stop(self) -> None:
        self._stop.set()

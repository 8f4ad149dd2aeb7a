"""Runs background jobs: `smartnation worker`, any number of processes on any number of machines."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.core.jobs import Worker, start_background_loops

# Importing the domains registers their jobs.
from smartnation.domains import register_jobs

log = logging.getLogger(__name__)


def run_workers(threads: int = 1) -> None:
    """Run `threads` workers sharing one connection pool until SIGINT or SIGTERM."""
    register_jobs()
    settings = get_settings()
    database = Database.from_settings(settings.database)
    workers = [
        Worker(
            database, lease_seconds=settings.jobs.lease_seconds, batch_size=settings.jobs.batch_size
        )
        for _ in range(threads)
    ]

    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        log.info("stopping workers after their current job")
        stopping.set()
        for worker in workers:
            worker.stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    running = [
        threading.Thread(
            target=w.run_forever, args=(settings.jobs.poll_seconds,), name=f"worker-{i}"
        )
        for i, w in enumerate(workers)
    ]
    for thread in running:
        thread.start()
    loops = start_background_loops(database, stopping)
    log.info("%d worker thread(s) and %d background loop(s) running", threads, len(loops))
    for thread in running + loops:
        thread.join()

"""Background loops: registered once, run in a thread of every worker, restarted after a failure."""

from __future__ import annotations

import threading
import time

from smartnation.core.db import Database
from smartnation.core.jobs import BACKGROUND_LOOPS, background_loop, start_background_loops


def test_a_loop_runs_until_stopped_and_is_restarted_after_raising() -> None:
    runs: list[str] = []

    def flaky(database: Database, stop: threading.Event) -> None:
        runs.append("run")
        if len(runs) == 1:
            raise RuntimeError("the database went away")
        stop.wait()

    saved = dict(BACKGROUND_LOOPS)
    BACKGROUND_LOOPS.clear()
    try:
        background_loop("test.flaky")(flaky)
        stop = threading.Event()
        threads = start_background_loops(None, stop)  # type: ignore[arg-type]
        deadline = time.monotonic() + 10
        while len(runs) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runs == ["run", "run"]
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
            assert not thread.is_alive()
    finally:
        BACKGROUND_LOOPS.clear()
        BACKGROUND_LOOPS.update(saved)

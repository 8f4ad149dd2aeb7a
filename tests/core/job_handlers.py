"""Job handlers used by the job tests, importable by a separate worker process."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.jobs import job

CALLS: list[dict[str, Any]] = []


@job("test.record", max_attempts=3, backoff_seconds=0.01)
def record_something(session: Session, payload: dict[str, Any]) -> None:
    audit.record(session, "test.recorded", subject_type="test", subject_id=payload["id"])
    CALLS.append(payload)


@job("test.always_fails", max_attempts=2, backoff_seconds=0.01)
def always_fails(session: Session, payload: dict[str, Any]) -> None:
    audit.record(session, "test.half_done", subject_type="test", subject_id=payload["id"])
    raise RuntimeError("the provider is down")


@job("test.slow_first_time", max_attempts=5, backoff_seconds=0.01)
def slow_first_time(session: Session, payload: dict[str, Any]) -> None:
    """Writes its effect, then hangs the first time so the test can kill the process mid-job."""
    audit.record(session, "test.slow", subject_type="test", subject_id=payload["id"])
    session.flush()
    marker = Path(payload["marker"])
    if not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)

"""Identity background jobs: the purge of expired protocol state, hourly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartnation.core.jobs import job, periodic
from smartnation.identity.storage import purge_expired

PURGE_JOB = "identity.purge_expired"


@job(PURGE_JOB, max_attempts=3)
def purge_expired_state(session: Session, payload: dict[str, Any]) -> None:
    """Safe to run twice: it deletes only what has expired."""
    del payload
    purge_expired(session)


periodic(PURGE_JOB, timedelta(hours=1))

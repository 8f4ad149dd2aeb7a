"""Tracing jobs: resolve a case's contacts after an upload; the nightly retention purge."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartnation.core.jobs import job, periodic
from smartnation.tracing.cases import RESOLVE_JOB
from smartnation.tracing.contacts import resolve_case
from smartnation.tracing.retention import purge_expired

RETENTION_JOB = "tracing.retention"


@job(RESOLVE_JOB, max_attempts=5, backoff_seconds=5.0)
def resolve(session: Session, payload: dict[str, Any]) -> None:
    """Rebuild a case's ranked contact list. Safe to run twice: reviews are kept."""
    resolve_case(session, int(payload["case_id"]))


@job(RETENTION_JOB, max_attempts=3, backoff_seconds=60.0)
def retention(session: Session, payload: dict[str, Any]) -> None:
    """Purge encounters, uploads and check-ins past retention; make the coming partitions."""
    purge_expired(session)


periodic(RETENTION_JOB, every=timedelta(days=1))

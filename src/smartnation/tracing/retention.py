"""Retention: encounters, uploads and check-ins are kept 25 days, then purged.

On PostgreSQL `tracing_encounter` and `tracing_checkin` are range-partitioned by UTC day: the
daily job creates partitions a few days ahead (moving any rows the DEFAULT partition caught for
that day), drops whole partitions that ended before the cutoff, and deletes the few older rows
left in the partition straddling the cutoff and in the default partition. On SQLite it deletes
rows. Either way the purge is audited with what it removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.tracing.models import CheckIn, DiagnosisKey, Encounter, Registration, Upload
from smartnation.tracing.settings import get_tracing_settings

# (table, partition column): the partitioned time-series tables.
PARTITIONED = (("tracing_encounter", "occurred_at"), ("tracing_checkin", "checked_in_at"))
_PARTITION_NAME = re.compile(r"_p(\d{8})$")
# Exposure keys are useless after 14 days; published ones are kept one more day for stragglers.
DIAGNOSIS_KEY_DAYS = 15


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


def partitions_of(connection: Connection, table: str) -> dict[date, str]:
    """The daily partitions of a partitioned table, by day (PostgreSQL)."""
    names = connection.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :table"
        ),
        {"table": table},
    )
    found = {}
    for name in names:
        match = _PARTITION_NAME.search(name)
        if match:
            found[datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC).date()] = name
    return found


def create_partition(connection: Connection, table: str, column: str, day: date) -> str:
    """Create one day's partition, moving rows the default partition holds for that day."""
    name = partition_name(table, day)
    start, end = _day_start(day), _day_start(day + timedelta(days=1))
    # Identifiers come from PARTITIONED and a date: never from input.
    bounds = {"start": start, "end": end}
    connection.execute(
        text(
            f"CREATE TEMP TABLE tracing_moving ON COMMIT DROP AS WITH moved AS ("  # noqa: S608
            f"DELETE FROM {table}_default WHERE {column} >= :start AND {column} < :end "
            "RETURNING *) SELECT * FROM moved"
        ),
        bounds,
    )
    connection.execute(
        text(
            f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM "
            f"('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )
    connection.execute(text(f"INSERT INTO {table} SELECT * FROM tracing_moving"))  # noqa: S608
    connection.execute(text("DROP TABLE tracing_moving"))
    return name


def ensure_partitions(
    connection: Connection, *, today: date, ahead_days: int, back_days: int = 0
) -> list[str]:
    """Create the daily partitions from `today - back_days` to `today + ahead_days`."""
    if connection.dialect.name != "postgresql":
        return []
    created = []
    for table, column in PARTITIONED:
        existing = partitions_of(connection, table)
        for offset in range(-back_days, ahead_days + 1):
            day = today + timedelta(days=offset)
            if day not in existing:
                created.append(create_partition(connection, table, column, day))
    return created


@dataclass
class PurgeReport:
    cutoff: datetime
    dropped_partitions: list[str] = field(default_factory=list)
    created_partitions: list[str] = field(default_factory=list)
    rows_in_dropped: dict[str, int] = field(default_factory=dict)
    rows_deleted: dict[str, int] = field(default_factory=dict)


def _deleted(session: Session, statement: Any) -> int:
    return int(getattr(session.execute(statement), "rowcount", 0))


def purge_expired(session: Session, *, now: datetime | None = None) -> PurgeReport:
    """Drop or delete everything past retention; create the coming days' partitions. Audited."""
    moment = now or utcnow()
    settings = get_tracing_settings()
    cutoff = moment - timedelta(days=settings.retention_days)
    report = PurgeReport(cutoff)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        report.created_partitions = ensure_partitions(
            connection, today=moment.date(), ahead_days=settings.partitions_ahead_days
        )
        for table, _column in PARTITIONED:
            for day, name in sorted(partitions_of(connection, table).items()):
                if _day_start(day + timedelta(days=1)) <= cutoff:
                    rows = connection.scalar(text(f"SELECT count(*) FROM {name}"))  # noqa: S608
                    connection.execute(text(f"DROP TABLE {name}"))
                    report.dropped_partitions.append(name)
                    report.rows_in_dropped[table] = report.rows_in_dropped.get(table, 0) + int(
                        rows or 0
                    )
    # The rest: rows in the straddling and default partitions, or every row on SQLite.
    old_uploads = list(session.scalars(select(Upload.id).where(Upload.received_at < cutoff)))
    report.rows_deleted["tracing_encounter"] = _deleted(
        session, delete(Encounter).where(Encounter.occurred_at < cutoff)
    )
    if old_uploads:
        report.rows_deleted["tracing_encounter"] += _deleted(
            session,
            # An upload's rows are dated at most an hour after it was received (see `cases`),
            # so the time bound keeps this delete to the partitions around the cutoff.
            delete(Encounter).where(
                Encounter.occurred_at < cutoff + timedelta(hours=1),
                Encounter.upload_id.in_(old_uploads),
            ),
        )
    report.rows_deleted["tracing_upload"] = _deleted(
        session, delete(Upload).where(Upload.received_at < cutoff)
    )
    report.rows_deleted["tracing_checkin"] = _deleted(
        session, delete(CheckIn).where(CheckIn.checked_in_at < cutoff)
    )
    report.rows_deleted["tracing_registration"] = _deleted(
        session,
        delete(Registration).where(
            Registration.verified_at.is_(None), Registration.expires_at < cutoff
        ),
    )
    report.rows_deleted["tracing_diagnosis_key"] = _deleted(
        session,
        delete(DiagnosisKey).where(
            DiagnosisKey.published_at < moment - timedelta(days=DIAGNOSIS_KEY_DAYS)
        ),
    )
    audit.record(
        session,
        "tracing.retention.purged",
        subject_type="tracing_retention",
        subject_id=moment.date().isoformat(),
        details={
            "cutoff": cutoff.isoformat(),
            "dropped_partitions": report.dropped_partitions,
            "created_partitions": report.created_partitions,
            "rows_in_dropped_partitions": report.rows_in_dropped,
            "rows_deleted": report.rows_deleted,
        },
    )
    return report

"""Retention (partition drop on PostgreSQL, deletes on SQLite) and the exposure-key server."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from smartnation.cli import upgrade_database
from smartnation.core.audit import AuditEvent
from smartnation.core.config import get_settings
from smartnation.core.jobs import JOB_KINDS, PERIODIC_JOBS
from smartnation.tracing import jobs as tracing_jobs
from smartnation.tracing import service
from smartnation.tracing.cli import app
from smartnation.tracing.gaen import en_interval_number
from smartnation.tracing.gaen_export import read_export_archive
from smartnation.tracing.models import CheckIn, Encounter
from smartnation.tracing.retention import partition_name, partitions_of


def _encounter(case_id: int, when: datetime) -> Encounter:
    return Encounter(
        occurred_at=when, upload_id=0, case_id=case_id, valid=False, invalid_reason="no_msg"
    )


def test_retention_purges_old_rows_and_drops_day_partitions(
    session: Session,
    backend: str,
    add_business: Callable[[str], Any],
    add_person: Callable[..., Any],
) -> None:
    assert tracing_jobs.RETENTION_JOB in PERIODIC_JOBS and tracing_jobs.RETENTION_JOB in JOB_KINDS
    now = datetime.now(UTC)
    connection = session.connection()
    old_day = (now - timedelta(days=30)).date()
    if backend == "postgresql":
        created = service.ensure_partitions(
            connection, today=now.date(), ahead_days=2, back_days=31
        )
        assert partition_name("tracing_checkin", old_day) in created
    venue = service.register_venue(session, add_business("Jade Noodles").uen)
    person = add_person()
    ages = (30, 26, 24, 0)
    for days in ages:
        service.check_in(
            session,
            venue.code,
            nric=person.nric,
            method="staff_scan",
            now=now - timedelta(days=days),
        )
        session.add(_encounter(1, now - timedelta(days=days)))
    session.flush()
    report = service.purge_expired(session, now=now)
    remaining = sorted(
        round((now - when).total_seconds() / 86400)
        for when in session.scalars(
            select(CheckIn.checked_in_at).where(CheckIn.nric == person.nric)
        )
    )
    assert remaining == [0, 24]
    assert (
        session.scalar(select(func.count()).select_from(Encounter).where(Encounter.case_id == 1))
        == 2
    )
    if backend == "postgresql":
        assert partition_name("tracing_checkin", old_day) in report.dropped_partitions
        assert partition_name("tracing_encounter", old_day) in report.dropped_partitions
        assert old_day not in partitions_of(connection, "tracing_checkin")
        assert report.rows_in_dropped["tracing_checkin"] >= 1
        kind = connection.scalar(
            text("SELECT relkind FROM pg_class WHERE relname = 'tracing_checkin'")
        )
        assert kind == "p"  # declaratively partitioned
        ahead = (now + timedelta(days=2)).date()
        assert ahead in partitions_of(connection, "tracing_encounter")
    else:
        assert report.dropped_partitions == []
        assert report.rows_deleted["tracing_checkin"] == 2
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tracing.retention.purged")
    ).one()
    assert event.details["cutoff"] == report.cutoff.isoformat()
    assert event.details["dropped_partitions"] == report.dropped_partitions
    # Running it twice is safe.
    service.purge_expired(session, now=now)


def test_default_partition_rows_move_when_their_day_is_created(
    session: Session, backend: str
) -> None:
    if backend != "postgresql":
        return
    connection = session.connection()
    far = datetime.now(UTC) + timedelta(days=40)
    session.add(_encounter(7, far))
    session.flush()
    assert connection.scalar(text("SELECT count(*) FROM tracing_encounter_default")) >= 1
    service.ensure_partitions(connection, today=far.date(), ahead_days=0)
    moved = connection.scalar(
        text(f"SELECT count(*) FROM {partition_name('tracing_encounter', far.date())}")
    )
    assert moved == 1


def _teks(count: int, days_ago: int = 3) -> list[dict[str, Any]]:
    start = en_interval_number(datetime.now(UTC) - timedelta(days=days_ago)) // 144 * 144
    return [
        {
            "key": base64.b64encode(os.urandom(16)).decode(),
            "rollingStartNumber": start + 144 * i,
            "rollingPeriod": 144,
            "transmissionRisk": 4,
        }
        for i in range(count)
    ]


def test_publish_keys_and_download_the_signed_export(
    officer: TestClient, client: TestClient, add_person: Callable[..., Any]
) -> None:
    person = add_person()
    case = officer.post("/api/v1/tracing/cases", json={"nric": person.nric}).json()
    issued = officer.post(f"/api/v1/tracing/cases/{case['id']}/verification-codes").json()
    keys = _teks(2)
    published = client.post(
        "/api/v1/tracing/exposure/publish", json={"verificationCode": issued["code"], "keys": keys}
    )
    assert published.status_code == 200, published.text
    assert published.json() == {"published": 2}
    again = client.post(
        "/api/v1/tracing/exposure/publish", json={"verificationCode": issued["code"], "keys": keys}
    )
    assert again.status_code == 401
    index = client.get("/api/v1/tracing/exposure/exports/index.txt").text.split()
    assert len(index) == 1
    archive = client.get("/api/v1/tracing/" + index[0])
    assert archive.headers["content-type"] == "application/zip"
    public_key = serialization.load_pem_public_key(
        client.get("/api/v1/tracing/exposure/public-key.pem").content
    )
    parsed = read_export_archive(archive.content, public_key=public_key)  # type: ignore[arg-type]
    assert parsed.region == "SG"
    assert sorted(k.key_data for k in parsed.keys) == sorted(
        base64.b64decode(k["key"]) for k in keys
    )
    assert all(k.transmission_risk_level == 4 for k in parsed.keys)
    assert client.get("/api/v1/tracing/exposure/exports/2001-01-01.zip").status_code == 404


def test_publish_refuses_too_many_or_too_old_keys(
    officer: TestClient, client: TestClient, add_person: Callable[..., Any]
) -> None:
    person = add_person()
    case = officer.post("/api/v1/tracing/cases", json={"nric": person.nric}).json()
    for keys in (_teks(31, days_ago=40), _teks(1, days_ago=20), [{"key": "short"}]):
        code = officer.post(f"/api/v1/tracing/cases/{case['id']}/verification-codes").json()
        refused = client.post(
            "/api/v1/tracing/exposure/publish",
            json={"verificationCode": code["code"], "keys": keys},
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    forged = client.post(
        "/api/v1/tracing/exposure/publish", json={"verificationCode": "12345678", "keys": _teks(1)}
    )
    assert forged.status_code == 401


def test_purge_command(tmp_path: Any, monkeypatch: Any) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    upgrade_database(url)
    monkeypatch.setenv("SMARTNATION_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["purge"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "tracing_checkin: 0 rows deleted" in result.output

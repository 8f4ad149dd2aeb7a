"""Abuse limits: one-time codes sent at registration, upload codes tried by a device."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartnation.core.audit import AuditEvent
from smartnation.core.db import Database

REGISTRATIONS = "/api/v1/tracing/registrations"


def assert_rate_limited(response: Any, window_seconds: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= window_seconds + 1
    assert response.json()["code"] == "rate_limited"


def test_registration_codes_are_limited_per_phone_and_per_person(
    client: TestClient, add_person: Callable[..., Any]
) -> None:
    person = add_person()
    body = {"nric": person.nric, "phone": person.mobile}
    for _ in range(3):
        assert client.post(REGISTRATIONS, json=body).status_code == 201
    assert_rate_limited(client.post(REGISTRATIONS, json=body), 15 * 60)
    # The same phone for someone else is still this phone.
    other = add_person()
    assert_rate_limited(
        client.post(REGISTRATIONS, json={"nric": other.nric, "phone": person.mobile}), 15 * 60
    )
    # Other phones for the same person count against the person: five codes in all.
    for phone in ("+6581110001", "+6581110002"):
        assert client.post(REGISTRATIONS, json={**body, "phone": phone}).status_code == 201
    assert_rate_limited(client.post(REGISTRATIONS, json={**body, "phone": "+6581110003"}), 900)
    # Someone else on their own phone is not affected.
    assert client.post(REGISTRATIONS, json={"nric": other.nric, "phone": other.mobile}).is_success


def test_upload_code_guessing_is_limited_per_device(
    client: TestClient,
    officer: TestClient,
    add_person: Callable[..., Any],
    register_phone: Callable[..., Any],
    database: Database,
    tracing_settings: Callable[..., None],
) -> None:
    person = add_person()
    device = {"authorization": f"Bearer {register_phone(person)['device_token']}"}
    case = officer.post("/api/v1/tracing/cases", json={"nric": person.nric}).json()
    code = officer.post(f"/api/v1/tracing/cases/{case['id']}/upload-codes").json()["code"]
    wrong = "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY"
    for _ in range(5):
        refused = client.post("/api/v1/tracing/upload-token", json={"code": wrong}, headers=device)
        assert refused.status_code == 401
    # Now even the right code waits: a guesser cannot tell a hit from the limit.
    blocked = client.post("/api/v1/tracing/upload-token", json={"code": code}, headers=device)
    assert_rate_limited(blocked, 15 * 60)
    with database.transaction() as session:
        refusals = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "tracing.upload_code.refused")
        )
    assert refusals == 5
    # Once the window has passed (here: made shorter), the code works, once.
    tracing_settings(limit_window_minutes="0")
    exchanged = client.post("/api/v1/tracing/upload-token", json={"code": code}, headers=device)
    assert exchanged.status_code == 200, exchanged.text
    assert exchanged.json()["token"]

"""The appointments API: availability, booking with a code, clear problem documents."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from nas_support import first_slot, invite, make_centres, people, resident_aged, sms_to

from conftest import test_settings as settings_for
from smartnation.app import create_app
from smartnation.appointments import demand
from smartnation.appointments.booking import book_two_doses
from smartnation.appointments.demand import _check_character
from smartnation.appointments.models import Booking, Invitation, Slot
from smartnation.core.audit import AuditEvent, current_actor
from smartnation.core.clock import today_in_singapore, utcnow
from smartnation.core.db import Database
from smartnation.core.jobs import Job, Worker


@pytest.fixture
def nation(database: Database) -> Database:
    people(database)
    with database.transaction() as session:
        make_centres(session)
    return database


def _invited(database: Database, low: int = 30, high: int = 50, skip: int = 0) -> dict[str, str]:
    with database.transaction() as session:
        person = resident_aged(session, low, high, skip=skip)
        sent = invite(session, person.nric)
        return {"nric": person.nric, "booking_code": sent.code}


def _slot(database: Database, centre: str, offset: int = 1) -> int:
    with database.transaction() as session:
        return first_slot(session, centre, offset=offset)


def test_availability_and_centres_are_public(nation: Database, client: TestClient) -> None:
    centres = client.get("/api/v1/appointments/centres").json()
    assert {c["code"] for c in centres} == {"PFZ-VC", "MOD-VC", "PFZ-POLY"}
    day = today_in_singapore() + timedelta(days=1)
    body = client.get(f"/api/v1/appointments/centres/PFZ-VC/availability?day={day}").json()
    assert len(body["slots"]) == 2 and body["slots"][0]["free"] == 3
    vaccines = client.get("/api/v1/appointments/vaccines").json()
    assert {v["code"]: v["second_dose_days"] for v in vaccines} == {"PFIZER": 21, "MODERNA": 28}


def test_book_lookup_replay_and_cancel(nation: Database, client: TestClient) -> None:
    credentials = _invited(nation)
    first = _slot(nation, "PFZ-VC")
    request = {**credentials, "first_slot_id": first}
    made = client.post(
        "/api/v1/appointments/bookings", json=request, headers={"Idempotency-Key": "abc"}
    )
    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["vaccine"] == "PFIZER" and booking["first_slot_id"] == first
    replay = client.post(
        "/api/v1/appointments/bookings", json=request, headers={"Idempotency-Key": "abc"}
    )
    assert replay.status_code == 201 and replay.json()["id"] == booking["id"]
    reused = client.post("/api/v1/appointments/bookings", json=request)
    assert reused.status_code == 409
    assert reused.json()["code"] in ("code_used", "already_booked")
    looked = client.post("/api/v1/appointments/bookings/lookup", json=credentials).json()
    assert looked["id"] == booking["id"]
    cancelled = client.post("/api/v1/appointments/bookings/cancel", json=credentials)
    assert cancelled.json()["status"] == "cancelled"
    with nation.transaction() as session:
        assert session.scalar(sa.select(sa.func.sum(Slot.booked))) == 0


def test_a_16_year_old_at_a_moderna_centre_gets_a_problem_naming_the_field(
    nation: Database, client: TestClient
) -> None:
    credentials = _invited(nation, 16, 16)
    response = client.post(
        "/api/v1/appointments/bookings",
        json={
            **credentials,
            "first_slot_id": _slot(nation, "MOD-VC"),
            "parental_consent_by": "Mum",
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "centre"
    assert response.json()["errors"][0]["code"] == "too_young_for_vaccine"


def test_second_dose_outside_window_is_422(nation: Database, client: TestClient) -> None:
    credentials = _invited(nation)
    response = client.post(
        "/api/v1/appointments/bookings",
        json={
            **credentials,
            "first_slot_id": _slot(nation, "PFZ-VC", 1),
            "second_slot_id": _slot(nation, "PFZ-VC", 5),
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "second_slot_id"


def test_guessed_codes_are_limited_with_retry_after(
    fresh_database: Database, fresh_url: str
) -> None:
    """On a database of its own: each request commits or rolls back as in production."""
    people(fresh_database)
    with fresh_database.transaction() as session:
        make_centres(session, days=1)
    credentials = _invited(fresh_database)
    first = _slot(fresh_database, "PFZ-VC")
    app = create_app(settings_for(fresh_url), fresh_database)
    statuses = []
    with TestClient(app) as client:
        for guess in ("AAAAAAAAA", "BBBBBBBBB", "CCCCCCCCC", "DDDDDDDDD", "EEEEEEEEE", "FFFFFFFFF"):
            code = guess + _check_character(guess)  # well formed, so it reaches the database
            response = client.post(
                "/api/v1/appointments/bookings",
                json={"nric": credentials["nric"], "booking_code": code, "first_slot_id": first},
            )
            statuses.append(response.status_code)
        assert statuses[:5] == [422] * 5
        assert statuses[5] == 429
        limited = client.post(
            "/api/v1/appointments/bookings", json={**credentials, "first_slot_id": first}
        )
        assert limited.status_code == 429  # even the right code waits out the window
        assert int(limited.headers["retry-after"]) > 0
        assert limited.headers["content-type"] == "application/problem+json"


def test_expired_invitation_and_bad_bodies(nation: Database, client: TestClient) -> None:
    credentials = _invited(nation)
    with nation.transaction() as session:
        session.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = client.post(
        "/api/v1/appointments/bookings",
        json={**credentials, "first_slot_id": _slot(nation, "PFZ-VC")},
    )
    assert expired.status_code == 422
    assert expired.json()["errors"][0]["code"] == "expired"
    for body in ({}, {"nric": "S1234567A", "booking_code": "x", "first_slot_id": "one"}, []):
        response = client.post("/api/v1/appointments/bookings", json=body)
        assert response.status_code == 422
        assert response.json()["errors"]
    # The booking route's own handler refuses as every other route does: problem+json, fields.
    wrong_type = client.post(
        "/api/v1/appointments/bookings", json={**credentials, "first_slot_id": "one"}
    )
    assert wrong_type.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in wrong_type.json()["errors"]] == ["first_slot_id"]
    no_nric = client.post(
        "/api/v1/appointments/bookings", json={"booking_code": "x", "first_slot_id": 1}
    )
    assert [e["field"] for e in no_nric.json()["errors"]] == ["nric"]
    long_key = client.post(
        "/api/v1/appointments/bookings",
        json={**credentials, "first_slot_id": 1},
        headers={"Idempotency-Key": "k" * 81},
    )
    assert long_key.status_code == 422
    assert [e["field"] for e in long_key.json()["errors"]] == ["Idempotency-Key"]
    for content, content_type in (
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"nric=S1234567A", "application/x-www-form-urlencoded"),
    ):
        refused = client.post(
            "/api/v1/appointments/bookings",
            content=content,
            headers={"content-type": content_type},
        )
        assert refused.status_code == 422, (content, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"]
    bad_nric = client.post(
        "/api/v1/appointments/bookings",
        json={"nric": "S1234567A", "booking_code": "ABCDEFGHJK", "first_slot_id": 1},
    )
    assert bad_nric.status_code == 422
    assert bad_nric.json()["errors"][0]["field"] in ("nric", "booking_code")
    missing = client.get("/api/v1/appointments/centres/NOPE/availability?day=2030-01-01")
    assert missing.status_code == 404
    bad_day = client.get("/api/v1/appointments/centres/PFZ-VC/availability?day=tomorrow")
    assert bad_day.status_code == 422


def test_check_in_needs_the_staff_role(nation: Database, client: TestClient) -> None:
    response = client.post("/api/v1/appointments/checkins", json={"centre": "PFZ-VC"})
    assert response.status_code == 401


def test_a_booking_by_code_leaves_what_book_two_doses_leaves(
    nation: Database, client: TestClient, backend: str
) -> None:
    """On PostgreSQL the API books in one statement; the rows, audit and SMS match the full path."""
    first = _slot(nation, "PFZ-VC")
    made = []
    for skip, via_api in ((0, True), (1, False)):
        credentials = _invited(nation, skip=skip)
        if via_api:
            response = client.post(
                "/api/v1/appointments/bookings",
                json={**credentials, "first_slot_id": first},
                headers={"Idempotency-Key": "k1"},
            )
            assert response.status_code == 201, response.text
            booking_id = response.json()["id"]
        else:
            as_public = current_actor.set("anonymous")  # as the web layer sets it
            with nation.transaction() as session:
                invitation = demand.find_invitation(
                    session, credentials["nric"], credentials["booking_code"]
                )
                booking_id = book_two_doses(
                    session,
                    resident_id=invitation.resident_id,
                    first_slot_id=first,
                    invitation_id=invitation.id,
                    idempotency_key="k1",
                ).id
            current_actor.reset(as_public)
        Worker(nation).run_until_idle()
        with nation.transaction() as session:
            booking = session.get(Booking, booking_id)
            assert booking is not None
            event = session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.action == "appointments.booking.booked",
                    AuditEvent.subject_id == str(booking_id),
                )
            ).one()
            registration = demand.get_registration(session, booking.resident_id)
            assert registration is not None
            sms = sms_to(session, registration.mobile, "confirmation")
            queued = session.scalars(
                sa.select(Job).where(Job.name == "appointments.send_confirmation")
            ).all()
            made.append(
                {
                    "slots": (booking.first_slot_id, booking.second_slot_id),
                    "row": (
                        booking.centre_id,
                        booking.vaccine_code,
                        booking.idempotency_key,
                        booking.booked_by,
                        booking.invitation_id is not None,
                        booking.reminded,
                        len(booking.qr_token),
                    ),
                    "audit": (event.actor, event.on_behalf_of, event.details),
                    "sms": [m.body for m in sms],
                    "confirmation_jobs": len(queued),
                }
            )
        if via_api:  # its places back, for the full path to take the same ones
            client.post("/api/v1/appointments/bookings/cancel", json=credentials)
    api, full = made
    assert api["slots"] == full["slots"] and api["row"] == full["row"]
    assert api["audit"] == full["audit"]
    assert len(api["sms"]) == 1 and api["sms"] == full["sms"][:1]
    # The one-statement path queues the SMS as a job; the full path sends it in the request.
    assert api["confirmation_jobs"] == (1 if backend == "postgresql" else 0)


def test_a_full_second_dose_day_is_explained_by_the_full_path(
    nation: Database, client: TestClient
) -> None:
    credentials = _invited(nation)
    first = _slot(nation, "PFZ-VC")
    with nation.transaction() as session:
        session.execute(
            sa.update(Slot)
            .where(Slot.id != first, Slot.day > today_in_singapore() + timedelta(days=7))
            .values(booked=Slot.capacity)
        )
    response = client.post(
        "/api/v1/appointments/bookings", json={**credentials, "first_slot_id": first}
    )
    assert response.status_code == 409 and response.json()["code"] == "no_second_dose_slot"
    with nation.transaction() as session:
        assert session.get(Slot, first).booked == 0  # type: ignore[union-attr]
        invitation = session.scalars(sa.select(Invitation)).one()
        assert invitation.status == "sent"


def test_a_15_year_old_books_at_a_pfizer_centre_only_with_consent(
    nation: Database, client: TestClient
) -> None:
    credentials = _invited(nation, 15, 15)
    request = {**credentials, "first_slot_id": _slot(nation, "PFZ-VC")}
    refused = client.post("/api/v1/appointments/bookings", json=request)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "consent_required"
    booked = client.post(
        "/api/v1/appointments/bookings", json={**request, "parental_consent_by": " Dad "}
    )
    assert booked.status_code == 201, booked.text
    with nation.transaction() as session:
        booking = session.get(Booking, booked.json()["id"])
        assert booking is not None and booking.parental_consent_by == "Dad"
        event = session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "appointments.booking.booked",
                AuditEvent.subject_id == str(booking.id),
            )
        ).one()
        assert event.details["parental_consent_by"] == "Dad"

"""The one-statement booking on PostgreSQL as production runs it: its own connections, the
asyncio driver from the event loop, the full path answering whatever it does not book."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from nas_support import invite_adults

from conftest import test_settings as settings_for
from smartnation.app import create_app
from smartnation.appointments import booking_statement, service
from smartnation.appointments.models import Booking, Invitation, Registration, Slot
from smartnation.core.clock import today_in_singapore
from smartnation.core.db import Database
from smartnation.core.jobs import Job, Worker


def test_the_statement_is_built_once_and_its_compiled_form_cached() -> None:
    # Compiling it takes milliseconds: the cache is what makes a booking cheap.
    for with_consent in (False, True):
        statement = booking_statement._statement(with_consent)
        assert statement is booking_statement._statement(with_consent)
        assert statement._generate_cache_key() is not None


def test_api_bookings_on_the_event_loop(
    backend: str, fresh_database: Database, fresh_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("the one-statement booking is PostgreSQL's")
    assert booking_statement.runs_async(fresh_database)
    sent = invite_adults(fresh_database, 80, capacity=1)
    with fresh_database.transaction() as session:
        nrics = dict(session.execute(sa.select(Registration.resident_id, Registration.nric)).all())
        centre = service.get_centre(session, "PFZ-VC")
        day = service.open_days(session, centre.id, today_in_singapore())[0]
        slot_id = service.availability(session, centre.id, day)[0].id
    assert len(sent) >= 3
    app = create_app(settings_for(fresh_url), fresh_database)
    first, second = sent[0], sent[1]
    with TestClient(app) as client:
        request = {
            "nric": nrics[first.resident_id],
            "booking_code": first.code,
            "first_slot_id": slot_id,
        }
        made = client.post(
            "/api/v1/appointments/bookings", json=request, headers={"Idempotency-Key": "once"}
        )
        assert made.status_code == 201, made.text
        again = client.post(
            "/api/v1/appointments/bookings", json=request, headers={"Idempotency-Key": "once"}
        )
        assert again.status_code == 201 and again.json()["id"] == made.json()["id"]
        # The slot had one place: the next person is refused with its reason (found by one small
        # statement when nothing else stands in the way).
        full = client.post(
            "/api/v1/appointments/bookings",
            json={
                "nric": nrics[second.resident_id],
                "booking_code": second.code,
                "first_slot_id": slot_id,
            },
        )
        assert full.status_code == 409 and full.json()["code"] == "slot_full"
        # Something else wrong as well: the full path's answer, as before, not `slot_full`.
        wrong_code = client.post(
            "/api/v1/appointments/bookings",
            json={
                "nric": nrics[second.resident_id],
                "booking_code": sent[2].code,
                "first_slot_id": slot_id,
            },
        )
        assert wrong_code.status_code == 422, wrong_code.text
        assert wrong_code.json()["errors"][0]["code"] == "wrong_code"
        booked_already = client.post(
            "/api/v1/appointments/bookings", json=request, headers={"Idempotency-Key": "twice"}
        )
        assert booked_already.status_code == 409
        assert booked_already.json()["code"] == "already_booked"
        # The availability read from the event loop says what the service says.
        read = client.get(f"/api/v1/appointments/centres/PFZ-VC/availability?day={day.isoformat()}")
        assert read.status_code == 200
        with fresh_database.sessions() as session:
            expected = [s for s in service.availability(session, centre.id, day) if s.free]
        assert [(s["id"], s["free"]) for s in read.json()["slots"]] == [
            (s.id, s.free) for s in expected
        ]
        assert slot_id not in {s["id"] for s in read.json()["slots"]}
        unknown = client.get("/api/v1/appointments/centres/NOPE/availability?day=2030-01-01")
        assert unknown.status_code == 404
        assert unknown.headers["content-type"].startswith("application/problem+json")
    assert Worker(fresh_database).run_until_idle() >= 1
    with fresh_database.transaction() as session:
        booking = session.get(Booking, made.json()["id"])
        assert booking is not None and booking.status == "active"
        assert session.get(Slot, slot_id).booked == 1  # type: ignore[union-attr]
        assert (
            session.scalar(
                sa.select(sa.func.count())
                .select_from(Invitation)
                .where(Invitation.status == "booked")
            )
            == 1
        )
        job = session.scalars(sa.select(Job).where(Job.name == "appointments.send_confirmation"))
        assert [j.status for j in job] == ["done"]

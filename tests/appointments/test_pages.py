"""The appointment pages: a citizen books with a code, staff book for a senior and check people in,
officers see the figures. Log-in is simulated by writing the session principal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient
from nas_support import (
    NO,
    first_slot,
    invite,
    make_centres,
    open_everyone,
    people,
    resident_aged,
    sms_to,
)

from smartnation.appointments import service
from smartnation.appointments.models import Booking, Centre, Dose, Slot
from smartnation.core.audit import AuditEvent
from smartnation.core.clock import today_in_singapore, utcnow
from smartnation.core.db import Database
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Public


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the form"
    return match.group(1)


def _login(app: FastAPI, client: TestClient, roles: list[str], person_id: str = "staff-1") -> None:
    router = APIRouter(dependencies=[Public])

    @router.post("/test-login")
    def test_login(request: Request) -> dict[str, str]:
        request.session[PRINCIPAL_SESSION_KEY] = {
            "kind": "person",
            "id": person_id,
            "name": "Test Person",
            "roles": roles,
            "attributes": {"nric": person_id},
        }
        return {"ok": "yes"}

    app.include_router(router)
    assert client.post("/test-login").status_code == 200


@pytest.fixture
def nation(database: Database) -> Database:
    people(database)
    with database.transaction() as session:
        make_centres(session)
    return database


def _book_through_pages(client: TestClient, nric: str, code: str, centre: str) -> str:
    page = client.get("/appointments/book")
    chosen = client.post(
        "/appointments/book",
        data={"csrf_token": _token(page.text), "nric": nric, "booking_code": code},
    )
    assert chosen.status_code == 200 and "Choose a place" in chosen.text
    slots = client.get(f"/appointments/book/slots?centre={centre}")
    assert slots.status_code == 200
    return slots.text


def test_a_citizen_books_both_doses_with_the_code(nation: Database, client: TestClient) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
    start = client.get("/appointments")
    assert "Book with my booking code" in start.text
    html = _book_through_pages(client, person.nric.lower(), sent.code.lower(), "PFZ-VC")
    slot_id = re.search(r'name="slot_id" id="slot-(\d+)"', html).group(1)  # type: ignore[union-attr]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    form = {
        "csrf_token": _token(html),
        "centre": "PFZ-VC",
        "slot_id": slot_id,
        "idempotency_key": key,
    }
    booked = client.post("/appointments/book/confirm", data=form)
    assert booked.status_code == 200
    assert "Both doses are booked" in booked.text
    assert 'src="data:image/svg+xml' in booked.text
    again = client.post("/appointments/book/confirm", data=form)  # the double click
    assert again.status_code == 200
    with nation.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
        assert session.scalar(sa.select(sa.func.sum(Slot.booked))) == 2
    in_chinese = client.get("/language/zh?next=/appointments/booking", follow_redirects=True)
    assert "剂" in in_chinese.text  # the booking page in Chinese


def test_wrong_code_and_minor_at_moderna_get_messages_not_errors(
    nation: Database, client: TestClient
) -> None:
    with nation.transaction() as session:
        teen = resident_aged(session, 16, 16)
        sent = invite(session, teen.nric)
    page = client.get("/appointments/book")
    wrong = client.post(
        "/appointments/book",
        data={"csrf_token": _token(page.text), "nric": teen.nric, "booking_code": "ABCDEFGHJK"},
    )
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.text and "booking code" in wrong.text
    html = _book_through_pages(client, teen.nric, sent.code, "MOD-VC")
    assert "Needed for anyone under 18" in html
    slot_id = re.search(r'name="slot_id" id="slot-(\d+)"', html).group(1)  # type: ignore[union-attr]
    refused = client.post(
        "/appointments/book/confirm",
        data={
            "csrf_token": _token(html),
            "centre": "MOD-VC",
            "slot_id": slot_id,
            "parental_consent_by": "Mother",
        },
    )
    assert refused.status_code == 422
    assert "not approved for your age" in refused.text
    with nation.transaction() as session:
        assert session.scalar(sa.select(sa.func.sum(Slot.booked))) == 0


def test_community_staff_register_and_book_for_a_senior(
    nation: Database, app: FastAPI, client: TestClient
) -> None:
    with nation.transaction() as session:
        senior = resident_aged(session, 70, 95)
        open_everyone(session)
        slot_id = first_slot(session, "PFZ-VC")
    assert client.get("/appointments/community", follow_redirects=False).status_code == 303
    _login(app, client, ["community.staff"])
    page = client.get("/appointments/community")
    form = {"csrf_token": _token(page.text), "nric": senior.nric, "language": "zh"}
    form.update({f"q_{code}": "no" for code in NO})
    centres = client.post("/appointments/community", data=form)
    assert centres.status_code == 200 and senior.name in centres.text
    slots = client.get(f"/appointments/community/{senior.nric}/slots?centre=PFZ-VC")
    booked = client.post(
        f"/appointments/community/{senior.nric}/confirm",
        data={"csrf_token": _token(slots.text), "centre": "PFZ-VC", "slot_id": str(slot_id)},
    )
    assert booked.status_code == 200 and "Both doses are booked" in booked.text
    with nation.transaction() as session:
        event = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "appointments.booking.booked")
        ).one()
        assert event.actor == "person:staff-1"
        assert event.on_behalf_of == senior.nric
        mobile = service.registration_by_nric(session, senior.nric).mobile
        sms = sms_to(session, mobile, "confirmation")
        assert sms[0].language == "zh" and "已预约" in sms[0].body


def test_centre_staff_check_in_by_nric_record_a_dose_and_see_observation(
    nation: Database, app: FastAPI, client: TestClient
) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        centre = service.get_centre(session, "PFZ-VC")
        soon = Slot(
            centre_id=centre.id,
            day=today_in_singapore(),
            starts_at=utcnow() + timedelta(minutes=5),
            capacity=5,
            booked=0,
        )
        session.add(soon)
        session.flush()
        service.book_two_doses(
            session, resident_id=person.id, first_slot_id=soon.id, invitation_id=sent.invitation_id
        )
    _login(app, client, ["vaccination.staff"])
    page = client.get("/appointments/centre/PFZ-VC")
    assert page.status_code == 200 and "autofocus" in page.text
    checked = client.post(
        "/appointments/centre/PFZ-VC/checkin",
        data={"csrf_token": _token(page.text), "lookup": person.nric},
    )
    assert checked.status_code == 200 and 'id="dose-number">1<' in checked.text
    checkin_id = re.search(r'name="checkin_id" value="(\d+)"', checked.text).group(1)  # type: ignore[union-attr]
    bad_lot = client.post(
        "/appointments/centre/PFZ-VC/dose",
        data={"csrf_token": _token(page.text), "checkin_id": checkin_id, "lot": "??"},
    )
    assert bad_lot.status_code == 422 and "lot number" in bad_lot.text
    given = client.post(
        "/appointments/centre/PFZ-VC/dose",
        data={"csrf_token": _token(page.text), "checkin_id": checkin_id, "lot": "ew0182"},
    )
    assert given.status_code == 200 and "Dose recorded" in given.text
    assert person.name in given.text  # on the observation list
    with nation.transaction() as session:
        records = service.vaccination_records(session, person.id)
        assert [(r.dose_number, r.vaccine_code, r.lot) for r in records] == [
            (1, "PFIZER", "EW0182")
        ]
        assert session.scalar(sa.select(Dose.given_by)) == "person:staff-1"
    wrong = client.post(
        "/appointments/centre/MOD-VC/checkin",
        data={"csrf_token": _token(page.text), "lookup": person.nric},
    )
    assert wrong.status_code == 409  # booked elsewhere: refused, with a message


def test_officer_dashboard_has_an_svg_chart_and_a_table(
    nation: Database, app: FastAPI, client: TestClient
) -> None:
    with nation.transaction() as session:
        service.create_cohort(session, code="seniors", name="Seniors 60+", min_age=60)
    _login(app, client, ["health.officer"])
    page = client.get("/appointments/officer")
    assert page.status_code == 200
    assert "<svg" in page.text and 'role="img"' in page.text and "<table" in page.text
    opened = client.post(
        "/appointments/officer/cohort",
        data={"csrf_token": _token(page.text), "code": "seniors", "action": "open"},
    )
    assert "The cohort is open for booking." in opened.text
    released = client.post(
        "/appointments/officer/delivery",
        data={
            "csrf_token": _token(page.text),
            "centre": "PFZ-VC",
            "day": (today_in_singapore() + timedelta(days=60)).isoformat(),
            "doses": "10",
        },
    )
    assert "Places released: 6" in released.text  # two slots of three
    bad = client.post(
        "/appointments/officer/delivery",
        data={"csrf_token": _token(page.text), "centre": "PFZ-VC", "day": "soon", "doses": "x"},
        headers={"accept": "text/html"},
    )
    assert bad.status_code == 422 and "text/html" in bad.headers["content-type"]
    with nation.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Centre)) == 3

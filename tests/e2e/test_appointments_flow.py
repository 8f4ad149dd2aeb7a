"""From the invitation SMS to two booked doses, check-in and a recorded vaccination, through the
real pages in Chromium."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from e2e_support import SESSION_COOKIE, axe_violations, session_cookie

from smartnation.appointments import service
from smartnation.appointments.models import Slot
from smartnation.core.clock import age_on, today_in_singapore, utcnow
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.core.errors import InvalidInput
from smartnation.core.validators import parse_phone
from smartnation.messaging.models import Message
from smartnation.registry.loader import load_population
from smartnation.registry.models import Resident

pytestmark = pytest.mark.browser


def _prepare(url: str) -> tuple[Resident, str]:
    """A person registered and invited, a Pfizer centre with a slot minutes from now and the
    second-dose days released; returns the person and the SMS text they received."""
    database = Database.from_settings(DatabaseSettings(url=url))
    load_population(database, 150, seed=3)
    today = today_in_singapore()
    with database.transaction() as session:
        service.create_centre(
            session,
            service.NewCentre(
                code="E2E-VC",
                name="Jurong East Community Club",
                kind="vaccination_centre",
                vaccine_code="PFIZER",
                opens_at=time(8, 0),
                closes_at=time(10, 0),
                slot_minutes=60,
                capacity_per_slot=10,
            ),
        )
        centre = service.get_centre(session, "E2E-VC")
        session.add(
            Slot(
                centre_id=centre.id,
                day=today,
                starts_at=utcnow() + timedelta(minutes=10),
                capacity=10,
                booked=0,
            )
        )
        for offset in range(21, 30):
            service.record_delivery(session, "E2E-VC", today + timedelta(days=offset), 20)
            service.release_slots(session, "E2E-VC", today + timedelta(days=offset))
        person = None
        for resident in session.scalars(sa.select(Resident).order_by(Resident.id)):
            if 30 <= age_on(resident.date_of_birth, today) <= 60 and resident.mobile:
                try:
                    parse_phone(resident.mobile, mobile_only=True)
                except InvalidInput:
                    continue
                person = resident
                break
        assert person is not None
        no = {question.code: False for question in service.questions()}
        service.register_interest(session, nric=person.nric, answers=no)
        service.create_cohort(session, code="adults", name="Adults", min_age=18)
        service.open_cohort(session, "adults")
        service.invite_cohort(session, "adults", base_url="http://localhost")
        sms = session.scalars(
            sa.select(Message.body).where(
                Message.recipient == person.mobile, Message.template == "appointments.invitation"
            )
        ).one()
    database.engine.dispose()
    return person, sms


def test_invitation_to_two_doses_to_check_in_and_a_recorded_dose(
    e2e_server: str, e2e_database_url: str, browser: Any
) -> None:
    person, sms = _prepare(e2e_database_url)
    code = re.search(r"booking code is ([A-Z0-9]{10})", sms).group(1)  # type: ignore[union-attr]

    citizen = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = citizen.new_page()
    page.goto(f"{e2e_server}/appointments")
    page.get_by_role("link", name="Book with my booking code").click()
    assert axe_violations(page) == []
    page.get_by_label("NRIC or FIN").fill(person.nric)
    page.get_by_label("Booking code").fill(code.lower())
    page.get_by_role("button", name="Continue").click()
    page.get_by_label(re.compile("Jurong East Community Club")).check()
    page.get_by_role("button", name="Continue").click()
    assert axe_violations(page) == []
    page.locator("input[name=slot_id]").first.check()
    page.get_by_role("button", name="Book both doses").click()
    page.get_by_text("Both doses are booked").wait_for()
    assert axe_violations(page) == []
    second = page.locator("#dose-2").inner_text()
    assert str((today_in_singapore() + timedelta(days=21)).day) in second
    token = page.locator("img[data-token]").get_attribute("data-token")
    assert token
    citizen.close()

    staff = browser.new_context()
    staff.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": session_cookie(
                    {
                        "kind": "person",
                        "id": "centre-staff-1",
                        "name": "Nurse Tan",
                        "roles": ["vaccination.staff"],
                        "attributes": {},
                    }
                ),
                "url": e2e_server,
            }
        ]
    )
    desk = staff.new_page()
    desk.goto(f"{e2e_server}/appointments/centre/E2E-VC")
    desk.get_by_label("Scan the QR code or type the NRIC/FIN").fill(token)
    desk.get_by_role("button", name="Check in", exact=True).click()
    assert desk.locator("#dose-number").inner_text() == "1"
    desk.get_by_label("Lot number on the vial").fill("FK8891")
    desk.get_by_role("button", name="Record dose given").click()
    desk.locator("#dose-given").wait_for()
    assert person.name in desk.locator("table").inner_text()  # on the observation list
    assert axe_violations(desk) == []
    staff.close()

    database = Database.from_settings(DatabaseSettings(url=e2e_database_url))
    with database.transaction() as session:
        records = service.vaccination_records(session, person.id)
    database.engine.dispose()
    assert [(r.dose_number, r.vaccine_code, r.lot, r.given_by) for r in records] == [
        (1, "PFIZER", "FK8891", "person:centre-staff-1")
    ]

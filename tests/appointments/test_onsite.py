"""On site: walk-ins while places remain, identity checks at check-in, the vaccination record."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from nas_support import invite, make_centres, open_everyone, people, resident_aged

from smartnation.appointments import service
from smartnation.appointments.models import Slot
from smartnation.core.clock import today_in_singapore, utcnow
from smartnation.core.db import Database
from smartnation.core.errors import Conflict, InvalidInput, NotAllowed, NotFound


@pytest.fixture
def nation(database: Database) -> Database:
    people(database, 150)
    with database.transaction() as session:
        make_centres(session, days=30)
        for code in ("PFZ-VC", "MOD-VC"):
            session.add(
                Slot(
                    centre_id=service.get_centre(session, code).id,
                    day=today_in_singapore(),
                    starts_at=utcnow() + timedelta(minutes=20),
                    capacity=1,
                    booked=0,
                )
            )
    return database


def test_walk_ins_need_an_open_walk_in_cohort_and_a_free_place(nation: Database) -> None:
    with nation.transaction() as session:
        senior = resident_aged(session, 65, 95)
        other = resident_aged(session, 65, 95, skip=1)
        open_everyone(session)
        with pytest.raises(NotAllowed):
            service.walk_in(session, "PFZ-VC", senior.nric)
        open_everyone(session, walk_in=True)
        checked = service.walk_in(session, "PFZ-VC", senior.nric)
        assert checked.walk_in and checked.dose_number == 1
        assert service.walk_in(session, "PFZ-VC", senior.nric).id == checked.id  # twice: once
        with pytest.raises(Conflict) as full:
            service.walk_in(session, "PFZ-VC", other.nric)  # the one place today is taken
        assert full.value.code == "no_capacity"
        dose = service.record_dose(session, checked.id, lot="AB-123")
        assert dose.observe_until - dose.given_at == timedelta(minutes=30)
        assert [o.name for o in service.observation_list(session, "PFZ-VC")] == [senior.name]
        records = service.vaccination_records(session, senior.id)
        assert records[0].snomed and records[0].lot == "AB-123"


def test_a_minor_walks_in_only_where_the_vaccine_allows_and_with_consent(nation: Database) -> None:
    with nation.transaction() as session:
        teen = resident_aged(session, 13, 17)
        open_everyone(session, walk_in=True)
        with pytest.raises(InvalidInput) as moderna:
            service.walk_in(session, "MOD-VC", teen.nric, parental_consent_by="Father")
        assert moderna.value.problems[0].code == "too_young_for_vaccine"
        with pytest.raises(InvalidInput) as consent:
            service.walk_in(session, "PFZ-VC", teen.nric)
        assert consent.value.problems[0].field == "parental_consent_by"
        assert service.walk_in(session, "PFZ-VC", teen.nric, parental_consent_by="Father")


def test_check_in_checks_identity_centre_and_day(nation: Database) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        someone_else = resident_aged(session, 30, 50, skip=1)
        sent = invite(session, person.nric)
        invite(session, someone_else.nric)
        booking = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=service.availability(
                session, service.get_centre(session, "PFZ-VC").id, today_in_singapore()
            )[0].id,
            invitation_id=sent.invitation_id,
        )
        with pytest.raises(Conflict) as impostor:
            service.check_in(session, "PFZ-VC", qr=booking.qr_token, nric=someone_else.nric)
        assert impostor.value.code == "identity_mismatch"
        with pytest.raises(Conflict) as elsewhere:
            service.check_in(session, "MOD-VC", qr=booking.qr_token)
        assert elsewhere.value.code == "other_centre"
        with pytest.raises(NotFound):
            service.check_in(session, "PFZ-VC", qr="not-a-token")
        with pytest.raises(Conflict) as wrong_day:
            service.check_in(
                session, "PFZ-VC", nric=person.nric, today=today_in_singapore() + timedelta(1)
            )
        assert wrong_day.value.code == "wrong_day"
        checked = service.check_in(session, "PFZ-VC", qr=booking.qr_token, nric=person.nric)
        assert checked.dose_number == 1 and checked.vaccine_code == "PFIZER"
        service.record_dose(session, checked.id, lot="EW0001")
        second_day = session.scalar(sa.select(Slot.day).where(Slot.id == booking.second_slot_id))
        second = service.check_in(session, "PFZ-VC", nric=person.nric, today=second_day)
        assert second.dose_number == 2
        service.record_dose(session, second.id, lot="EW0002")
        assert service.get_booking(session, booking.id).status == "completed"
        assert [r.dose_number for r in service.vaccination_records(session, person.id)] == [1, 2]

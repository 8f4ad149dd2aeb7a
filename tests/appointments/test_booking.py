"""Booking both doses: the rules, the refusals, and nothing half booked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from nas_support import (
    NO,
    first_slot,
    has_sms_number,
    invite,
    make_centres,
    open_everyone,
    people,
    resident_aged,
    resident_id,
    slots,
    sms_to,
)

from smartnation.appointments import service
from smartnation.appointments.models import Booking, Invitation, Slot
from smartnation.core import audit
from smartnation.core.clock import today_in_singapore, utcnow
from smartnation.core.db import Database
from smartnation.core.errors import Conflict, InvalidInput, NotAllowed
from smartnation.messaging.models import Message


@pytest.fixture
def nation(database: Database) -> Database:
    people(database)
    with database.transaction() as session:
        make_centres(session)
    return database


def _booked(session: sa.orm.Session) -> dict[int, int]:
    return dict(session.execute(sa.select(Slot.id, Slot.booked)).all())


def test_two_doses_are_booked_together_at_the_same_centre_after_the_interval(
    nation: Database,
) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        invitation = service.find_invitation(session, person.nric, sent.code)
        first = first_slot(session, "MOD-VC")
        booking = service.book_two_doses(
            session, resident_id=person.id, first_slot_id=first, invitation_id=invitation.id
        )
        shown = service.view(session, booking)
        assert shown.centre_code == "MOD-VC"
        assert shown.vaccine_code == "MODERNA"
        assert shown.second_at - shown.first_at == timedelta(days=28)
        counts = _booked(session)
        assert counts[shown.first_slot_id] == 1
        assert counts[shown.second_slot_id] == 1
        assert session.get(Invitation, invitation.id).status == "booked"
        bodies = [m.body for m in sms_to(session, sent.mobile)]
        assert any(sent.code in body for body in bodies)
        assert any(body.startswith("Booked: dose 1") for body in bodies)


def test_pfizer_second_dose_is_21_days_later(nation: Database) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        booking = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=first_slot(session, "PFZ-VC", offset=2, index=1),
            invitation_id=sent.invitation_id,
        )
        shown = service.view(session, booking)
        assert shown.second_at - shown.first_at == timedelta(days=21)


def test_a_16_year_old_is_refused_at_a_moderna_centre_and_nothing_is_booked(
    nation: Database,
) -> None:
    with nation.transaction() as session:
        teen = resident_aged(session, 12, 17)
        sent = invite(session, teen.nric)
        before = _booked(session)
        with pytest.raises(InvalidInput) as refused:
            service.book_two_doses(
                session,
                resident_id=teen.id,
                first_slot_id=first_slot(session, "MOD-VC"),
                invitation_id=sent.invitation_id,
                parental_consent_by="Parent",
            )
        assert refused.value.problems[0].field == "centre"
        assert refused.value.problems[0].code == "too_young_for_vaccine"
        assert _booked(session) == before
        with pytest.raises(InvalidInput) as no_consent:
            service.book_two_doses(
                session,
                resident_id=teen.id,
                first_slot_id=first_slot(session, "PFZ-VC"),
                invitation_id=sent.invitation_id,
            )
        assert no_consent.value.problems[0].field == "parental_consent_by"
        booking = service.book_two_doses(
            session,
            resident_id=teen.id,
            first_slot_id=first_slot(session, "PFZ-VC"),
            invitation_id=sent.invitation_id,
            parental_consent_by="Tan Mei Ling (mother)",
        )
        assert booking.parental_consent_by == "Tan Mei Ling (mother)"


def test_second_dose_outside_its_window_is_refused_and_nothing_half_booked(
    nation: Database,
) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        first = first_slot(session, "PFZ-VC", offset=1)
        too_soon = first_slot(session, "PFZ-VC", offset=10)
        before = _booked(session)
        with pytest.raises(InvalidInput) as refused:
            service.book_two_doses(
                session,
                resident_id=person.id,
                first_slot_id=first,
                second_slot_id=too_soon,
                invitation_id=sent.invitation_id,
            )
        assert refused.value.problems[0].field == "second_slot_id"
        assert refused.value.problems[0].code == "outside_window"
        assert _booked(session) == before
        assert session.get(Invitation, sent.invitation_id).status == "sent"


def test_full_second_dose_day_means_neither_dose_is_booked(database: Database) -> None:
    people(database)
    with database.transaction() as session:
        make_centres(session, capacity=1, days=5)  # no second-dose days released at all
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        before = _booked(session)
        with pytest.raises(Conflict) as refused:
            service.book_two_doses(
                session,
                resident_id=person.id,
                first_slot_id=first_slot(session, "PFZ-VC"),
                invitation_id=sent.invitation_id,
            )
        assert refused.value.code == "no_second_dose_slot"
        assert _booked(session) == before
        assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_one_active_booking_per_person_and_double_submit_returns_the_first(
    nation: Database,
) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        first = first_slot(session, "PFZ-VC")
        booking = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=first,
            invitation_id=sent.invitation_id,
            idempotency_key="k1",
        )
        again = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=first,
            invitation_id=sent.invitation_id,
            idempotency_key="k1",
        )
        assert again.id == booking.id
        assert _booked(session)[first] == 1
        with pytest.raises(Conflict):  # the code was used
            service.book_two_doses(
                session,
                resident_id=person.id,
                first_slot_id=first_slot(session, "PFZ-VC", offset=3),
                invitation_id=sent.invitation_id,
                idempotency_key="k2",
            )


def test_the_database_refuses_a_second_active_booking(nation: Database) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        booking = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=first_slot(session, "PFZ-VC"),
            invitation_id=sent.invitation_id,
        )
        with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
            session.add(
                Booking(
                    resident_id=person.id,
                    centre_id=booking.centre_id,
                    vaccine_code="PFIZER",
                    first_slot_id=booking.first_slot_id,
                    second_slot_id=booking.second_slot_id,
                    status="active",
                    qr_token="another-token",
                    booked_by="test",
                    created_at=utcnow(),
                    updated_at=utcnow(),
                    reminded=[],
                )
            )
            session.flush()


def test_the_database_refuses_overbooking_a_slot(nation: Database) -> None:
    with nation.transaction() as session:
        slot_id = first_slot(session, "PFZ-VC")
        with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
            session.execute(sa.update(Slot).where(Slot.id == slot_id).values(booked=99))


def test_reschedule_and_cancel_give_the_places_back(nation: Database) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        booking = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=first_slot(session, "PFZ-VC"),
            invitation_id=sent.invitation_id,
        )
        old = (booking.first_slot_id, booking.second_slot_id)
        service.reschedule(
            session, booking.id, first_slot_id=first_slot(session, "PFZ-VC", offset=4)
        )
        counts = _booked(session)
        assert counts[old[0]] == 0 and counts[old[1]] == 0
        assert counts[booking.first_slot_id] == 1 and counts[booking.second_slot_id] == 1
        service.cancel(session, booking.id)
        assert sum(_booked(session).values()) == 0
        assert session.get(Invitation, sent.invitation_id).status == "sent"
        # The code works again after a cancellation.
        rebooked = service.book_two_doses(
            session,
            resident_id=person.id,
            first_slot_id=first_slot(session, "PFZ-VC"),
            invitation_id=sent.invitation_id,
        )
        assert rebooked.status == "active"


def test_wrong_and_expired_codes_are_refused(nation: Database) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        other = resident_aged(session, 30, 50, skip=1)
        sent = invite(session, person.nric)
        with pytest.raises(InvalidInput) as wrong:
            service.find_invitation(session, other.nric, sent.code)  # someone else's NRIC
        assert wrong.value.problems[0].code == "wrong_code"
        typo = sent.code[:-1] + ("A" if sent.code[-1] != "A" else "B")
        with pytest.raises(InvalidInput):
            service.find_invitation(session, person.nric, typo)
        session.get(Invitation, sent.invitation_id).expires_at = utcnow() - timedelta(seconds=1)
        session.flush()
        with pytest.raises(InvalidInput) as expired:
            service.find_invitation(session, person.nric, sent.code.lower())
        assert expired.value.problems[0].code == "expired"


def test_screening_refuses_or_routes(nation: Database) -> None:
    with nation.transaction() as session:
        refused = resident_aged(session, 30, 50)
        routed = resident_aged(session, 30, 50, skip=1)
        sent_refused = service.register_interest(
            session, nric=refused.nric, answers={**NO, "severe_allergy_mrna": True}
        )
        assert sent_refused.screening_outcome == "refused"
        sent = invite(session, routed.nric, immunocompromised=True)
        with pytest.raises(InvalidInput) as wrong_centre:
            service.book_two_doses(
                session,
                resident_id=routed.id,
                first_slot_id=first_slot(session, "PFZ-VC"),
                invitation_id=sent.invitation_id,
            )
        assert wrong_centre.value.problems[0].code == "screening_route"
        booking = service.book_two_doses(
            session,
            resident_id=routed.id,
            first_slot_id=first_slot(session, "PFZ-POLY"),
            invitation_id=sent.invitation_id,
        )
        assert booking.status == "active"
        with pytest.raises(NotAllowed):
            service.book_two_doses(
                session,
                resident_id=refused.id,
                first_slot_id=first_slot(session, "PFZ-VC"),
                by_staff=True,
            )


def test_invitations_are_sized_to_the_places_released(database: Database) -> None:
    people(database, 200)
    with database.transaction() as session:
        make_centres(session, capacity=1, days=2, slots_per_day=2)  # 12 places: 6 people
        open_everyone(session)
        adults = sa.select(sa.text("nric, mobile FROM registry_resident WHERE mobile IS NOT NULL"))
        numbers = [nric for nric, mobile in session.execute(adults).all() if has_sms_number(mobile)]
        for nric in numbers[:30]:
            service.register_interest(session, nric=nric, answers=NO)
        sent = service.invite_cohort(session, "all")
        assert len(sent) == 6
        assert service.invite_cohort(session, "all") == []
        assert len({s.code for s in sent}) == 6
        stored = session.scalars(sa.select(Invitation.code_hash)).all()
        assert not any(s.code in h for s in sent for h in stored)


def test_staff_book_on_a_seniors_behalf_and_the_audit_says_for_whom(nation: Database) -> None:
    with nation.transaction() as session:
        senior = resident_aged(session, 65, 90)
        token = audit.current_actor.set("person:staff-1")
        try:
            service.register_interest(session, nric=senior.nric, answers=NO, on_behalf=True)
            open_everyone(session)
            booking = service.book_two_doses(
                session,
                resident_id=senior.id,
                first_slot_id=first_slot(session, "PFZ-VC"),
                by_staff=True,
            )
        finally:
            audit.current_actor.reset(token)
        events = audit.history(session, "appointments_booking", booking.id)
        assert events[0].actor == "person:staff-1"
        assert events[0].on_behalf_of == senior.nric
        assert booking.booked_by == "person:staff-1"


def test_reminders_the_day_before_are_sent_once(nation: Database) -> None:
    with nation.transaction() as session:
        person = resident_aged(session, 30, 50)
        sent = invite(session, person.nric)
        service.book_two_doses(
            session,
            resident_id=resident_id(session, person.nric),
            first_slot_id=first_slot(session, "PFZ-VC", offset=1),
            invitation_id=sent.invitation_id,
        )
        assert service.send_reminders(session) == 1
        assert service.send_reminders(session) == 0
        reminders = session.scalars(
            sa.select(Message).where(Message.template == "appointments.reminder")
        ).all()
        assert len(reminders) == 1
        assert "dose 1" in reminders[0].body


def test_slots_are_released_only_against_doses_delivered(database: Database) -> None:
    people(database, 20)
    with database.transaction() as session:
        make_centres(session, capacity=5, days=1, slots_per_day=4)
        day = today_in_singapore() + timedelta(days=1)
        assert sum(s.capacity for s in slots(session, "PFZ-VC", day)) == 20
        assert service.release_slots(session, "PFZ-VC", day) == 0  # nothing new delivered
        service.record_delivery(session, "PFZ-VC", day, 3)
        assert service.release_slots(session, "PFZ-VC", day) == 0  # hours are full already
        other = day + timedelta(days=1)
        service.record_delivery(session, "PFZ-VC", other, 7)
        assert service.release_slots(session, "PFZ-VC", other) == 7
        assert [s.capacity for s in slots(session, "PFZ-VC", other)] == [5, 2]

"""On site: check-in by QR code or NRIC/FIN, walk-ins, doses given, and the observation list.

A dose given is the vaccination record a HealthCert is issued from (`vaccination_records`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.appointments import catalogue, demand
from smartnation.appointments.booking import take_place
from smartnation.appointments.models import Booking, Centre, CheckIn, Dose, Registration, Slot
from smartnation.appointments.supply import get_centre
from smartnation.core import audit
from smartnation.core.clock import SINGAPORE, age_on, today_in_singapore, utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotAllowed, NotFound
from smartnation.core.i18n import N_
from smartnation.core.validators import mask_nric, parse_nric
from smartnation.registry import service as registry

OBSERVATION = timedelta(minutes=30)
_LOT = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,39}$")


@dataclass(frozen=True)
class CheckInView:
    """What the centre's staff see after a check-in: who, which dose, which vaccine."""

    id: int
    name: str
    masked_nric: str
    dose_number: int
    vaccine_code: str
    vaccine_name: str
    walk_in: bool
    appointment_at: datetime | None
    dose_recorded: bool


@dataclass(frozen=True)
class Observed:
    name: str
    masked_nric: str
    dose_number: int
    given_at: datetime
    observe_until: datetime


@dataclass(frozen=True)
class VaccinationRecord:
    """One dose given, with what a vaccination HealthCert needs."""

    resident_id: int
    dose_number: int
    vaccine_code: str
    vaccine_name: str
    snomed: str
    lot: str
    given_at: datetime
    site: str
    centre_code: str
    centre_name: str
    centre_postal_code: str | None
    given_by: str


def _doses(session: Session, resident_id: int) -> list[Dose]:
    return list(
        session.scalars(
            select(Dose).where(Dose.resident_id == resident_id).order_by(Dose.dose_number)
        )
    )


def _check_second_dose(doses: list[Dose], centre: Centre, today: date) -> None:
    """A second dose: same vaccine as the first, today within the vaccine's window."""
    first = doses[0]
    if first.vaccine_code != centre.vaccine_code:
        raise Conflict(
            N_("The first dose was a different vaccine. Send the person to a centre with it."),
            code="vaccine_mismatch",
        )
    start, end = catalogue.vaccine(first.vaccine_code).second_dose_window(
        first.given_at.astimezone(SINGAPORE).date()
    )
    if not start <= today <= end:
        raise Conflict(
            N_("Today is outside the allowed period for the second dose."),
            code="outside_window",
            earliest=start.isoformat(),
            latest=end.isoformat(),
        )


def _view(session: Session, checkin: CheckIn, name: str, nric: str) -> CheckInView:
    centre = session.get(Centre, checkin.centre_id)
    assert centre is not None
    vaccine = catalogue.vaccine(centre.vaccine_code)
    appointment = (
        session.scalar(select(Slot.starts_at).where(Slot.id == checkin.slot_id))
        if checkin.slot_id
        else None
    )
    recorded = session.scalar(select(Dose.id).where(Dose.checkin_id == checkin.id)) is not None
    return CheckInView(
        id=checkin.id,
        name=name,
        masked_nric=mask_nric(nric),
        dose_number=checkin.dose_number,
        vaccine_code=vaccine.code,
        vaccine_name=vaccine.name,
        walk_in=checkin.walk_in,
        appointment_at=appointment,
        dose_recorded=recorded,
    )


def check_in(
    session: Session,
    centre_code: str,
    *,
    qr: str | None = None,
    nric: str | None = None,
    today: date | None = None,
) -> CheckInView:
    """Check a person in by their booking's QR code or their NRIC/FIN (or both, which must agree).

    Identity, centre, the day of the appointment, the dose number and the vaccine are all checked.
    Checking the same person in twice for a dose returns the first check-in. `today` is the
    Singapore date of the check-in (the current one unless given).
    """
    today = today or today_in_singapore()
    centre = get_centre(session, centre_code)
    qr = (qr or "").strip()
    if not qr and not (nric or "").strip():
        raise InvalidInput(
            FieldProblem("lookup", N_("Scan the QR code or enter the NRIC/FIN."), "required")
        )
    booking: Booking | None
    if qr:
        booking = session.scalar(select(Booking).where(Booking.qr_token == qr))
        if booking is None:
            raise NotFound(N_("No booking has this QR code."))
    registration: Registration | None
    if nric and nric.strip():
        registration = demand.registration_by_nric(session, nric)
        if qr and booking is not None and booking.resident_id != registration.resident_id:
            raise Conflict(
                N_("This QR code belongs to someone else. Check the person's NRIC/FIN."),
                code="identity_mismatch",
            )
        if not qr:
            booking = session.scalar(
                select(Booking).where(
                    Booking.resident_id == registration.resident_id, Booking.status == "active"
                )
            )
    else:
        assert booking is not None
        registration = demand.get_registration(session, booking.resident_id)
        assert registration is not None
    if booking is None or booking.status != "active":
        raise NotFound(N_("This person has no active booking. Check walk-in eligibility."))
    if booking.centre_id != centre.id or booking.vaccine_code != centre.vaccine_code:
        other = session.get(Centre, booking.centre_id)
        raise Conflict(
            N_("This booking is at another centre."),
            code="other_centre",
            centre=other.name if other else "",
        )
    doses = _doses(session, booking.resident_id)
    dose_number = len(doses) + 1
    if dose_number > 2:
        raise Conflict(N_("Both doses have already been given."), code="complete")
    existing = session.scalar(
        select(CheckIn).where(
            CheckIn.resident_id == booking.resident_id, CheckIn.dose_number == dose_number
        )
    )
    if existing is not None:
        return _view(session, existing, registration.name, registration.nric)
    slot_id = booking.first_slot_id if dose_number == 1 else booking.second_slot_id
    day = session.scalar(select(Slot.day).where(Slot.id == slot_id))
    if day != today:
        raise Conflict(
            N_("The appointment for this dose is on another day."),
            code="wrong_day",
            appointment_day=day.isoformat() if day else None,
        )
    if dose_number == 2:
        _check_second_dose(doses, centre, today)
    checkin = CheckIn(
        resident_id=booking.resident_id,
        centre_id=centre.id,
        booking_id=booking.id,
        slot_id=slot_id,
        dose_number=dose_number,
        walk_in=False,
        checked_in_at=utcnow(),
        checked_in_by=audit.current_actor.get(),
    )
    session.add(checkin)
    session.flush()
    audit.record(
        session,
        "appointments.checkin.booked",
        subject_type="appointments_checkin",
        subject_id=checkin.id,
        details={
            "booking_id": booking.id,
            "dose_number": dose_number,
            "by": "qr" if qr else "nric",
        },
    )
    return _view(session, checkin, registration.name, registration.nric)


def walk_in(
    session: Session, centre_code: str, nric: str, *, parental_consent_by: str | None = None
) -> CheckInView:
    """Check in someone without a booking: their cohort must be open to walk-ins, and a place free
    in the current or a later slot today (taken like a booking, so capacity holds)."""
    centre = get_centre(session, centre_code)
    resident = registry.get_resident(session, parse_nric(nric, "nric"))
    registration = demand.get_registration(session, resident.id)
    occupation = registration.occupation if registration else None
    if demand.open_cohort_for(session, resident.date_of_birth, occupation, walk_in=True) is None:
        raise NotAllowed(N_("This person's group cannot walk in yet."), code="walk_in_closed")
    if session.scalar(
        select(Booking.id).where(Booking.resident_id == resident.id, Booking.status == "active")
    ):
        raise Conflict(
            N_("This person has a booking. Check them in with it instead."), code="has_booking"
        )
    vaccine = catalogue.vaccine(centre.vaccine_code)
    age = age_on(resident.date_of_birth, today_in_singapore())
    if age < vaccine.min_age:
        raise InvalidInput(
            FieldProblem(
                "nric",
                N_("The vaccine at this centre is not approved for this person's age."),
                "too_young_for_vaccine",
            )
        )
    if age < vaccine.consent_below_age and not (parental_consent_by or "").strip():
        raise InvalidInput(
            FieldProblem(
                "parental_consent_by",
                N_("A parent or guardian must give consent for a person under 18."),
                "consent_required",
            )
        )
    doses = _doses(session, resident.id)
    if len(doses) >= 2:
        raise Conflict(N_("Both doses have already been given."), code="complete")
    if doses:
        _check_second_dose(doses, centre, today_in_singapore())
    dose_number = len(doses) + 1
    existing = session.scalar(
        select(CheckIn).where(
            CheckIn.resident_id == resident.id, CheckIn.dose_number == dose_number
        )
    )
    if existing is not None:
        return _view(session, existing, resident.name, resident.nric)
    now = utcnow()
    candidates = session.scalars(
        select(Slot.id)
        .where(
            Slot.centre_id == centre.id,
            Slot.day == today_in_singapore(),
            Slot.starts_at > now - timedelta(minutes=centre.slot_minutes),
            Slot.booked < Slot.capacity,
        )
        .order_by(Slot.starts_at)
        .limit(5)
    ).all()
    slot_id = next((candidate for candidate in candidates if take_place(session, candidate)), None)
    if slot_id is None:
        raise Conflict(N_("No places are left today for walk-ins."), code="no_capacity")
    checkin = CheckIn(
        resident_id=resident.id,
        centre_id=centre.id,
        booking_id=None,
        slot_id=slot_id,
        dose_number=dose_number,
        walk_in=True,
        checked_in_at=now,
        checked_in_by=audit.current_actor.get(),
    )
    session.add(checkin)
    session.flush()
    audit.record(
        session,
        "appointments.checkin.walk_in",
        subject_type="appointments_checkin",
        subject_id=checkin.id,
        details={"dose_number": dose_number, "parental_consent_by": parental_consent_by},
        on_behalf_of=resident.nric,
    )
    return _view(session, checkin, resident.name, resident.nric)


def record_dose(
    session: Session,
    checkin_id: int,
    *,
    lot: str,
    site: str = "left_arm",
    given_at: datetime | None = None,
) -> Dose:
    """Record the dose given to a checked-in person: vaccine, lot, dose number, time, staff.

    `given_at` is now unless given (a history recorded afterwards, as the demo's is)."""
    lot = (lot or "").strip().upper()
    if not _LOT.match(lot):
        raise InvalidInput(
            FieldProblem("lot", N_("Enter the lot number printed on the vial."), "format")
        )
    if site not in ("left_arm", "right_arm"):
        raise InvalidInput(FieldProblem("site", N_("Choose the left or right arm."), "unknown"))
    checkin = session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound(N_("No such check-in."))
    existing = session.scalar(select(Dose).where(Dose.checkin_id == checkin.id))
    if existing is not None:
        return existing
    centre = session.get(Centre, checkin.centre_id)
    assert centre is not None
    now = given_at or utcnow()
    dose = Dose(
        resident_id=checkin.resident_id,
        checkin_id=checkin.id,
        centre_id=centre.id,
        vaccine_code=centre.vaccine_code,
        lot=lot,
        dose_number=checkin.dose_number,
        site=site,
        given_at=now,
        given_by=audit.current_actor.get(),
        observe_until=now + OBSERVATION,
    )
    session.add(dose)
    if checkin.booking_id is not None and checkin.dose_number == 2:
        booking = session.get(Booking, checkin.booking_id)
        if booking is not None and booking.status == "active":
            booking.status = "completed"
            booking.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "appointments.dose.given",
        subject_type="appointments_dose",
        subject_id=dose.id,
        details={
            "resident_id": dose.resident_id,
            "vaccine": dose.vaccine_code,
            "lot": lot,
            "dose_number": dose.dose_number,
        },
    )
    return dose


def observation_list(session: Session, centre_code: str) -> list[Observed]:
    """People still in their 30-minute observation after a dose at a centre, longest first."""
    centre = get_centre(session, centre_code)
    rows = session.execute(
        select(Dose.resident_id, Dose.dose_number, Dose.given_at, Dose.observe_until)
        .where(Dose.centre_id == centre.id, Dose.observe_until > utcnow())
        .order_by(Dose.given_at)
    ).all()
    observed = []
    for resident_id, dose_number, given_at, until in rows:
        person = registry.get_resident_by_id(session, resident_id)
        observed.append(Observed(person.name, mask_nric(person.nric), dose_number, given_at, until))
    return observed


def vaccination_records(session: Session, resident_id: int) -> list[VaccinationRecord]:
    """Every dose a person was given, in order: what a vaccination HealthCert is issued from."""
    rows = session.execute(
        select(Dose, Centre)
        .join(Centre, Centre.id == Dose.centre_id)
        .where(Dose.resident_id == resident_id)
        .order_by(Dose.dose_number)
    ).all()
    records = []
    for dose, centre in rows:
        vaccine = catalogue.vaccine(dose.vaccine_code)
        records.append(
            VaccinationRecord(
                resident_id=dose.resident_id,
                dose_number=dose.dose_number,
                vaccine_code=vaccine.code,
                vaccine_name=vaccine.name,
                snomed=vaccine.snomed,
                lot=dose.lot,
                given_at=dose.given_at,
                site=dose.site,
                centre_code=centre.code,
                centre_name=centre.name,
                centre_postal_code=centre.postal_code,
                given_by=dose.given_by,
            )
        )
    return records

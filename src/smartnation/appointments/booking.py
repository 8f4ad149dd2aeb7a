"""Booking: both doses at one centre in one transaction, reschedule and cancel.

A place in a slot is taken only by a conditional UPDATE (`booked = booked + 1 WHERE booked <
capacity`) whose row count says whether it succeeded, so the database, not Python, keeps a slot
within its capacity at any concurrency. One active booking per person is a partial unique index.
The work of each call runs in a savepoint: on any refusal nothing of it remains.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from smartnation.appointments import catalogue, demand, notify
from smartnation.appointments.models import Booking, Centre, Dose, Invitation, Registration, Slot
from smartnation.core import audit
from smartnation.core.clock import SINGAPORE, age_on, to_singapore, utcnow
from smartnation.core.errors import (
    Conflict,
    FieldProblem,
    InvalidInput,
    NotAllowed,
    NotFound,
)
from smartnation.core.i18n import N_

T = TypeVar("T")
SECOND_DOSE_CANDIDATES = 5


@dataclass(frozen=True)
class SlotRow:
    id: int
    centre_id: int
    day: date
    starts_at: datetime


@dataclass(frozen=True)
class BookingView:
    """A booking as people and clients see it."""

    id: int
    status: str
    resident_id: int
    centre_code: str
    centre_name: str
    vaccine_code: str
    vaccine_name: str
    first_slot_id: int
    first_at: datetime
    second_slot_id: int
    second_at: datetime
    qr_token: str
    on_behalf: bool = False


def _is_deadlock(error: OperationalError) -> bool:
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001")


def _in_savepoint(session: Session, work: Callable[[], T]) -> T:
    """Run `work` in a savepoint, retried when PostgreSQL picks it as a deadlock victim."""
    for attempt in range(3):
        try:
            with session.begin_nested():
                return work()
        except OperationalError as error:
            if not _is_deadlock(error) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def take_place(session: Session, slot_id: int) -> bool:
    """Take one place in a slot if it has room; the database decides, atomically."""
    result = session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked < Slot.capacity)
        .values(booked=Slot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def give_back_place(session: Session, slot_id: int) -> None:
    session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked > 0)
        .values(booked=Slot.booked - 1)
        .execution_options(synchronize_session=False)
    )


def _slot(session: Session, slot_id: int, field: str) -> SlotRow:
    row = session.execute(
        select(Slot.id, Slot.centre_id, Slot.day, Slot.starts_at).where(Slot.id == slot_id)
    ).first()
    if row is None:
        raise InvalidInput(FieldProblem(field, N_("There is no such appointment time."), "unknown"))
    return SlotRow(*row)


def _check_person(
    registration: Registration,
    centre: Centre,
    first_day: date,
    parental_consent_by: str | None,
) -> catalogue.Vaccine:
    """The rules that depend on the person: screening, age for the vaccine, parental consent."""
    vaccine = catalogue.vaccine(centre.vaccine_code)
    if registration.screening_outcome == "refused":
        raise NotAllowed(
            N_(
                "Your screening answers mean you cannot be booked online. Please speak to a "
                "doctor about vaccination."
            ),
            code="screening_refused",
        )
    if registration.screening_outcome.startswith("route:"):
        kinds = registration.screening_outcome.removeprefix("route:").split(",")
        if centre.kind not in kinds:
            raise InvalidInput(
                FieldProblem(
                    "centre",
                    N_(
                        "Your screening answers mean you should be vaccinated at a polyclinic "
                        "or clinic, where a doctor can assess you. Choose one of those."
                    ),
                    "screening_route",
                )
            )
    age = age_on(registration.date_of_birth, first_day)
    if age < vaccine.min_age:
        raise InvalidInput(
            FieldProblem(
                "centre",
                N_(
                    "The vaccine at this centre is not approved for your age. Choose a centre "
                    "with a vaccine for your age (Pfizer-BioNTech from 12 years)."
                ),
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
    return vaccine


def _check_invitation(
    session: Session,
    registration: Registration,
    invitation: Invitation | None,
    by_staff: bool,
) -> Invitation | None:
    if invitation is None and not by_staff:
        invitation = demand.valid_invitation_of(session, registration.resident_id)
        if invitation is None:
            raise NotAllowed(
                N_("You can book once you are invited by SMS. Register your interest first."),
                code="not_invited",
            )
    if invitation is not None:
        if invitation.resident_id != registration.resident_id:
            raise InvalidInput(
                FieldProblem("booking_code", N_("This booking code is for someone else."), "wrong")
            )
        if invitation.expires_at <= utcnow():
            raise InvalidInput(
                FieldProblem(
                    "booking_code",
                    N_("This invitation has expired. Register again to be invited later."),
                    "expired",
                )
            )
        if invitation.status != "sent":
            raise Conflict(
                N_("This booking code has been used. You can change or cancel that booking."),
                code="code_used",
            )
    elif (
        demand.open_cohort_for(session, registration.date_of_birth, registration.occupation) is None
    ):
        raise NotAllowed(
            N_("This person's group is not open for booking yet."), code="cohort_closed"
        )
    return invitation


def _second_dose_slot(
    session: Session,
    vaccine: catalogue.Vaccine,
    first: SlotRow,
    second_slot_id: int | None,
) -> int:
    """Take the second-dose place: the one asked for, or the nearest to the interval's end."""
    earliest, latest = vaccine.second_dose_window(first.day)
    if second_slot_id is not None:
        second = _slot(session, second_slot_id, "second_slot_id")
        if second.centre_id != first.centre_id:
            raise InvalidInput(
                FieldProblem(
                    "second_slot_id",
                    N_("The second dose must be at the same centre as the first."),
                    "other_centre",
                )
            )
        if not earliest <= second.day <= latest:
            raise InvalidInput(
                FieldProblem(
                    "second_slot_id",
                    N_("The second dose must be within the allowed period after the first."),
                    "outside_window",
                    {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
                )
            )
        if not take_place(session, second.id):
            raise Conflict(
                N_("That second-dose time has just been fully booked. Please choose another."),
                code="slot_full",
            )
        return second.id
    preferred = first.starts_at + timedelta(days=vaccine.second_dose_days)
    candidates = session.execute(
        select(Slot.id, Slot.day, Slot.starts_at)
        .where(
            Slot.centre_id == first.centre_id,
            Slot.day >= max(earliest, preferred.astimezone(SINGAPORE).date()),
            Slot.day <= latest,
            Slot.booked < Slot.capacity,
        )
        .order_by(Slot.day, Slot.starts_at)
        .limit(200)
    ).all()
    first_day = candidates[0].day if candidates else None
    ranked = sorted(
        (row for row in candidates if row.day == first_day),
        key=lambda row: abs((row.starts_at - preferred).total_seconds()),
    ) + [row for row in candidates if row.day != first_day]
    for row in ranked[:SECOND_DOSE_CANDIDATES]:
        if take_place(session, row.id):
            return int(row.id)
    raise Conflict(
        N_(
            "There is no free second-dose time at this centre in the allowed period. Please "
            "choose another first-dose date or centre."
        ),
        code="no_second_dose_slot",
    )


def _registration(session: Session, resident_id: int) -> Registration:
    registration = demand.get_registration(session, resident_id)
    if registration is None:
        raise NotAllowed(
            N_("Please register your interest in vaccination first."), code="not_registered"
        )
    return registration


def _first_slot(session: Session, first_slot_id: int) -> tuple[SlotRow, Centre]:
    first = _slot(session, first_slot_id, "first_slot_id")
    if first.starts_at <= utcnow():
        raise InvalidInput(
            FieldProblem("first_slot_id", N_("This time has already passed."), "in_past")
        )
    centre = session.get(Centre, first.centre_id)
    if centre is None or not centre.active:
        raise InvalidInput(
            FieldProblem("centre", N_("This centre is not taking bookings."), "closed")
        )
    return first, centre


def _confirm(
    session: Session,
    booking: Booking,
    registration: Registration,
    centre: Centre,
    first_at: datetime,
    second_at: datetime,
) -> None:
    fmt = "%d %b %Y %I:%M %p"
    notify.send_sms(
        session,
        to=registration.mobile,
        template="confirmation",
        variables={
            "first": to_singapore(first_at).strftime(fmt),
            "second": to_singapore(second_at).strftime(fmt),
            "centre": centre.name,
        },
        language=registration.language,
        idempotency_key=f"appointments:confirmation:{booking.id}:{booking.first_slot_id}:"
        f"{booking.second_slot_id}",
    )


def slot_full() -> Conflict:
    """The refusal when the first-dose time chosen has no place left."""
    return Conflict(
        N_("That time has just been fully booked. Please choose another."), code="slot_full"
    )


def book_two_doses(
    session: Session,
    *,
    resident_id: int,
    first_slot_id: int,
    second_slot_id: int | None = None,
    invitation_id: int | None = None,
    parental_consent_by: str | None = None,
    idempotency_key: str | None = None,
    by_staff: bool = False,
) -> Booking:
    """Book a first-dose slot and the second dose at the same centre, both or neither.

    A person books with their invitation (`invitation_id`, from the booking code, or found by
    `resident_id` when logged in); staff booking on someone's behalf (`by_staff`) need the person's
    cohort to be open instead, and the audit names the person acted for. A repeated
    `idempotency_key` returns the booking the first request made.
    """
    if idempotency_key is not None:
        replay = _replay(session, resident_id, idempotency_key, first_slot_id)
        if replay is not None:
            return replay
    try:
        return _book(
            session,
            resident_id=resident_id,
            first_slot_id=first_slot_id,
            second_slot_id=second_slot_id,
            invitation_id=invitation_id,
            parental_consent_by=parental_consent_by,
            idempotency_key=idempotency_key,
            by_staff=by_staff,
        )
    except Conflict as refused:
        # A double submit whose twin committed while this one ran: each statement sees the newest
        # committed rows, so the booking or the used code may show up after the first look.
        if idempotency_key is not None and refused.code in ("already_booked", "code_used"):
            session.expire_all()
            replay = _replay(session, resident_id, idempotency_key, first_slot_id)
            if replay is not None:
                return replay
        raise


def _book(
    session: Session,
    *,
    resident_id: int,
    first_slot_id: int,
    second_slot_id: int | None,
    invitation_id: int | None,
    parental_consent_by: str | None,
    idempotency_key: str | None,
    by_staff: bool,
) -> Booking:
    registration = _registration(session, resident_id)
    invitation = session.get(Invitation, invitation_id) if invitation_id is not None else None
    if invitation_id is not None and invitation is None:
        raise NotFound(N_("No such invitation."))
    existing = active_booking(session, resident_id)
    if existing is not None:
        raise Conflict(
            N_("You already have a booking. You can change or cancel it."), code="already_booked"
        )
    first, centre = _first_slot(session, first_slot_id)
    vaccine = _check_person(registration, centre, first.day, parental_consent_by)
    invitation = _check_invitation(session, registration, invitation, by_staff)

    def work() -> Booking:
        if not take_place(session, first.id):
            raise slot_full()
        second_id = _second_dose_slot(session, vaccine, first, second_slot_id)
        now = utcnow()
        booking = Booking(
            resident_id=resident_id,
            centre_id=centre.id,
            vaccine_code=vaccine.code,
            first_slot_id=first.id,
            second_slot_id=second_id,
            invitation_id=invitation.id if invitation else None,
            status="active",
            qr_token=secrets.token_urlsafe(16),
            idempotency_key=idempotency_key,
            parental_consent_by=(parental_consent_by or "").strip() or None,
            booked_by=audit.current_actor.get(),
            created_at=now,
            updated_at=now,
            reminded=[],
        )
        session.add(booking)
        session.flush()
        if invitation is not None:
            claimed = session.execute(
                update(Invitation)
                .where(Invitation.id == invitation.id, Invitation.status == "sent")
                .values(status="booked")
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(
                    N_("This booking code has been used. You can change or cancel that booking."),
                    code="code_used",
                )
        return booking

    try:
        booking = _in_savepoint(session, work)
    except IntegrityError:
        # Another request for the same person won the race (a double submit, or two devices);
        # a double submit is answered with the first booking by the caller.
        raise Conflict(
            N_("You already have a booking. You can change or cancel it."), code="already_booked"
        ) from None
    if invitation is not None:
        session.expire(invitation, ["status"])
    second_at = session.scalar(select(Slot.starts_at).where(Slot.id == booking.second_slot_id))
    assert second_at is not None
    audit.record(
        session,
        "appointments.booking.booked",
        subject_type="appointments_booking",
        subject_id=booking.id,
        details={
            "centre": centre.code,
            "vaccine": vaccine.code,
            "first_slot_id": booking.first_slot_id,
            "second_slot_id": booking.second_slot_id,
            "parental_consent_by": booking.parental_consent_by,
        },
        on_behalf_of=registration.nric if by_staff else None,
    )
    _confirm(session, booking, registration, centre, first.starts_at, second_at)
    return booking


def send_confirmation(session: Session, booking_id: int) -> None:
    """Send a booking's confirmation SMS (the job a one-statement booking queues); never twice."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.status != "active":
        return
    registration = _registration(session, booking.resident_id)
    centre = session.get(Centre, booking.centre_id)
    assert centre is not None
    times = dict(
        session.execute(
            select(Slot.id, Slot.starts_at).where(
                Slot.id.in_([booking.first_slot_id, booking.second_slot_id])
            )
        ).all()
    )
    _confirm(
        session,
        booking,
        registration,
        centre,
        times[booking.first_slot_id],
        times[booking.second_slot_id],
    )


def _replay(
    session: Session, resident_id: int, idempotency_key: str, first_slot_id: int
) -> Booking | None:
    booking = session.scalar(
        select(Booking).where(
            Booking.resident_id == resident_id, Booking.idempotency_key == idempotency_key
        )
    )
    if booking is None:
        return None
    if booking.first_slot_id != first_slot_id and booking.status == "active":
        raise Conflict(
            N_("This request key was already used for a different booking."),
            code="idempotency_key_reused",
        )
    return booking


def active_booking(session: Session, resident_id: int) -> Booking | None:
    """A person's active booking, if any."""
    return session.scalar(
        select(Booking).where(Booking.resident_id == resident_id, Booking.status == "active")
    )


def get_booking(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(N_("No such booking."))
    return booking


def booking_for_invitation(session: Session, invitation_id: int) -> Booking | None:
    """The booking an invitation's code was used for, if it is still active."""
    return session.scalar(
        select(Booking).where(Booking.invitation_id == invitation_id, Booking.status == "active")
    )


def view(session: Session, booking: Booking) -> BookingView:
    """A booking with its centre, vaccine and times."""
    centre = session.get(Centre, booking.centre_id)
    assert centre is not None
    times = dict(
        session.execute(
            select(Slot.id, Slot.starts_at).where(
                Slot.id.in_([booking.first_slot_id, booking.second_slot_id])
            )
        ).all()
    )
    vaccine = catalogue.vaccine(booking.vaccine_code)
    return BookingView(
        id=booking.id,
        status=booking.status,
        resident_id=booking.resident_id,
        centre_code=centre.code,
        centre_name=centre.name,
        vaccine_code=vaccine.code,
        vaccine_name=vaccine.name,
        first_slot_id=booking.first_slot_id,
        first_at=times[booking.first_slot_id],
        second_slot_id=booking.second_slot_id,
        second_at=times[booking.second_slot_id],
        qr_token=booking.qr_token,
    )


def _doses_given(session: Session, resident_id: int) -> int:
    return len(session.scalars(select(Dose.id).where(Dose.resident_id == resident_id)).all())


def _active(session: Session, booking_id: int) -> Booking:
    booking = session.scalar(select(Booking).where(Booking.id == booking_id).with_for_update())
    if booking is None:
        raise NotFound(N_("No such booking."))
    if booking.status != "active":
        raise Conflict(N_("This booking is no longer active."), code="not_active")
    return booking


def reschedule(
    session: Session,
    booking_id: int,
    *,
    first_slot_id: int,
    second_slot_id: int | None = None,
    parental_consent_by: str | None = None,
) -> Booking:
    """Move both doses to new times (at any centre), giving the old places back; both or neither."""
    booking = _active(session, booking_id)
    if _doses_given(session, booking.resident_id):
        raise Conflict(
            N_("The first dose has been given; the centre can change the second appointment."),
            code="dose_given",
        )
    registration = _registration(session, booking.resident_id)
    first, centre = _first_slot(session, first_slot_id)
    vaccine = _check_person(
        registration, centre, first.day, parental_consent_by or booking.parental_consent_by
    )
    old = (booking.first_slot_id, booking.second_slot_id)

    def work() -> None:
        for slot_id in old:
            give_back_place(session, slot_id)
        if not take_place(session, first.id):
            raise slot_full()
        booking.second_slot_id = _second_dose_slot(session, vaccine, first, second_slot_id)
        booking.first_slot_id = first.id
        booking.centre_id = centre.id
        booking.vaccine_code = vaccine.code
        booking.updated_at = utcnow()
        session.flush()

    _in_savepoint(session, work)
    audit.record(
        session,
        "appointments.booking.rescheduled",
        subject_type="appointments_booking",
        subject_id=booking.id,
        details={"from": list(old), "to": [booking.first_slot_id, booking.second_slot_id]},
    )
    second_at = session.scalar(select(Slot.starts_at).where(Slot.id == booking.second_slot_id))
    assert second_at is not None
    _confirm(session, booking, registration, centre, first.starts_at, second_at)
    return booking


def cancel(session: Session, booking_id: int, *, on_behalf: bool = False) -> Booking:
    """Cancel a booking: places of doses not yet given go back; the invitation is usable again."""
    booking = _active(session, booking_id)
    given = _doses_given(session, booking.resident_id)
    slots = [booking.first_slot_id, booking.second_slot_id][given:]

    def work() -> None:
        for slot_id in slots:
            give_back_place(session, slot_id)
        booking.status = "cancelled"
        booking.updated_at = utcnow()
        if booking.invitation_id is not None:
            session.execute(
                update(Invitation)
                .where(Invitation.id == booking.invitation_id)
                .values(status="sent")
                .execution_options(synchronize_session=False)
            )
        session.flush()

    _in_savepoint(session, work)
    registration = _registration(session, booking.resident_id)
    audit.record(
        session,
        "appointments.booking.cancelled",
        subject_type="appointments_booking",
        subject_id=booking.id,
        details={"returned_slots": slots},
        on_behalf_of=registration.nric if on_behalf else None,
    )
    centre = session.get(Centre, booking.centre_id)
    assert centre is not None
    notify.send_sms(
        session,
        to=registration.mobile,
        template="cancellation",
        variables={"centre": centre.name},
        language=registration.language,
        idempotency_key=f"appointments:cancellation:{booking.id}",
    )
    return booking

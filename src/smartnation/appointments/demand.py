"""Demand: registration of interest and screening, cohorts opened in phases, and invitations.

An invitation carries a personal booking code, sent by SMS and used together with the person's
NRIC/FIN. Only a hash of NRIC and code is stored, so a leaked table does not reveal codes, and a
code is useless with anyone else's NRIC.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartnation.appointments import catalogue, notify
from smartnation.appointments.models import Booking, Cohort, Invitation, Registration, Slot
from smartnation.core import audit
from smartnation.core.clock import age_on, to_singapore, today_in_singapore, utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import LANGUAGE_CODES, N_
from smartnation.core.validators import parse_nric, parse_phone
from smartnation.registry import service as registry

INVITATION_DAYS = 14
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I, L, O, 0 or 1: nothing to misread
CODE_LENGTH = 10
OCCUPATIONS: dict[str, str] = {
    "healthcare": N_("Healthcare worker"),
    "eldercare": N_("Eldercare or nursing home staff"),
    "education": N_("Teacher or school staff"),
    "frontline": N_("Frontline worker (transport, border, security)"),
    "other": N_("Other or none"),
}


# Booking codes ----------------------------------------------------------------------------------


def _check_character(body: str) -> str:
    total = sum((index + 1) * CODE_ALPHABET.index(char) for index, char in enumerate(body))
    return CODE_ALPHABET[total % len(CODE_ALPHABET)]


def new_booking_code() -> str:
    """Ten characters: nine random (about 44 bits) and a check character that catches typos."""
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH - 1))
    return body + _check_character(body)


def normalise_code(code: str) -> str:
    """The code as typed, upper case, no spaces or hyphens; InvalidInput if it cannot be one."""
    cleaned = "".join((code or "").split()).replace("-", "").upper()
    if not cleaned:
        raise InvalidInput(
            FieldProblem("booking_code", N_("Enter the booking code from your SMS."), "required")
        )
    if (
        len(cleaned) != CODE_LENGTH
        or any(char not in CODE_ALPHABET for char in cleaned)
        or _check_character(cleaned[:-1]) != cleaned[-1]
    ):
        raise InvalidInput(
            FieldProblem(
                "booking_code",
                N_("This booking code is not right. Check the 10 characters in your SMS."),
                "wrong_code",
            )
        )
    return cleaned


def code_hash(nric: str, code: str) -> str:
    return hashlib.sha256(f"{nric}:{code}".encode()).hexdigest()


# Registration -----------------------------------------------------------------------------------


def register_interest(
    session: Session,
    *,
    nric: str,
    answers: dict[str, bool],
    mobile: str | None = None,
    occupation: str | None = None,
    language: str = "en",
    on_behalf: bool = False,
) -> Registration:
    """Register a person's interest (again, to update answers), screen them and acknowledge by SMS.

    With `on_behalf`, the acting staff member registers someone else; the audit says for whom.
    """
    resident = registry.get_resident(session, parse_nric(nric))
    outcome = catalogue.screen(answers)
    number = mobile or resident.mobile
    if not number:
        raise InvalidInput(
            FieldProblem("mobile", N_("A mobile number is needed to receive SMS."), "required")
        )
    try:
        number = parse_phone(number, "mobile", mobile_only=True)
    except InvalidInput:
        raise InvalidInput(
            FieldProblem("mobile", N_("Enter a mobile number that can receive SMS."), "invalid")
        ) from None
    if occupation is not None and occupation not in OCCUPATIONS:
        raise InvalidInput(FieldProblem("occupation", N_("Choose an occupation."), "unknown"))
    registration = session.scalar(
        select(Registration).where(Registration.resident_id == resident.id)
    )
    if registration is None:
        registration = Registration(
            resident_id=resident.id,
            nric=resident.nric,
            name=resident.name,
            date_of_birth=resident.date_of_birth,
            created_at=utcnow(),
            registered_by=audit.current_actor.get(),
        )
        session.add(registration)
    registration.mobile = number
    registration.language = language if language in LANGUAGE_CODES else "en"
    registration.occupation = occupation
    registration.screening_answers = {key: bool(value) for key, value in answers.items()}
    registration.screening_outcome = outcome.label
    session.flush()
    audit.record(
        session,
        "appointments.registration.recorded",
        subject_type="appointments_registration",
        subject_id=registration.id,
        details={"outcome": outcome.label, "on_behalf": on_behalf},
        on_behalf_of=resident.nric if on_behalf else None,
    )
    notify.send_sms(
        session,
        to=number,
        template="registered",
        variables={},
        language=registration.language,
        idempotency_key=f"appointments:registered:{registration.id}",
    )
    return registration


def get_registration(session: Session, resident_id: int) -> Registration | None:
    return session.scalar(select(Registration).where(Registration.resident_id == resident_id))


def registration_by_nric(session: Session, nric: str) -> Registration:
    """A person's registration by NRIC/FIN, or NotFound."""
    registration = session.scalar(select(Registration).where(Registration.nric == parse_nric(nric)))
    if registration is None:
        raise NotFound(N_("This person has not registered for vaccination yet."))
    return registration


# Cohorts ----------------------------------------------------------------------------------------


def create_cohort(
    session: Session,
    *,
    code: str,
    name: str,
    min_age: int,
    max_age: int | None = None,
    occupation: str | None = None,
) -> Cohort:
    """Define a cohort: an age band, optionally one occupation. It is closed until opened."""
    if min_age < 0 or (max_age is not None and max_age < min_age):
        raise InvalidInput(FieldProblem("max_age", N_("The age band is empty."), "range"))
    if occupation is not None and occupation not in OCCUPATIONS:
        raise InvalidInput(FieldProblem("occupation", N_("Choose an occupation."), "unknown"))
    if session.scalar(select(Cohort.id).where(Cohort.code == code)):
        raise Conflict(f"A cohort with the code {code} exists.")
    cohort = Cohort(code=code, name=name, min_age=min_age, max_age=max_age, occupation=occupation)
    cohort.walk_in = False
    session.add(cohort)
    session.flush()
    audit.record(
        session,
        "appointments.cohort.created",
        subject_type="appointments_cohort",
        subject_id=cohort.id,
        details={"code": code, "min_age": min_age, "max_age": max_age, "occupation": occupation},
    )
    return cohort


def get_cohort(session: Session, code: str) -> Cohort:
    cohort = session.scalar(select(Cohort).where(Cohort.code == code))
    if cohort is None:
        raise NotFound(f"No cohort has the code {code}.")
    return cohort


def list_cohorts(session: Session) -> list[Cohort]:
    return list(session.scalars(select(Cohort).order_by(Cohort.min_age.desc(), Cohort.code)))


def open_cohort(session: Session, code: str, *, walk_in: bool = False) -> Cohort:
    """Open a cohort for booking (and, with `walk_in`, for walking in without a booking)."""
    cohort = get_cohort(session, code)
    if cohort.opened_at is None:
        cohort.opened_at = utcnow()
    cohort.walk_in = cohort.walk_in or walk_in
    audit.record(
        session,
        "appointments.cohort.opened",
        subject_type="appointments_cohort",
        subject_id=cohort.id,
        details={"walk_in": cohort.walk_in},
    )
    return cohort


def _matches(cohort: Cohort, date_of_birth: date, occupation: str | None, on: date) -> bool:
    age = age_on(date_of_birth, on)
    if age < cohort.min_age or (cohort.max_age is not None and age > cohort.max_age):
        return False
    return cohort.occupation is None or cohort.occupation == occupation


def open_cohort_for(
    session: Session,
    date_of_birth: date,
    occupation: str | None,
    *,
    walk_in: bool = False,
) -> Cohort | None:
    """An open cohort the person belongs to today (with `walk_in`: one open to walk-ins)."""
    query = select(Cohort).where(Cohort.opened_at.is_not(None))
    if walk_in:
        query = query.where(Cohort.walk_in)
    today = today_in_singapore()
    for cohort in session.scalars(query.order_by(Cohort.id)):
        if _matches(cohort, date_of_birth, occupation, today):
            return cohort
    return None


# Invitations ------------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def places_to_invite(session: Session) -> int:
    """How many more people can be invited: free two-dose places less invitations outstanding."""
    today = today_in_singapore()
    free = session.scalar(
        select(func.coalesce(func.sum(Slot.capacity - Slot.booked), 0)).where(Slot.day >= today)
    )
    outstanding = session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.status == "sent", Invitation.expires_at > utcnow())
    )
    return max(0, int(free or 0) // 2 - int(outstanding or 0))


@dataclass(frozen=True)
class SentInvitation:
    """An invitation made; the code is here once, for the SMS, and never stored."""

    invitation_id: int
    resident_id: int
    mobile: str
    code: str


def invite_cohort(
    session: Session, code: str, *, limit: int | None = None, base_url: str = ""
) -> list[SentInvitation]:
    """Invite registered people of an open cohort, as many as the places released allow.

    The longest-registered first; people screened as refused, already booked, or holding an
    invitation that has not expired are skipped.
    """
    cohort = get_cohort(session, code)
    if cohort.opened_at is None:
        raise Conflict(N_("Open the cohort before inviting people."))
    room = places_to_invite(session)
    count = room if limit is None else min(limit, room)
    if count <= 0:
        return []
    today = today_in_singapore()
    now = utcnow()
    query = (
        select(Registration)
        .where(
            Registration.screening_outcome != "refused",
            Registration.date_of_birth <= _years_before(today, cohort.min_age),
            ~select(Invitation.id)
            .where(
                Invitation.resident_id == Registration.resident_id,
                Invitation.expires_at > now,
            )
            .exists(),
            ~select(Booking.id)
            .where(Booking.resident_id == Registration.resident_id, Booking.status != "cancelled")
            .exists(),
        )
        .order_by(Registration.created_at, Registration.id)
        .limit(count)
    )
    if cohort.max_age is not None:
        query = query.where(Registration.date_of_birth > _years_before(today, cohort.max_age + 1))
    if cohort.occupation is not None:
        query = query.where(Registration.occupation == cohort.occupation)
    expires = now + timedelta(days=INVITATION_DAYS)
    sent = []
    for registration in session.scalars(query):
        booking_code = new_booking_code()
        invitation = Invitation(
            resident_id=registration.resident_id,
            cohort_id=cohort.id,
            code_hash=code_hash(registration.nric, booking_code),
            status="sent",
            expires_at=expires,
            created_at=now,
        )
        session.add(invitation)
        session.flush()
        notify.send_sms(
            session,
            to=registration.mobile,
            template="invitation",
            variables={
                "code": booking_code,
                "url": f"{base_url}/appointments/book",
                "expires": to_singapore(expires).strftime("%d %b %Y"),
            },
            language=registration.language,
            idempotency_key=f"appointments:invitation:{invitation.id}",
        )
        sent.append(
            SentInvitation(
                invitation.id, registration.resident_id, registration.mobile, booking_code
            )
        )
    audit.record(
        session,
        "appointments.cohort.invited",
        subject_type="appointments_cohort",
        subject_id=cohort.id,
        details={"invited": len(sent), "room": room},
    )
    return sent


def find_invitation(session: Session, nric: str, code: str) -> Invitation:
    """The invitation a person's NRIC/FIN and booking code name; refuses wrong or expired codes."""
    nric = parse_nric(nric)
    cleaned = normalise_code(code)
    invitation = session.scalar(
        select(Invitation).where(Invitation.code_hash == code_hash(nric, cleaned))
    )
    if invitation is None:
        raise InvalidInput(
            FieldProblem(
                "booking_code",
                N_("This booking code does not match this NRIC/FIN. Check both and try again."),
                "wrong_code",
            )
        )
    if invitation.expires_at <= utcnow():
        raise InvalidInput(
            FieldProblem(
                "booking_code",
                N_("This invitation has expired. Register again to be invited later."),
                "expired",
            )
        )
    return invitation


def valid_invitation_of(session: Session, resident_id: int) -> Invitation | None:
    """A person's unexpired invitation, if any (for people who log in instead of using a code)."""
    return session.scalar(
        select(Invitation)
        .where(Invitation.resident_id == resident_id, Invitation.expires_at > utcnow())
        .order_by(Invitation.id.desc())
        .limit(1)
    )

"""A small nation for appointment tests: people, centres with released slots, open cohorts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from smartnation.appointments import service
from smartnation.core.clock import age_on, today_in_singapore
from smartnation.core.db import Database
from smartnation.core.errors import InvalidInput
from smartnation.core.validators import parse_phone
from smartnation.messaging.models import Message
from smartnation.registry import service as registry
from smartnation.registry.loader import load_population
from smartnation.registry.models import Resident

NO = {question.code: False for question in service.questions()}
DAYS = 36  # slots released from tomorrow for this many days: room for both doses


@dataclass(frozen=True)
class Nation:
    pfizer: str = "PFZ-VC"
    moderna: str = "MOD-VC"
    polyclinic: str = "PFZ-POLY"


def make_centres(
    session: Session,
    *,
    capacity: int = 3,
    days: int = DAYS,
    first_day: date | None = None,
    slots_per_day: int = 2,
) -> Nation:
    """Three centres (Pfizer and Moderna vaccination centres, a Pfizer polyclinic), each with
    `slots_per_day` one-hour slots of `capacity` places released for `days` days."""
    nation = Nation()
    start = first_day or today_in_singapore() + timedelta(days=1)
    for code, kind, vaccine in (
        (nation.pfizer, "vaccination_centre", "PFIZER"),
        (nation.moderna, "vaccination_centre", "MODERNA"),
        (nation.polyclinic, "polyclinic", "PFIZER"),
    ):
        service.create_centre(
            session,
            service.NewCentre(
                code=code,
                name=f"{code} centre",
                kind=kind,
                vaccine_code=vaccine,
                opens_at=time(9, 0),
                closes_at=time(9 + slots_per_day, 0),
                slot_minutes=60,
                capacity_per_slot=capacity,
            ),
        )
        for offset in range(days):
            day = start + timedelta(days=offset)
            service.record_delivery(session, code, day, capacity * slots_per_day)
            service.release_slots(session, code, day)
    return nation


def people(database: Database, count: int = 120, seed: int = 7) -> None:
    load_population(database, count, seed=seed)


def has_sms_number(mobile: str | None) -> bool:
    try:
        return bool(mobile) and bool(parse_phone(mobile or "", mobile_only=True))
    except InvalidInput:
        return False


def resident_aged(session: Session, low: int, high: int, *, skip: int = 0) -> Resident:
    """A resident whose age today is within [low, high] and who has a mobile number for SMS."""
    today = today_in_singapore()
    found = [
        resident
        for resident in session.scalars(
            sa.select(Resident).where(Resident.mobile.is_not(None)).order_by(Resident.id)
        )
        if low <= age_on(resident.date_of_birth, today) <= high and has_sms_number(resident.mobile)
    ]
    if len(found) <= skip:
        raise LookupError(f"no resident aged {low}-{high} (#{skip})")
    return found[skip]


def open_everyone(session: Session, *, walk_in: bool = False) -> None:
    if not session.scalar(sa.text("SELECT 1 FROM appointments_cohort WHERE code = 'all'")):
        service.create_cohort(session, code="all", name="Everyone 12+", min_age=12)
    service.open_cohort(session, "all", walk_in=walk_in)


def invite(session: Session, nric: str, **answers: bool) -> service.SentInvitation:
    """Register a person, open everyone's cohort and invite them; returns the SMS's code."""
    registration = service.register_interest(session, nric=nric, answers={**NO, **answers})
    open_everyone(session)
    for sent in service.invite_cohort(session, "all", limit=10_000):
        if sent.resident_id == registration.resident_id:
            return sent
    raise LookupError(f"{nric} was not invited")


def slots(session: Session, centre: str, day: date) -> list[service.SlotView]:
    return service.availability(session, service.get_centre(session, centre).id, day)


def first_slot(session: Session, centre: str, offset: int = 1, index: int = 0) -> int:
    day = today_in_singapore() + timedelta(days=offset)
    return slots(session, centre, day)[index].id


def resident_id(session: Session, nric: str) -> int:
    return registry.get_resident(session, nric).id


def sms_to(session: Session, mobile: str, template: str | None = None) -> list[Message]:
    """SMS queued for a number, newest first."""
    query = sa.select(Message).where(Message.recipient == mobile, Message.channel == "sms")
    if template:
        query = query.where(Message.template == f"appointments.{template}")
    return list(session.scalars(query.order_by(Message.id.desc())))


def invite_adults(
    database: Database, population: int, capacity: int
) -> list[service.SentInvitation]:
    """People registered and invited, with the codes their SMS carried."""
    people(database, population, seed=11)
    with database.transaction() as session:
        make_centres(session, capacity=capacity, days=30, slots_per_day=2)
        open_everyone(session)
        adults = session.execute(
            sa.text(
                "SELECT nric, mobile FROM registry_resident WHERE mobile IS NOT NULL "
                "AND date_of_birth < :cutoff ORDER BY id"
            ),
            {"cutoff": "2006-01-01"},
        ).all()
        for nric, mobile in adults:
            if has_sms_number(mobile):
                service.register_interest(session, nric=nric, answers=NO)
        return service.invite_cohort(session, "all")

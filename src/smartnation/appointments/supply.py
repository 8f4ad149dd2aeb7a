"""Supply: vaccination centres, dose deliveries, and slots released against the doses delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smartnation.appointments import catalogue
from smartnation.appointments.models import CENTRE_KINDS, Centre, Delivery, Slot
from smartnation.core import audit
from smartnation.core.clock import SINGAPORE, utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import N_
from smartnation.core.validators import parse_postal_code


@dataclass(frozen=True)
class NewCentre:
    """What is needed to open a centre."""

    code: str
    name: str
    kind: str
    vaccine_code: str
    opens_at: time = time(8, 0)
    closes_at: time = time(22, 0)
    slot_minutes: int = 30
    capacity_per_slot: int = 50
    postal_code: str | None = None
    business_id: int | None = None


def create_centre(session: Session, new: NewCentre) -> Centre:
    """Open a centre stocking one vaccine, with its hours, slot length and capacity per slot."""
    problems = []
    if new.kind not in CENTRE_KINDS:
        problems.append(FieldProblem("kind", f"Use one of: {', '.join(CENTRE_KINDS)}.", "unknown"))
    if new.vaccine_code not in catalogue.vaccines():
        problems.append(FieldProblem("vaccine_code", N_("No such vaccine."), "unknown"))
    if not (0 < new.slot_minutes <= 240):
        problems.append(FieldProblem("slot_minutes", "Between 1 and 240 minutes.", "range"))
    if not (0 < new.capacity_per_slot <= 10_000):
        problems.append(FieldProblem("capacity_per_slot", "Between 1 and 10,000.", "range"))
    if new.closes_at <= new.opens_at:
        problems.append(FieldProblem("closes_at", "Closing is after opening.", "range"))
    if problems:
        raise InvalidInput(problems)
    if session.scalar(select(Centre.id).where(Centre.code == new.code)) is not None:
        raise Conflict(f"A centre with the code {new.code} exists.")
    centre = Centre(
        code=new.code,
        name=new.name,
        kind=new.kind,
        vaccine_code=new.vaccine_code,
        opens_at=new.opens_at,
        closes_at=new.closes_at,
        slot_minutes=new.slot_minutes,
        capacity_per_slot=new.capacity_per_slot,
        postal_code=parse_postal_code(new.postal_code) if new.postal_code else None,
        business_id=new.business_id,
        active=True,
        created_at=utcnow(),
    )
    session.add(centre)
    session.flush()
    audit.record(
        session,
        "appointments.centre.created",
        subject_type="appointments_centre",
        subject_id=centre.id,
        details={"code": centre.code, "vaccine": centre.vaccine_code, "kind": centre.kind},
    )
    return centre


def get_centre(session: Session, code: str) -> Centre:
    centre = session.scalar(select(Centre).where(Centre.code == code))
    if centre is None:
        raise NotFound(f"No centre has the code {code}.")
    return centre


def list_centres(session: Session) -> list[Centre]:
    """Every active centre, by name."""
    return list(session.scalars(select(Centre).where(Centre.active).order_by(Centre.name)))


def record_delivery(
    session: Session, centre_code: str, day: date, doses: int, lot: str | None = None
) -> Delivery:
    """Record doses delivered to a centre for one day."""
    if doses <= 0 or doses > 1_000_000:
        raise InvalidInput(FieldProblem("doses", N_("Enter a number of doses above 0."), "range"))
    centre = get_centre(session, centre_code)
    delivery = Delivery(centre_id=centre.id, day=day, doses=doses, lot=lot, created_at=utcnow())
    session.add(delivery)
    session.flush()
    audit.record(
        session,
        "appointments.delivery.recorded",
        subject_type="appointments_centre",
        subject_id=centre.id,
        details={"day": day.isoformat(), "doses": doses, "lot": lot},
    )
    return delivery


def slot_times(centre: Centre, day: date) -> list[datetime]:
    """The start of every slot of a centre's opening hours on a day, in UTC."""
    start = datetime.combine(day, centre.opens_at, tzinfo=SINGAPORE)
    end = datetime.combine(day, centre.closes_at, tzinfo=SINGAPORE)
    step = timedelta(minutes=centre.slot_minutes)
    times = []
    while start + step <= end:
        times.append(start.astimezone(UTC))
        start += step
    return times


def release_slots(session: Session, centre_code: str, day: date) -> int:
    """Release slots on a day up to the doses delivered for it; returns the places added.

    Places go to the earliest slots first, each filled to the centre's capacity per slot. Running
    it again after another delivery releases only the new doses.
    """
    centre = get_centre(session, centre_code)
    delivered = session.scalar(
        select(func.coalesce(func.sum(Delivery.doses), 0)).where(
            Delivery.centre_id == centre.id, Delivery.day == day
        )
    )
    existing = {
        slot.starts_at: slot
        for slot in session.scalars(
            select(Slot).where(Slot.centre_id == centre.id, Slot.day == day).with_for_update()
        )
    }
    released = sum(slot.capacity for slot in existing.values())
    to_release = int(delivered or 0) - released
    added = 0
    for moment in slot_times(centre, day):
        if to_release <= 0:
            break
        slot = existing.get(moment)
        room = centre.capacity_per_slot - (slot.capacity if slot else 0)
        if room <= 0:
            continue
        places = min(room, to_release)
        if slot is None:
            session.add(
                Slot(centre_id=centre.id, day=day, starts_at=moment, capacity=places, booked=0)
            )
        else:
            session.execute(
                update(Slot).where(Slot.id == slot.id).values(capacity=Slot.capacity + places)
            )
        to_release -= places
        added += places
    session.flush()
    if added:
        audit.record(
            session,
            "appointments.slots.released",
            subject_type="appointments_centre",
            subject_id=centre.id,
            details={"day": day.isoformat(), "places": added},
        )
    return added


@dataclass(frozen=True)
class SlotView:
    """A slot as people see it."""

    id: int
    starts_at: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


def availability(session: Session, centre_id: int, day: date) -> list[SlotView]:
    """A centre's released slots on a day, with their free places."""
    rows = session.execute(
        select(Slot.id, Slot.starts_at, Slot.capacity, Slot.booked)
        .where(Slot.centre_id == centre_id, Slot.day == day)
        .order_by(Slot.starts_at)
    )
    return [SlotView(*row) for row in rows]


def open_days(session: Session, centre_id: int, from_day: date, limit: int = 14) -> list[date]:
    """The next days on which a centre has free places at times still to come."""
    rows = session.scalars(
        select(Slot.day)
        .where(
            Slot.centre_id == centre_id,
            Slot.day >= from_day,
            Slot.starts_at > utcnow(),
            Slot.booked < Slot.capacity,
        )
        .group_by(Slot.day)
        .order_by(Slot.day)
        .limit(limit)
    )
    return list(rows)

"""Reminders by SMS the day before each booked dose."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from smartnation.appointments import notify
from smartnation.appointments.models import Booking, Centre, Registration, Slot
from smartnation.core.clock import to_singapore, today_in_singapore


def send_due(session: Session, today: date | None = None) -> int:
    """SMS everyone whose dose is tomorrow; a booking remembers which doses were reminded."""
    tomorrow = (today or today_in_singapore()) + timedelta(days=1)
    rows = session.execute(
        select(Booking, Slot, Centre, Registration)
        .join(
            Slot,
            or_(Slot.id == Booking.first_slot_id, Slot.id == Booking.second_slot_id),
        )
        .join(Centre, Centre.id == Booking.centre_id)
        .join(Registration, Registration.resident_id == Booking.resident_id)
        .where(Booking.status == "active", Slot.day == tomorrow)
    ).all()
    sent = 0
    for booking, slot, centre, registration in rows:
        dose = 1 if slot.id == booking.first_slot_id else 2
        if dose in (booking.reminded or []):
            continue
        notify.send_sms(
            session,
            to=registration.mobile,
            template="reminder",
            variables={
                "dose": dose,
                "when": to_singapore(slot.starts_at).strftime("%I:%M %p"),
                "centre": centre.name,
            },
            language=registration.language,
            idempotency_key=f"appointments:reminder:{booking.id}:{slot.id}",
        )
        booking.reminded = [*(booking.reminded or []), dose]
        sent += 1
    session.flush()
    return sent

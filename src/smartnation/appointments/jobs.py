"""Appointment jobs: the booking confirmation SMS and the reminder the day before each dose
(hourly); both safe to run twice."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartnation.appointments import booking, reminders
from smartnation.appointments.booking_statement import CONFIRMATION_ATTEMPTS, CONFIRMATION_JOB
from smartnation.core.jobs import job, periodic


@job(CONFIRMATION_JOB, max_attempts=CONFIRMATION_ATTEMPTS)
def send_confirmation(session: Session, payload: dict[str, Any]) -> None:
    """Confirm a booking made in one statement by SMS (the idempotency key sends it once)."""
    booking.send_confirmation(session, int(payload["booking_id"]))


@job("appointments.send_reminders", max_attempts=3)
def send_reminders(session: Session, _payload: dict[str, Any]) -> None:
    """Remind everyone with a dose tomorrow (Singapore time) who has not been reminded yet."""
    reminders.send_due(session)


periodic("appointments.send_reminders", timedelta(hours=1))

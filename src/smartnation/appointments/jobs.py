"""Appointment jobs: the SMS reminder the day before each dose (hourly; safe to run twice)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartnation.appointments import reminders
from smartnation.core.jobs import job, periodic


@job("appointments.send_reminders", max_attempts=3)
def send_reminders(session: Session, _payload: dict[str, Any]) -> None:
    """Remind everyone with a dose tomorrow (Singapore time) who has not been reminded yet."""
    reminders.send_due(session)


periodic("appointments.send_reminders", timedelta(hours=1))

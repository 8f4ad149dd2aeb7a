"""Settings of the appointment system, from `SMARTNATION_APPOINTMENTS_*` variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class AppointmentSettings(BaseSettings):
    """The waiting room in front of booking, per web process."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_APPOINTMENTS_")

    # Bookings worked on at once by one web process; more wait in the waiting room.
    booking_concurrency: int = 12
    # How long a request may wait for its turn before being asked to come back (429).
    waiting_seconds: float = 1.0
    # How many may wait for a turn at once; beyond that, requests are refused (429) at once.
    max_waiting: int = 48
    retry_after_seconds: int = 2


@lru_cache(maxsize=1)
def get_appointment_settings() -> AppointmentSettings:
    return AppointmentSettings()

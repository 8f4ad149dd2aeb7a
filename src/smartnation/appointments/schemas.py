"""API bodies of the appointment system."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from smartnation.appointments.booking import BookingView
from smartnation.appointments.catalogue import Vaccine
from smartnation.appointments.models import Centre
from smartnation.appointments.onsite import CheckInView
from smartnation.appointments.supply import SlotView


class VaccineOut(BaseModel):
    code: str
    name: str
    min_age: int
    second_dose_days: int
    window_min_days: int
    window_max_days: int

    @classmethod
    def of(cls, vaccine: Vaccine) -> VaccineOut:
        return cls(
            code=vaccine.code,
            name=vaccine.name,
            min_age=vaccine.min_age,
            second_dose_days=vaccine.second_dose_days,
            window_min_days=vaccine.window_min_days,
            window_max_days=vaccine.window_max_days,
        )


class CentreOut(BaseModel):
    code: str
    name: str
    kind: str
    vaccine: str
    postal_code: str | None

    @classmethod
    def of(cls, centre: Centre) -> CentreOut:
        return cls(
            code=centre.code,
            name=centre.name,
            kind=centre.kind,
            vaccine=centre.vaccine_code,
            postal_code=centre.postal_code,
        )


class SlotOut(BaseModel):
    id: int
    starts_at: datetime
    free: int

    @classmethod
    def of(cls, slot: SlotView) -> SlotOut:
        return cls(id=slot.id, starts_at=slot.starts_at, free=slot.free)


class AvailabilityOut(BaseModel):
    centre: str
    day: date
    slots: list[SlotOut]


class Credentials(BaseModel):
    """The person's NRIC/FIN and the booking code from their invitation SMS."""

    nric: str = Field(max_length=20)
    booking_code: str = Field(max_length=40)


class BookingIn(Credentials):
    first_slot_id: int
    second_slot_id: int | None = None
    parental_consent_by: str | None = Field(default=None, max_length=200)


class RescheduleIn(Credentials):
    first_slot_id: int
    second_slot_id: int | None = None


class BookingOut(BaseModel):
    id: int
    status: str
    centre: str
    centre_name: str
    vaccine: str
    vaccine_name: str
    first_slot_id: int
    first_at: datetime
    second_slot_id: int
    second_at: datetime
    qr: str

    @classmethod
    def of(cls, booking: BookingView) -> BookingOut:
        return cls(
            id=booking.id,
            status=booking.status,
            centre=booking.centre_code,
            centre_name=booking.centre_name,
            vaccine=booking.vaccine_code,
            vaccine_name=booking.vaccine_name,
            first_slot_id=booking.first_slot_id,
            first_at=booking.first_at,
            second_slot_id=booking.second_slot_id,
            second_at=booking.second_at,
            qr=booking.qr_token,
        )


class CheckInIn(BaseModel):
    centre: str = Field(max_length=20)
    qr: str | None = Field(default=None, max_length=64)
    nric: str | None = Field(default=None, max_length=20)


class CheckInOut(BaseModel):
    id: int
    name: str
    nric: str
    dose_number: int
    vaccine: str
    walk_in: bool
    dose_recorded: bool

    @classmethod
    def of(cls, view: CheckInView) -> CheckInOut:
        return cls(
            id=view.id,
            name=view.name,
            nric=view.masked_nric,
            dose_number=view.dose_number,
            vaccine=view.vaccine_code,
            walk_in=view.walk_in,
            dose_recorded=view.dose_recorded,
        )


class DoseIn(BaseModel):
    lot: str = Field(max_length=40)
    site: str = Field(default="left_arm", max_length=20)


class DoseOut(BaseModel):
    id: int
    dose_number: int
    vaccine: str
    lot: str
    given_at: datetime
    observe_until: datetime

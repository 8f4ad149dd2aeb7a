"""Appointment tables: centres, deliveries and slots (supply); registrations, cohorts and
invitations (demand); bookings; check-ins and doses given (on site).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime

CENTRE_KINDS = ("vaccination_centre", "polyclinic", "clinic")


class Centre(Base):
    """A vaccination centre, polyclinic or clinic. Each stocks one vaccine."""

    __tablename__ = "appointments_centre"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    vaccine_code: Mapped[str] = mapped_column(String(20))
    # The operator in the business registry (clinics) and the building, where known.
    business_id: Mapped[int | None] = mapped_column(ForeignKey("registry_business.id"))
    postal_code: Mapped[str | None] = mapped_column(ForeignKey("registry_address.postal_code"))
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer)
    capacity_per_slot: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """Doses delivered to a centre for use on one day."""

    __tablename__ = "appointments_delivery"
    __table_args__ = (
        CheckConstraint("doses > 0", name="doses_positive"),
        Index("ix_appointments_delivery_centre_day", "centre_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("appointments_centre.id"))
    day: Mapped[date] = mapped_column(Date)
    doses: Mapped[int] = mapped_column(Integer)
    lot: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Slot(Base):
    """A time at a centre with room for `capacity` people; `booked` counts bookings and walk-ins.

    The database refuses `booked > capacity`; bookings take a place with a conditional UPDATE.
    """

    __tablename__ = "appointments_slot"
    __table_args__ = (
        UniqueConstraint("centre_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        Index("ix_appointments_slot_centre_day", "centre_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("appointments_centre.id"))
    day: Mapped[date] = mapped_column(Date)  # the Singapore date of starts_at
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Cohort(Base):
    """A group invited in one phase: an age band, optionally one occupation."""

    __tablename__ = "appointments_cohort"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    min_age: Mapped[int] = mapped_column(Integer)
    max_age: Mapped[int | None] = mapped_column(Integer)
    occupation: Mapped[str | None] = mapped_column(String(40))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)


class Registration(Base):
    """A person's registration of interest and their screening answers."""

    __tablename__ = "appointments_registration"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"), unique=True)
    # A snapshot from the registry, so that cohorts and bookings need not join across domains.
    nric: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date] = mapped_column(Date, index=True)
    mobile: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default="en")
    occupation: Mapped[str | None] = mapped_column(String(40))
    screening_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # "eligible", "refused" or "route:<kind>,<kind>"
    screening_outcome: Mapped[str] = mapped_column(String(80))
    registered_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Invitation(Base):
    """An invitation to book, with a personal booking code; only the code's hash is kept."""

    __tablename__ = "appointments_invitation"
    __table_args__ = (Index("ix_appointments_invitation_resident", "resident_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("appointments_cohort.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # sent -> booked (a booking holds it) -> sent again if that booking is cancelled
    status: Mapped[str] = mapped_column(String(12), default="sent")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Booking(Base):
    """Both doses at one centre: a first-dose slot and a second-dose slot, held together.

    One active booking per person, enforced by a partial unique index on both databases.
    """

    __tablename__ = "appointments_booking"
    __table_args__ = (
        Index(
            "uq_appointments_booking_one_active",
            "resident_id",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
        UniqueConstraint("resident_id", "idempotency_key"),
        Index("ix_appointments_booking_first_slot", "first_slot_id"),
        Index("ix_appointments_booking_second_slot", "second_slot_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("appointments_centre.id"))
    vaccine_code: Mapped[str] = mapped_column(String(20))
    first_slot_id: Mapped[int] = mapped_column(ForeignKey("appointments_slot.id"))
    second_slot_id: Mapped[int] = mapped_column(ForeignKey("appointments_slot.id"))
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("appointments_invitation.id"))
    # active -> completed (second dose given) or cancelled
    status: Mapped[str] = mapped_column(String(12), default="active")
    qr_token: Mapped[str] = mapped_column(String(32), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    parental_consent_by: Mapped[str | None] = mapped_column(String(200))
    booked_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded: Mapped[list[int]] = mapped_column(JSON, default=list)

    centre: Mapped[Centre] = relationship(lazy="raise")
    first_slot: Mapped[Slot] = relationship(lazy="raise", foreign_keys=[first_slot_id])
    second_slot: Mapped[Slot] = relationship(lazy="raise", foreign_keys=[second_slot_id])


class CheckIn(Base):
    """A person checked in at a centre for one dose, by booking (QR or NRIC) or as a walk-in."""

    __tablename__ = "appointments_checkin"
    __table_args__ = (UniqueConstraint("resident_id", "dose_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"))
    centre_id: Mapped[int] = mapped_column(ForeignKey("appointments_centre.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("appointments_booking.id"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("appointments_slot.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    walk_in: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_by: Mapped[str] = mapped_column(String(120))


class Dose(Base):
    """A dose given: the vaccination record a HealthCert is issued from."""

    __tablename__ = "appointments_dose"
    __table_args__ = (
        UniqueConstraint("resident_id", "dose_number"),
        Index("ix_appointments_dose_centre_given", "centre_id", "given_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"))
    checkin_id: Mapped[int] = mapped_column(ForeignKey("appointments_checkin.id"), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("appointments_centre.id"))
    vaccine_code: Mapped[str] = mapped_column(String(20))
    lot: Mapped[str] = mapped_column(String(40))
    dose_number: Mapped[int] = mapped_column(Integer)
    site: Mapped[str] = mapped_column(String(20), default="left_arm")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime)
    given_by: Mapped[str] = mapped_column(String(120))
    observe_until: Mapped[datetime] = mapped_column(UTCDateTime)


class CodeAttempt(Base):
    """Failed booking-code attempts per key (an NRIC or a client address) in a time window."""

    __tablename__ = "appointments_code_attempt"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)

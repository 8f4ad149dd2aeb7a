"""Tracing tables: TraceTogether users, cases, uploads, encounters, contacts, SafeEntry, GAEN keys.

Time-series tables that grow with the population (`tracing_encounter`, `tracing_checkin`) are
range-partitioned by day on PostgreSQL (the migration creates them so; daily partitions are made
ahead and dropped at the end of retention by the `tracing.retention` job). Their primary key
is `(id, <time column>)`, as partitioning requires; on SQLite, which generates ids only for a
sole integer key, the migration keeps the key to `id` (the time column is still never null, and
the ORM still reads back the id it generated).
They hold no foreign keys to other time-series rows, so a partition can be dropped on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime


class TracingUser(Base):
    """A TraceTogether app or token user: a BlueTrace uid linked to a registry resident."""

    __tablename__ = "tracing_user"
    __table_args__ = (Index("ix_tracing_user_nric", "nric"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uid: Mapped[str] = mapped_column(String(28), unique=True)  # 21 random bytes, base64
    kind: Mapped[str] = mapped_column(String(8))  # app or token
    token_serial: Mapped[str | None] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"), index=True)
    nric: Mapped[str] = mapped_column(String(9))
    # Copied from the registry at registration, so officers' contact lists need no lookups.
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16))  # E.164, verified by a one-time code
    device_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="active")  # active, withdrawn
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Registration(Base):
    """A registration waiting for its phone to be verified by a one-time code."""

    __tablename__ = "tracing_registration"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    token_serial: Mapped[str | None] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"))
    nric: Mapped[str] = mapped_column(String(9))
    phone: Mapped[str] = mapped_column(String(16))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Case(Base):
    """A confirmed case under investigation by health officers."""

    __tablename__ = "tracing_case"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"), index=True)
    nric: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, closed
    # resolving -> resolved: whether the contact list is up to date with the uploads
    resolution: Mapped[str] = mapped_column(String(12), default="none")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visits_published: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UploadCode(Base):
    """A six-character code an officer reads to a case; exchanged once for an upload token."""

    __tablename__ = "tracing_upload_code"
    __table_args__ = (Index("ix_tracing_upload_code_code", "code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_case.id"), index=True)
    code: Mapped[str] = mapped_column(String(6))
    issued_by: Mapped[str] = mapped_column(String(120))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exchanged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exchanged_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_user.id"))
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(lazy="raise")


class Upload(Base):
    """One encounter log received from a case's phone, with its classification counts."""

    __tablename__ = "tracing_upload"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_case.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("tracing_user.id"))
    upload_code_id: Mapped[int] = mapped_column(ForeignKey("tracing_upload_code.id"), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    records_received: Mapped[int] = mapped_column(Integer)
    duplicate_records: Mapped[int] = mapped_column(Integer, default=0)
    events_received: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)


class Encounter(Base):
    """One record of an uploaded encounter log, decrypted and classified.

    `occurred_at` is the record's time when it lies within retention of the upload, else the
    upload's time (the raw normalised timestamp stays in `timestamp_s`); it is the partition key.
    """

    __tablename__ = "tracing_encounter"
    __table_args__ = (
        Index("ix_tracing_encounter_case", "case_id", "occurred_at"),
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    upload_id: Mapped[int] = mapped_column(BigId)
    case_id: Mapped[int] = mapped_column(BigId)
    valid: Mapped[bool] = mapped_column(Boolean)
    invalid_reason: Mapped[str | None] = mapped_column(String(20))
    contact_uid: Mapped[str | None] = mapped_column(String(28))
    contact_user_id: Mapped[int | None] = mapped_column(BigId)
    timestamp_s: Mapped[float | None] = mapped_column(Float)
    rssi: Mapped[float | None] = mapped_column(Float)
    tx_power: Mapped[float | None] = mapped_column(Float)
    model_p: Mapped[str | None] = mapped_column(String(60))
    model_c: Mapped[str | None] = mapped_column(String(60))
    org: Mapped[str | None] = mapped_column(String(20))


class Contact(Base):
    """A person a case may have infected: BlueTrace exposure, SafeEntry overlaps, or both."""

    __tablename__ = "tracing_contact"
    __table_args__ = (
        Index("ix_tracing_contact_case_rank", "case_id", "rank"),
        Index("ux_tracing_contact_case_nric", "case_id", "nric", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_case.id"))
    nric: Mapped[str] = mapped_column(String(9))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("registry_resident.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_user.id"))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))
    sources: Mapped[str] = mapped_column(String(24))  # bluetrace, safeentry, bluetrace+safeentry
    rank: Mapped[int] = mapped_column(Integer)
    is_close: Mapped[bool] = mapped_column(Boolean)
    close_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    total_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    closest_distance_m: Mapped[float | None] = mapped_column(Float)
    sightings: Mapped[int] = mapped_column(Integer, default=0)
    overlap_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    venues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    first_exposure: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_exposure: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # proposed -> confirmed -> notified, or dismissed
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QuarantineOrder(Base):
    """A quarantine order served on a confirmed close contact."""

    __tablename__ = "tracing_quarantine_order"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("tracing_contact.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_case.id"))
    nric: Mapped[str] = mapped_column(String(9))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[int | None] = mapped_column(BigId)
    issued_by: Mapped[str] = mapped_column(String(120))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Venue(Base):
    """A SafeEntry venue: a business's premises, with the id its QR code carries."""

    __tablename__ = "tracing_venue"
    __table_args__ = (Index("ix_tracing_venue_uen", "uen"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)  # PROD-<UEN>-<branch>-<NAME>-SE
    uen: Mapped[str] = mapped_column(String(10))
    branch: Mapped[str | None] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(120))
    postal_code: Mapped[str | None] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CheckIn(Base):
    """A SafeEntry visit: who, where, from when to when, and how they checked in."""

    __tablename__ = "tracing_checkin"
    __table_args__ = (
        Index("ix_tracing_checkin_venue_time", "venue_id", "checked_in_at"),
        Index("ix_tracing_checkin_nric_time", "nric", "checked_in_at"),
        {"postgresql_partition_by": "RANGE (checked_in_at)"},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    venue_id: Mapped[int] = mapped_column(ForeignKey("tracing_venue.id"))
    nric: Mapped[str] = mapped_column(String(9))
    name: Mapped[str | None] = mapped_column(String(200))
    mobile: Mapped[str | None] = mapped_column(String(16))
    resident_id: Mapped[int | None] = mapped_column(BigId)
    # qr_login, qr_nric (typed in with consent), staff_scan, tt_token
    method: Mapped[str] = mapped_column(String(12))


class VerificationCode(Base):
    """An Exposure Notification verification code: lets one diagnosed person publish keys."""

    __tablename__ = "tracing_verification_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("tracing_case.id"))
    issued_by: Mapped[str] = mapped_column(String(120))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DiagnosisKey(Base):
    """A published Temporary Exposure Key, distributed in export files."""

    __tablename__ = "tracing_diagnosis_key"
    __table_args__ = (Index("ix_tracing_diagnosis_key_published", "published_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key_data: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)
    rolling_start_interval_number: Mapped[int] = mapped_column(Integer)
    rolling_period: Mapped[int] = mapped_column(Integer)
    transmission_risk_level: Mapped[int] = mapped_column(Integer)
    report_type: Mapped[int | None] = mapped_column(Integer)
    days_since_onset: Mapped[int | None] = mapped_column(Integer)
    verification_code_id: Mapped[int] = mapped_column(ForeignKey("tracing_verification_code.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

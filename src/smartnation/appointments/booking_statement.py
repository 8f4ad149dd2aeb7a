"""Booking by code in one statement on PostgreSQL: the common case in one database round trip.

`book_two_doses` checks and writes step by step (about twenty statements). When a person books
with their booking code and lets the system pick the second-dose time, everything it does on
success fits in one PostgreSQL statement of data-modifying CTEs, built here with SQLAlchemy Core:

- `first`: the chosen slot, in the future, with room, at an active centre;
- `second`: the second-dose slot `book_two_doses` would take first (same centre, inside the
  vaccine's window, not before the recommended day, earliest day then nearest time, with room);
- `gate`: the invitation claimed (`sent` -> `booked`) only if the code is right, unexpired and
  unused, the code-attempt limits are not used up, the person is registered and screened
  eligible, old enough for the centre's vaccine (or under the consent age with consent given),
  has no active booking, and both slots exist;
- `claims`: one place taken in both slots by one UPDATE; the `booked <= capacity` check refuses
  the whole statement when either slot has just filled;
- the booking row (its slot ids taken from what `claims` returned, so a place not taken is a
  NULL that refuses the statement), its audit entry and the job that sends the confirmation SMS.

A statement is atomic: when any check fails nothing is written (a deadlock victim likewise), and
the caller answers with `book_two_doses`, which gives the precise reason (wrong code, slot full,
too young, replay of an idempotency key, ...). So this path only ever does what the full path
would do on success; the database constraints (capacity check, one active booking per person)
guard both alike.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from functools import cache
from typing import Any

import psycopg
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Interval,
    String,
    and_,
    bindparam,
    cast,
    exists,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from smartnation.appointments import catalogue, demand, guard, statement_connections
from smartnation.appointments.booking import BookingView, slot_full
from smartnation.appointments.models import Booking, Centre, CodeAttempt, Invitation, Registration
from smartnation.appointments.models import Slot as SlotModel
from smartnation.appointments.statement_connections import fetch_one
from smartnation.core.audit import AuditEvent
from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.errors import InvalidInput
from smartnation.core.jobs import Job
from smartnation.core.validators import parse_nric

CONFIRMATION_JOB = "appointments.send_confirmation"
CONFIRMATION_ATTEMPTS = 5


@dataclass(frozen=True)
class CodeBooking:
    """A booking asked for with an NRIC/FIN and booking code; the second dose picked for them."""

    nric: str
    booking_code: str
    first_slot_id: int
    client: str | None
    parental_consent_by: str | None
    idempotency_key: str | None
    actor: str


def _vaccine_rules() -> Any:
    """The catalogue's rules (static per process) as rows to join centres to.

    A UNION of literal rows rather than VALUES: SQLAlchemy caches the compiled form of a
    statement only when all of its parts can be cached, and VALUES with data cannot.
    """
    rows = [
        select(
            literal(v.code, String).label("code"),
            literal(v.min_age, Integer).label("min_age"),
            literal(v.consent_below_age, Integer).label("consent_below_age"),
            # Not before the recommended day, even where the window opens earlier.
            literal(max(v.window_min_days, v.second_dose_days), Integer).label("earliest_days"),
            literal(v.window_max_days, Integer).label("latest_days"),
            literal(timedelta(days=v.second_dose_days), Interval).label("second_dose"),
        )
        for v in catalogue.vaccines().values()
    ]
    return union_all(*rows).subquery("rules")


@cache
def _tables() -> dict[str, Any]:
    return {
        "slot": SlotModel.__table__,
        "centre": Centre.__table__,
        "invitation": Invitation.__table__,
        "registration": Registration.__table__,
        "booking": Booking.__table__,
        "attempt": CodeAttempt.__table__,
        "audit": AuditEvent.__table__,
        "job": Job.__table__,
    }


def _now() -> Any:
    return bindparam("given_now", type_=Booking.__table__.c.created_at.type)


def _old_enough(day: Any, registration: Any, rules: Any, with_consent: bool) -> list[Any]:
    """Old enough for the vaccine on the day, and for booking without consent unless given."""
    age = extract("year", func.age(day, registration.c.date_of_birth))
    old_enough = [age >= rules.min_age]
    if not with_consent:
        old_enough.append(age >= rules.consent_below_age)
    return old_enough


def _limited(time_type: Any) -> Any:
    """Whether the NRIC/FIN or the client address has used up its code attempts."""
    attempt = _tables()["attempt"].alias("a")
    return exists().where(
        attempt.c.window_started_at > bindparam("given_window_started", type_=time_type),
        or_(
            *(
                and_(
                    attempt.c.key == bindparam(f"given_key_{kind}", type_=String),
                    attempt.c.failures >= limit,
                )
                for kind, limit in guard.LIMITS.items()
            )
        ),
    )


@cache
def _slot_full_statement(with_consent: bool) -> Any:
    """One row when the first-dose time is full and nothing else stands in the way: what the
    full path would answer with `slot_full` (the checks it makes before taking the place).

    Asked only when the booking statement booked nothing, so that the commonest refusal in a
    surge (someone else took the last place) costs one more small statement, not the full path.
    """
    t = _tables()
    slot, centre = t["slot"].alias("s"), t["centre"].alias("c")
    invitation, registration = t["invitation"].alias("i"), t["registration"].alias("r")
    booking = t["booking"].alias("b")
    now = _now()
    rules = _vaccine_rules()
    return (
        select(literal(1, Integer))
        .select_from(invitation)
        .join(registration, registration.c.resident_id == invitation.c.resident_id)
        .join(slot, slot.c.id == bindparam("given_first_slot_id", type_=BigInteger))
        .join(centre, centre.c.id == slot.c.centre_id)
        .join(rules, rules.c.code == centre.c.vaccine_code)
        .where(
            invitation.c.code_hash == bindparam("given_code_hash", type_=String),
            invitation.c.status == "sent",
            invitation.c.expires_at > now,
            registration.c.screening_outcome == "eligible",
            *_old_enough(slot.c.day, registration, rules.c, with_consent),
            ~_limited(now.type),
            # No active booking, and no booking made with this request's key (a replay).
            ~exists().where(
                booking.c.resident_id == invitation.c.resident_id,
                or_(
                    booking.c.status == "active",
                    booking.c.idempotency_key == bindparam("given_idempotency_key", type_=String),
                ),
            ),
            slot.c.starts_at > now,
            centre.c.active.is_(True),
            slot.c.booked >= slot.c.capacity,
        )
    )


@cache
def _statement(with_consent: bool) -> Any:
    """The statement, built once per process (per consent case); each booking binds its values."""
    t = _tables()
    slot, invitation, booking = t["slot"], t["invitation"], t["booking"]
    # Short aliases where a table is only read: psycopg caches the parsing of a query only up to
    # 4 KiB of text, and this statement is parsed on every booking otherwise.
    centre, registration = t["centre"].alias("c"), t["registration"].alias("r")
    first_slot = slot.alias("s")
    # Values are bound by names no table has as a column: SQLAlchemy would take a parameter
    # named like a column of an UPDATE's table as a value to SET.
    now = _now()
    consent = bindparam("given_consent", type_=String)
    actor = bindparam("given_actor", type_=String)

    rules = _vaccine_rules()
    first = (
        select(
            first_slot.c.id,
            first_slot.c.centre_id,
            first_slot.c.day,
            first_slot.c.starts_at,
            centre.c.code.label("centre_code"),
            centre.c.name.label("centre_name"),
            centre.c.vaccine_code,
            rules.c.min_age,
            rules.c.consent_below_age,
            rules.c.earliest_days,
            rules.c.latest_days,
            rules.c.second_dose,
        )
        .join(centre, centre.c.id == first_slot.c.centre_id)
        .join(rules, rules.c.code == centre.c.vaccine_code)
        .where(
            first_slot.c.id == bindparam("given_first_slot_id", type_=BigInteger),
            first_slot.c.starts_at > now,
            first_slot.c.booked < first_slot.c.capacity,
            centre.c.active.is_(True),
        )
        .cte("first")
    )
    # The recommended day is `second_dose_days` on (Singapore keeps no summer time, so the
    # Singapore date moves with the instant); the window's start may be earlier than that.
    earliest = first.c.day + first.c.earliest_days
    latest = first.c.day + first.c.latest_days
    preferred = first.c.starts_at + first.c.second_dose
    second_slot = slot.alias("s2")
    second = (
        select(second_slot.c.id, second_slot.c.starts_at)
        .select_from(first)
        .join(second_slot, second_slot.c.centre_id == first.c.centre_id)
        .where(
            second_slot.c.day >= earliest,
            second_slot.c.day <= latest,
            second_slot.c.booked < second_slot.c.capacity,
        )
        .order_by(
            second_slot.c.day,
            func.abs(extract("epoch", second_slot.c.starts_at - preferred)),
            second_slot.c.starts_at,
        )
        .limit(1)
        .cte("second")
    )

    old_enough = _old_enough(first.c.day, registration, first.c, with_consent)
    limited = _limited(now.type)
    active = booking.alias("b")
    already = exists().where(
        active.c.resident_id == invitation.c.resident_id, active.c.status == "active"
    )
    gate = (
        update(invitation)
        .where(
            invitation.c.code_hash == bindparam("given_code_hash", type_=String),
            invitation.c.status == "sent",
            invitation.c.expires_at > now,
            registration.c.resident_id == invitation.c.resident_id,
            registration.c.screening_outcome == "eligible",
            *old_enough,
            ~limited,
            ~already,
            exists(select(second.c.id)),
        )
        .values(status=literal("booked", String))
        .returning(
            invitation.c.id,
            invitation.c.resident_id,
            first.c.id.label("first_id"),
            first.c.centre_id,
            first.c.vaccine_code,
            first.c.centre_code,
            first.c.centre_name,
            first.c.starts_at.label("first_at"),
        )
        .cte("gate")
    )
    claimed = union_all(
        select(gate.c.first_id), select(second.c.id).where(exists(select(gate.c.id)))
    )
    claims = (
        update(slot)
        .where(slot.c.id.in_(select(claimed.subquery().c[0])))
        .values(booked=slot.c.booked + 1)
        .returning(slot.c.id)
        .cte("claims")
    )
    # The booking names the places as `claims` returns them. Should an UPDATE skip a row (under
    # concurrent updates PostgreSQL may), the slot id is NULL, the NOT NULL constraint refuses the
    # statement and nothing of it stays: never an invitation or a place taken without a booking.
    first_claimed = select(claims.c.id).where(claims.c.id == gate.c.first_id).scalar_subquery()
    second_claimed = select(claims.c.id).where(claims.c.id == second.c.id).scalar_subquery()
    new_booking = (
        insert(booking)
        .from_select(
            [
                "resident_id",
                "centre_id",
                "vaccine_code",
                "first_slot_id",
                "second_slot_id",
                "invitation_id",
                "status",
                "qr_token",
                "idempotency_key",
                "parental_consent_by",
                "booked_by",
                "created_at",
                "updated_at",
                "reminded",
            ],
            select(
                gate.c.resident_id,
                gate.c.centre_id,
                gate.c.vaccine_code,
                first_claimed,
                second_claimed,
                gate.c.id,
                literal("active"),
                bindparam("given_qr_token", type_=String),
                bindparam("given_idempotency_key", type_=String),
                consent,
                actor,
                now,
                now,
                literal([], booking.c.reminded.type),
            )
            .select_from(gate)
            .join(second, true()),
        )
        .returning(booking.c.id, booking.c.resident_id, booking.c.qr_token)
        .cte("new_booking")
    )
    audit, job = t["audit"], t["job"]
    details = func.json_build_object(
        "centre",
        gate.c.centre_code,
        "vaccine",
        gate.c.vaccine_code,
        "first_slot_id",
        gate.c.first_id,
        "second_slot_id",
        second.c.id,
        "parental_consent_by",
        consent,
    )
    audited = (
        insert(audit)
        .from_select(
            ["occurred_at", "actor", "action", "subject_type", "subject_id", "details"],
            select(
                now,
                actor,
                literal("appointments.booking.booked"),
                literal("appointments_booking"),
                cast(new_booking.c.id, String),
                details,
            )
            .select_from(new_booking)
            .join(gate, true())
            .join(second, true()),
        )
        .cte("audited")
    )
    queued = (
        insert(job)
        .from_select(
            ["name", "payload", "status", "attempts", "max_attempts", "run_after", "created_at"],
            select(
                literal(CONFIRMATION_JOB),
                func.json_build_object("booking_id", new_booking.c.id),
                literal("queued"),
                literal(0),
                literal(CONFIRMATION_ATTEMPTS),
                now,
                now,
            ).select_from(new_booking),
        )
        .cte("queued")
    )
    return (
        select(
            new_booking.c.id,
            new_booking.c.resident_id,
            new_booking.c.qr_token,
            gate.c.centre_code,
            gate.c.centre_name,
            gate.c.vaccine_code,
            gate.c.first_id,
            gate.c.first_at,
            second.c.id.label("second_id"),
            second.c.starts_at.label("second_at"),
        )
        .select_from(new_booking)
        .join(gate, true())
        .join(second, true())
        .add_cte(claims, audited, queued)
    )


def runs_async(database: Database) -> bool:
    """Whether bookings by code go through `book_by_code_async`: PostgreSQL, not in a test's
    outer transaction (there `book_by_code` joins it)."""
    return database.dialect == "postgresql" and not isinstance(database.bind, Connection)


async def book_by_code_async(database: Database, request: CodeBooking) -> BookingView | None:
    """`book_by_code` on the event loop with psycopg's async driver: no thread-pool hop, one
    round trip (two when the time chosen is full: `slot_full` is raised then).

    None when `book_two_doses` must answer instead (nothing was written)."""
    prepared = _prepare(request)
    if prepared is None:
        return None
    with_consent, values = prepared
    connections = statement_connections.for_database(database)
    try:
        async with connections.connection() as connection:
            try:
                row = await fetch_one(connection, _statement(with_consent), values)
            except psycopg.Error as refused:
                if refused.sqlstate is None:
                    raise
                row = None  # a slot filled meanwhile, a double submit, a deadlock victim
            connections.executions += 1
            if row is not None:
                return _view(row)
            full = await fetch_one(connection, _slot_full_statement(with_consent), values)
            connections.executions += 1
    except psycopg.Error:
        # The connection was lost (it is dropped): the full path books on a fresh one.
        return None
    if full is not None:
        raise slot_full()
    return None


def book_by_code(database: Database, session: Session, request: CodeBooking) -> BookingView | None:
    """Book in one statement on PostgreSQL, or None when `book_two_doses` must answer instead.
    Raises `slot_full` when the time chosen is full and nothing else stands in the way.

    Outside a transaction (autocommit) the statement is its own transaction: one round trip.
    When the database is bound to an outer transaction (the tests), it runs in a savepoint.
    """
    if database.dialect != "postgresql":
        return None
    if isinstance(database.bind, Connection):
        connection = session.connection()
        savepoint = connection.begin_nested()
        booked = try_book(connection, request)
        if booked is None:
            savepoint.rollback()
        else:
            savepoint.commit()
        if booked is None:
            _refuse_when_full(connection, request)
        return booked
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        booked = try_book(connection, request)
        if booked is None:
            _refuse_when_full(connection, request)
        return booked


def try_book(connection: Connection, request: CodeBooking) -> BookingView | None:
    """Book in one statement, or None when the full path must answer (nothing was written)."""
    prepared = _prepare(request)
    if prepared is None:
        return None
    with_consent, values = prepared
    try:
        row = connection.execute(_statement(with_consent), values).first()
    except DBAPIError as refused:
        # A slot filled, a double submit, a deadlock victim: the full path says which.
        if getattr(refused.orig, "sqlstate", None) is None:
            raise
        return None
    return _view(row)


def _refuse_when_full(connection: Connection, request: CodeBooking) -> None:
    """Raise `slot_full` when that is what the full path would answer."""
    prepared = _prepare(request)
    if prepared is None:
        return
    with_consent, values = prepared
    if connection.execute(_slot_full_statement(with_consent), values).first() is not None:
        raise slot_full()


def _prepare(request: CodeBooking) -> tuple[bool, dict[str, Any]] | None:
    """Which statement (with or without consent) and its values; None when the code cannot be
    one."""
    try:
        nric = parse_nric(request.nric)
        code = demand.normalise_code(request.booking_code)
    except InvalidInput:
        return None
    now = utcnow()
    consent = (request.parental_consent_by or "").strip() or None
    nric_key, ip_key = guard.keys_for(nric, request.client)
    values = {
        "given_now": now,
        "given_first_slot_id": request.first_slot_id,
        "given_code_hash": demand.code_hash(nric, code),
        "given_window_started": now - guard.WINDOW,
        "given_key_nric": nric_key,
        "given_key_ip": ip_key,
        "given_qr_token": secrets.token_urlsafe(16),
        "given_idempotency_key": request.idempotency_key,
        "given_consent": consent,
        "given_actor": request.actor,
    }
    return consent is not None, values


def _view(row: Any) -> BookingView | None:
    if row is None:
        return None
    vaccine = catalogue.vaccine(row.vaccine_code)
    return BookingView(
        id=row.id,
        status="active",
        resident_id=row.resident_id,
        centre_code=row.centre_code,
        centre_name=row.centre_name,
        vaccine_code=vaccine.code,
        vaccine_name=vaccine.name,
        first_slot_id=row.first_id,
        first_at=row.first_at.astimezone(UTC),
        second_slot_id=row.second_id,
        second_at=row.second_at.astimezone(UTC),
        qr_token=row.qr_token,
    )

"""Appointment endpoints under /api/v1/appointments/: availability, booking, check-in.

Booking is open to anyone holding an invitation: the NRIC/FIN and booking code are the credential,
limited against guessing. Booking requests pass the waiting room first.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import psycopg
from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from smartnation.appointments import booking_statement, guard, lean, reads, service
from smartnation.appointments.booking import BookingView
from smartnation.appointments.models import Booking
from smartnation.appointments.schemas import (
    AvailabilityOut,
    BookingIn,
    BookingOut,
    CentreOut,
    CheckInIn,
    CheckInOut,
    Credentials,
    DoseIn,
    DoseOut,
    RescheduleIn,
    SlotOut,
    VaccineOut,
)
from smartnation.appointments.waiting import waiting_room
from smartnation.appointments.webdeps import CodeFailures, client_address
from smartnation.core.audit import current_actor
from smartnation.core.db import Database
from smartnation.core.errors import NotFound
from smartnation.core.i18n import N_
from smartnation.core.web.auth import Public, require_role
from smartnation.core.web.deps import DbSession, get_database

router = APIRouter(prefix="/api/v1/appointments", tags=["appointments"])
WAIT = Depends(waiting_room, scope="function")


STAFF = Depends(require_role("vaccination.staff"))
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=80)]


def _booking_of(
    request: Request, session: DbSession, credentials: Credentials, failures: list[str]
) -> Booking:
    invitation = guard.redeem(
        session, credentials.nric, credentials.booking_code, client_address(request), failures
    )
    booking = service.booking_for_invitation(session, invitation.id)
    if booking is None:
        raise NotFound(N_("There is no active booking for this booking code."))
    return booking


@router.get("/vaccines", dependencies=[Public])
def vaccines() -> list[VaccineOut]:
    """The vaccines offered and their rules."""
    return [VaccineOut.of(v) for v in service.vaccines().values()]


@router.get("/centres", dependencies=[Public])
def centres(session: DbSession) -> list[CentreOut]:
    """Every centre taking bookings, with its vaccine."""
    return [CentreOut.of(c) for c in service.list_centres(session)]


@router.get("/centres/{code}/availability", response_model=AvailabilityOut, dependencies=[Public])
async def availability(code: str, day: date, request: Request) -> Response:
    """A centre's slots on a day with their free places."""
    # Read often at a surge: on PostgreSQL one statement from the event loop, no session.
    database = get_database(request)
    if booking_statement.runs_async(database):
        try:
            slots = await reads.availability(database, code, day)
        except psycopg.OperationalError:  # the connection was lost: the ordinary engine answers
            slots = await run_in_threadpool(_availability, database, code, day)
    else:
        slots = await run_in_threadpool(_availability, database, code, day)
    answer = AvailabilityOut(centre=code, day=day, slots=[SlotOut.of(s) for s in slots if s.free])
    return Response(answer.model_dump_json(), media_type="application/json")


def _availability(database: Database, code: str, day: date) -> list[service.SlotView]:
    with database.sessions() as session:
        return service.availability(session, service.get_centre(session, code).id, day)


async def book(
    body: BookingIn, request: Request, idempotency_key: IdempotencyKey = None
) -> Response:
    """Book both doses with the invitation's booking code: both or neither."""
    # Served by `lean.BookingRoute`: called with the validated body and header, inside a turn of
    # the waiting room. The busiest endpoint at a surge. On PostgreSQL the common case is one
    # statement sent from the event loop by psycopg's async driver; anything else takes one hop
    # to the thread pool for all of its database work. The answer is serialised once.
    database = get_database(request)
    client = client_address(request)
    on_loop = booking_statement.runs_async(database)
    booked = None
    if on_loop and body.second_slot_id is None:
        booked = await booking_statement.book_by_code_async(
            database, _code_booking(body, client, idempotency_key)
        )
    if booked is None:
        booked = await run_in_threadpool(
            _book, database, body, client, idempotency_key, try_statement=not on_loop
        )
    return Response(
        BookingOut.of(booked).model_dump_json(), status_code=201, media_type="application/json"
    )


router.add_api_route(
    "/bookings",
    book,
    methods=["POST"],
    status_code=201,
    response_model=BookingOut,
    dependencies=[Public],
    route_class_override=lean.BookingRoute,
)


def _code_booking(
    body: BookingIn, client: str | None, idempotency_key: str | None
) -> booking_statement.CodeBooking:
    return booking_statement.CodeBooking(
        nric=body.nric,
        booking_code=body.booking_code,
        first_slot_id=body.first_slot_id,
        client=client,
        parental_consent_by=body.parental_consent_by,
        idempotency_key=idempotency_key,
        actor=current_actor.get(),
    )


def _book(
    database: Database,
    body: BookingIn,
    client: str | None,
    idempotency_key: str | None,
    *,
    try_statement: bool = True,
) -> BookingView:
    if try_statement and body.second_slot_id is None:
        # The one statement in the caller's thread (a test's outer transaction, the benchmarks).
        with database.sessions() as session:
            booked = booking_statement.book_by_code(
                database, session, _code_booking(body, client, idempotency_key)
            )
            if booked is not None:
                session.commit()
                return booked
    # One transaction, as `DbSession` gives other endpoints; wrong codes counted after it ends.
    failures: list[str] = []
    try:
        with database.transaction() as session:
            invitation = guard.redeem(session, body.nric, body.booking_code, client, failures)
            booking = service.book_two_doses(
                session,
                resident_id=invitation.resident_id,
                first_slot_id=body.first_slot_id,
                second_slot_id=body.second_slot_id,
                invitation_id=invitation.id,
                parental_consent_by=body.parental_consent_by,
                idempotency_key=idempotency_key,
            )
            return service.view(session, booking)
    finally:
        if failures:
            guard.failed(database, failures)


@router.post("/bookings/lookup", dependencies=[Public])
def lookup(
    body: Credentials, request: Request, session: DbSession, failures: CodeFailures
) -> BookingOut:
    """The active booking made with a booking code."""
    return BookingOut.of(service.view(session, _booking_of(request, session, body, failures)))


@router.post("/bookings/reschedule", dependencies=[Public, WAIT])
def reschedule(
    body: RescheduleIn, request: Request, session: DbSession, failures: CodeFailures
) -> BookingOut:
    """Move both doses to new times; the old places are given back."""
    booking = _booking_of(request, session, body, failures)
    moved = service.reschedule(
        session, booking.id, first_slot_id=body.first_slot_id, second_slot_id=body.second_slot_id
    )
    return BookingOut.of(service.view(session, moved))


@router.post("/bookings/cancel", dependencies=[Public])
def cancel(
    body: Credentials, request: Request, session: DbSession, failures: CodeFailures
) -> BookingOut:
    """Cancel the booking; its places are given back."""
    booking = service.cancel(session, _booking_of(request, session, body, failures).id)
    return BookingOut.of(service.view(session, booking))


@router.post("/checkins", status_code=201, dependencies=[STAFF])
def check_in(body: CheckInIn, session: DbSession) -> CheckInOut:
    """Check a person in by their booking's QR code or NRIC/FIN."""
    return CheckInOut.of(service.check_in(session, body.centre, qr=body.qr, nric=body.nric))


@router.post("/checkins/{checkin_id}/dose", status_code=201, dependencies=[STAFF])
def record_dose(checkin_id: int, body: DoseIn, session: DbSession) -> DoseOut:
    """Record the dose given to a checked-in person."""
    dose = service.record_dose(session, checkin_id, lot=body.lot, site=body.site)
    return DoseOut(
        id=dose.id,
        dose_number=dose.dose_number,
        vaccine=dose.vaccine_code,
        lot=dose.lot,
        given_at=dose.given_at,
        observe_until=dose.observe_until,
    )

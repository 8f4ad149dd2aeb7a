"""Hundreds of concurrent bookings at a few slots, each on its own connection to PostgreSQL.

No slot is booked past its capacity, nobody holds two bookings, and every place taken belongs to a
booking: the database decides, not Python.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa
from nas_support import invite_adults

from smartnation.appointments import service
from smartnation.appointments.api import _book as book_by_api
from smartnation.appointments.models import Booking, Invitation, Registration, Slot
from smartnation.appointments.schemas import BookingIn
from smartnation.core.clock import today_in_singapore
from smartnation.core.db import Database
from smartnation.core.errors import DomainError

THREADS = 48


def _assert_invariants(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        slots = session.execute(sa.select(Slot.id, Slot.capacity, Slot.booked)).all()
        assert all(0 <= booked <= capacity for _, capacity, booked in slots)
        active = session.execute(
            sa.select(Booking.resident_id, Booking.first_slot_id, Booking.second_slot_id).where(
                Booking.status == "active"
            )
        ).all()
        per_person = Counter(resident for resident, _, _ in active)
        assert not [r for r, n in per_person.items() if n > 1]
        held = Counter([first for _, first, _ in active] + [second for _, _, second in active])
        assert {slot: booked for slot, _, booked in slots if booked} == dict(held)
        return len(active), sum(booked for _, _, booked in slots)


def _prepare(database: Database, population: int, capacity: int) -> list[tuple[int, int]]:
    """People registered and invited; returns (resident_id, invitation_id) for each."""
    return [(s.resident_id, s.invitation_id) for s in invite_adults(database, population, capacity)]


def test_hundreds_of_concurrent_bookings_never_overbook(
    backend: str, fresh_database: Database
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite takes one writer at a time; concurrency is PostgreSQL's test")
    invited = _prepare(fresh_database, 900, capacity=4)
    with fresh_database.transaction() as session:
        centre = service.get_centre(session, "PFZ-VC")
        days = service.open_days(session, centre.id, today_in_singapore(), limit=2)
        targets = [
            slot.id for day in days[:2] for slot in service.availability(session, centre.id, day)
        ]
    assert len(targets) == 4  # 16 first-dose places for hundreds of people
    start = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    rng = random.Random(3)
    # Each person tries twice (a double submit) at a random target slot.
    attempts = [(person, rng.choice(targets)) for person in invited for _ in range(2)]
    assert len(attempts) >= 400

    def attempt(index: int) -> None:
        if index < THREADS:
            start.wait()
        (resident_id, invitation_id), slot_id = attempts[index]
        try:
            with fresh_database.transaction() as session:
                service.book_two_doses(
                    session,
                    resident_id=resident_id,
                    first_slot_id=slot_id,
                    invitation_id=invitation_id,
                )
            outcome = "booked"
        except DomainError as error:
            outcome = error.code
        with lock:
            outcomes[outcome] += 1

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(attempt, range(len(attempts))))
    bookings, places = _assert_invariants(fresh_database)
    assert outcomes["booked"] == bookings == 16
    assert places == 32  # every booking holds exactly two places
    assert set(outcomes) <= {"booked", "slot_full", "already_booked", "code_used"}
    assert sum(outcomes.values()) == len(attempts)


def test_concurrent_double_submits_with_one_key_make_one_booking(
    backend: str, fresh_database: Database
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite takes one writer at a time; concurrency is PostgreSQL's test")
    invited = _prepare(fresh_database, 60, capacity=50)
    resident_id, invitation_id = invited[0]
    with fresh_database.transaction() as session:
        registration = session.scalar(
            sa.select(Registration).where(Registration.resident_id == resident_id)
        )
        assert registration is not None
        centre = service.get_centre(session, "PFZ-VC")
        day = service.open_days(session, centre.id, today_in_singapore())[0]
        slot_id = service.availability(session, centre.id, day)[0].id
    start = threading.Barrier(24)
    ids: list[int] = []

    def submit(_: int) -> None:
        start.wait()
        with fresh_database.transaction() as session:
            booking = service.book_two_doses(
                session,
                resident_id=resident_id,
                first_slot_id=slot_id,
                invitation_id=invitation_id,
                idempotency_key="same-click",
            )
            ids.append(booking.id)

    with ThreadPoolExecutor(24) as pool:
        list(pool.map(submit, range(24)))
    assert len(ids) == 24 and len(set(ids)) == 1
    bookings, places = _assert_invariants(fresh_database)
    assert (bookings, places) == (1, 2)


def _nric(database: Database, resident_id: int) -> str:
    with database.transaction() as session:
        registration = session.scalar(
            sa.select(Registration).where(Registration.resident_id == resident_id)
        )
        assert registration is not None
        return registration.nric


def test_hundreds_of_concurrent_api_bookings_by_code_never_overbook(
    backend: str, fresh_database: Database
) -> None:
    """The API's path: one statement per booking by code, the full path for every refusal."""
    if backend != "postgresql":
        pytest.skip("SQLite takes one writer at a time; concurrency is PostgreSQL's test")
    invited = invite_adults(fresh_database, 900, capacity=4)
    nrics = {sent.resident_id: _nric(fresh_database, sent.resident_id) for sent in invited}
    with fresh_database.transaction() as session:
        centre = service.get_centre(session, "PFZ-VC")
        days = service.open_days(session, centre.id, today_in_singapore(), limit=2)
        targets = [
            slot.id for day in days[:2] for slot in service.availability(session, centre.id, day)
        ]
    assert len(targets) == 4
    start = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    answered: dict[str, set[int]] = {}
    lock = threading.Lock()
    rng = random.Random(5)
    # Each person clicks twice with one idempotency key (the same request twice).
    chosen = [(sent, rng.choice(targets)) for sent in invited]
    attempts = [pick for pick in chosen for _ in range(2)]

    def attempt(index: int) -> None:
        if index < THREADS:
            start.wait()
        sent, slot_id = attempts[index]
        body = BookingIn(
            nric=nrics[sent.resident_id], booking_code=sent.code, first_slot_id=slot_id
        )
        try:
            booked = book_by_api(fresh_database, body, "10.0.0.1", f"key-{sent.resident_id}")
            outcome = "booked"
            with lock:
                answered.setdefault(body.nric, set()).add(booked.id)
        except DomainError as error:
            outcome = error.code
        with lock:
            outcomes[outcome] += 1

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(attempt, range(len(attempts))))
    bookings, places = _assert_invariants(fresh_database)
    assert bookings == 16 and places == 32
    assert len(answered) == 16 and all(len(ids) == 1 for ids in answered.values())
    assert set(outcomes) <= {"booked", "slot_full", "already_booked", "code_used"}
    with fresh_database.transaction() as session:
        # A code is used exactly when its booking exists: no invitation claimed for nothing.
        used = session.scalar(
            sa.select(sa.func.count()).select_from(Invitation).where(Invitation.status == "booked")
        )
        assert used == bookings

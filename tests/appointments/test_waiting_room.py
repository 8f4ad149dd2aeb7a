"""The waiting room: a few bookings at a time, a short wait, then 429 with Retry-After."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from smartnation.appointments import settings as appointment_settings
from smartnation.appointments.waiting import waiting_room
from smartnation.core.errors import TooManyRequests


@pytest.fixture
def small_room(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SMARTNATION_APPOINTMENTS_BOOKING_CONCURRENCY", "2")
    monkeypatch.setenv("SMARTNATION_APPOINTMENTS_WAITING_SECONDS", "0.3")
    monkeypatch.setenv("SMARTNATION_APPOINTMENTS_MAX_WAITING", "3")
    monkeypatch.setenv("SMARTNATION_APPOINTMENTS_RETRY_AFTER_SECONDS", "7")
    appointment_settings.get_appointment_settings.cache_clear()
    yield
    appointment_settings.get_appointment_settings.cache_clear()


async def _visit(hold: float, outcomes: list[str]) -> None:
    room = waiting_room()
    started = time.perf_counter()
    try:
        await room.__anext__()
    except TooManyRequests as refused:
        waited = time.perf_counter() - started
        outcomes.append(f"429 after {'wait' if waited > 0.2 else 'none'} {refused.retry_after}")
        return
    await asyncio.sleep(hold)
    outcomes.append("booked")
    await room.aclose()


def test_beyond_its_turns_and_queue_the_room_refuses_with_retry_after(small_room: None) -> None:
    outcomes: list[str] = []

    async def surge() -> None:
        # 2 turns held for a second, 3 may wait (and time out), the other 5 are refused at once.
        await asyncio.gather(*(_visit(1.0, outcomes) for _ in range(10)))

    asyncio.run(surge())
    assert outcomes.count("booked") == 2
    assert outcomes.count("429 after wait 7") == 3
    assert outcomes.count("429 after none 7") == 5


def test_a_short_queue_is_served_in_turn(small_room: None) -> None:
    outcomes: list[str] = []

    async def peak() -> None:
        await asyncio.gather(*(_visit(0.05, outcomes) for _ in range(5)))

    asyncio.run(peak())
    assert outcomes == ["booked"] * 5

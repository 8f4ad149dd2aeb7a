"""The waiting room: a limit on bookings in progress per web process.

A surge beyond what the database can take is answered with 429 and Retry-After, instead of piling
up connections until requests time out. Requests wait a moment for a turn first, so ordinary peaks
are smoothed rather than refused; but only so many wait: once the queue is that long, more are
refused at once, and nobody waits longer than `waiting_seconds`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from prometheus_client import Counter

from smartnation.appointments.settings import get_appointment_settings
from smartnation.core.errors import TooManyRequests
from smartnation.core.i18n import N_

SENT_TO_WAIT = Counter(
    "smartnation_appointments_waiting_room_total",
    "Booking requests asked to come back later by the waiting room",
)


@dataclass
class _Room:
    turns: asyncio.Semaphore
    inside: int = 0  # booking or waiting for a turn


_rooms: dict[int, _Room] = {}


def _room() -> _Room:
    # One per event loop: a web process has one loop, the test client a new one per client.
    loop = asyncio.get_running_loop()
    room = _rooms.get(id(loop))
    if room is None:
        room = _Room(asyncio.Semaphore(get_appointment_settings().booking_concurrency))
        _rooms[id(loop)] = room
    return room


def _come_back_later() -> TooManyRequests:
    SENT_TO_WAIT.inc()
    return TooManyRequests(
        N_("Many people are booking right now. Please try again in a few seconds."),
        retry_after=get_appointment_settings().retry_after_seconds,
    )


class Turn:
    """`async with Turn():` a turn to book, waited for briefly, or 429 with Retry-After."""

    __slots__ = ("room",)

    async def __aenter__(self) -> None:
        settings = get_appointment_settings()
        room = _room()
        if room.inside >= settings.booking_concurrency + settings.max_waiting:
            raise _come_back_later()
        room.inside += 1
        try:
            if room.turns.locked():
                await asyncio.wait_for(room.turns.acquire(), timeout=settings.waiting_seconds)
            else:
                await room.turns.acquire()  # free: taken at once, without a timer
        except TimeoutError:
            room.inside -= 1
            raise _come_back_later() from None
        except BaseException:
            room.inside -= 1
            raise
        self.room = room

    async def __aexit__(self, *_exc: object) -> None:
        self.room.turns.release()
        self.room.inside -= 1


async def waiting_room() -> AsyncIterator[None]:
    """A dependency: wait briefly for a turn to book, or be refused with 429 and Retry-After."""
    async with Turn():
        yield

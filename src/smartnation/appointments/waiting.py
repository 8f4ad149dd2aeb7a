"""The waiting room: a limit on bookings in progress per web process.

A surge beyond what the database can take is answered at once with 429 and Retry-After, instead of
piling up connections until requests time out. Requests wait a moment for a turn first, so ordinary
peaks are smoothed rather than refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from prometheus_client import Counter

from smartnation.appointments.settings import get_appointment_settings
from smartnation.core.errors import TooManyRequests
from smartnation.core.i18n import N_

SENT_TO_WAIT = Counter(
    "smartnation_appointments_waiting_room_total",
    "Booking requests asked to come back later by the waiting room",
)
_semaphores: dict[int, asyncio.Semaphore] = {}


def _semaphore() -> asyncio.Semaphore:
    # One per event loop: a web process has one loop, the test client a new one per client.
    loop = asyncio.get_running_loop()
    semaphore = _semaphores.get(id(loop))
    if semaphore is None:
        semaphore = asyncio.Semaphore(get_appointment_settings().booking_concurrency)
        _semaphores[id(loop)] = semaphore
    return semaphore


async def waiting_room() -> AsyncIterator[None]:
    """A dependency: wait briefly for a turn to book, or be refused with 429 and Retry-After."""
    settings = get_appointment_settings()
    semaphore = _semaphore()
    try:
        await asyncio.wait_for(semaphore.acquire(), timeout=settings.waiting_seconds)
    except TimeoutError:
        SENT_TO_WAIT.inc()
        raise TooManyRequests(
            N_("Many people are booking right now. Please try again in a few seconds."),
            retry_after=settings.retry_after_seconds,
        ) from None
    try:
        yield
    finally:
        semaphore.release()

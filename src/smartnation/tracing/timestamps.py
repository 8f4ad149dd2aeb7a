"""Time as the OpenTrace server sees it: Unix milliseconds in, JavaScript numbers out.

OpenTrace divides `Date.now()` by 1000 and writes the result into JSON, so a token minted at a
whole second says `1590000000` and one minted 123 ms later says `1590000000.123`. Reproducing
those bytes needs the same rule; everything else in the library works with aware datetimes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
INVALID_DATE = "Invalid date"


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def epoch_ms(instant: datetime | None = None) -> int:
    """Whole Unix milliseconds of an aware instant (now when omitted), like `Date.now()`."""
    moment = utcnow() if instant is None else instant
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetimes are not allowed; attach a timezone first")
    # Integer arithmetic on timedeltas is exact; float timestamps would round some milliseconds.
    return (moment - EPOCH) // _ONE_MS


def instant_from_ms(ms: int) -> datetime:
    """The aware UTC instant of a Unix millisecond count."""
    return EPOCH + timedelta(milliseconds=ms)


def js_seconds(ms: int) -> int | float:
    """`ms / 1000` as JavaScript prints it: an integer when whole, else the shortest float."""
    whole, rest = divmod(ms, 1000)
    return whole if rest == 0 else ms / 1000


def is_json_number(value: object) -> bool:
    """Whether a decoded JSON value is a finite number (booleans are not numbers here)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def format_opentrace_timestamp(seconds: int | float, utc_offset_minutes: int = 0) -> str:
    """Unix seconds as OpenTrace's `DD-MMM-YYYY HH:mm:ss Z`: `20-May-2020 18:40:40 +00:00`.

    Like `moment.unix()`, fractional milliseconds are truncated toward zero and the seconds shown
    are floored. Instants outside years 1-9999 give "Invalid date" rather than an error.
    """
    try:
        ms = int(seconds * 1000)
        shown = EPOCH + timedelta(milliseconds=ms) + timedelta(minutes=utc_offset_minutes)
    except (OverflowError, ValueError):
        return INVALID_DATE
    sign = "-" if utc_offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(utc_offset_minutes), 60)
    return (
        f"{shown.day:02d}-{_MONTHS[shown.month - 1]}-{shown.year:04d} "
        f"{shown.hour:02d}:{shown.minute:02d}:{shown.second:02d} {sign}{hours:02d}:{minutes:02d}"
    )

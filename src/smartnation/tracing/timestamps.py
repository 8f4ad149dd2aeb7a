"""Time as the OpenTrace server sees it: Unix milliseconds in, JavaScript numbers out.

OpenTrace divides `Date.now()` by 1000 and writes the result into JSON, so a token minted at a
whole second says `1590000000` and one minted 123 ms later says `1590000000.123`. Reproducing
those bytes needs the same rule; everything else in the library works with aware datetimes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
INVALID_DATE = "Invalid date"
# Days from the epoch to 0001-01-01 and to 9999-12-31, the range datetime can show.
_FIRST_DAY = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH).days
_LAST_DAY = (datetime(9999, 12, 31, tzinfo=UTC) - EPOCH).days


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
    # Exact type checks: JSON decoding makes only int and float, and bool must not pass.
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))  # type: ignore[arg-type]


@lru_cache(maxsize=4096)
def _date_part(day_number: int) -> str:
    day = EPOCH + timedelta(days=day_number)
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year:04d}"


@lru_cache(maxsize=64)
def _offset_part(utc_offset_minutes: int) -> str:
    sign = "-" if utc_offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(utc_offset_minutes), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def is_showable_timestamp(seconds: int | float, utc_offset_minutes: int = 0) -> bool:
    """Whether `format_opentrace_timestamp` shows this instant rather than "Invalid date"."""
    try:
        whole_seconds = int(seconds * 1000) // 1000 + utc_offset_minutes * 60
    except (OverflowError, ValueError):
        return False
    return _FIRST_DAY <= whole_seconds // 86_400 <= _LAST_DAY


def format_opentrace_timestamp(seconds: int | float, utc_offset_minutes: int = 0) -> str:
    """Unix seconds as OpenTrace's `DD-MMM-YYYY HH:mm:ss Z`: `20-May-2020 18:40:40 +00:00`.

    Like `moment.unix()`, fractional milliseconds are truncated toward zero and the seconds shown
    are floored. Instants outside years 1-9999 give "Invalid date" rather than an error.
    """
    try:
        whole_seconds = int(seconds * 1000) // 1000 + utc_offset_minutes * 60
    except (OverflowError, ValueError):
        return INVALID_DATE
    day_number, second_of_day = divmod(whole_seconds, 86_400)
    if not _FIRST_DAY <= day_number <= _LAST_DAY:
        return INVALID_DATE
    hour, rest = divmod(second_of_day, 3600)
    minute, second = divmod(rest, 60)
    # The date part is cached per day: uploads hold many records from the same few days.
    return (
        f"{_date_part(day_number)} {hour:02d}:{minute:02d}:{second:02d} "
        f"{_offset_part(utc_offset_minutes)}"
    )

"""Time: timezone-aware UTC inside, Asia/Singapore at the edges."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SINGAPORE = ZoneInfo("Asia/Singapore")


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def to_singapore(instant: datetime) -> datetime:
    """Show an instant in Singapore time (for pages, messages and exports)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are not allowed; attach a timezone first")
    return instant.astimezone(SINGAPORE)


def today_in_singapore() -> date:
    """The calendar date in Singapore now: what people mean by "today"."""
    return utcnow().astimezone(SINGAPORE).date()


def age_on(birth: date, on: date) -> int:
    """Whole years of age on a given date."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years

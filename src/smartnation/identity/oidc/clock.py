"""Time, injectable: every check takes an optional ``now`` so tests can pin the clock."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def epoch(now: datetime | None) -> int:
    """Seconds since the epoch for an aware datetime (the current time when ``None``)."""
    moment = utc_now() if now is None else now
    if moment.tzinfo is None:
        # Naive datetimes are ambiguous about their zone; refuse rather than guess.
        raise ValueError("now must be timezone-aware")
    return int(moment.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)

"""Failed logins counted by network address.

An account locks after five wrong passwords (`accounts`), but someone trying one common password
on many NRIC/FINs never trips any account's lock. So failures are also counted per source
address, in fixed 15-minute windows shared by every web process (`core.attempts`), and a source
past the limit is refused until the next window.

The limit is generous because many people can share one address (a mobile carrier's NAT, an
office): it stops one machine spraying passwords, not a person who mistypes. The source is the
address uvicorn reports: behind a reverse proxy on another host, set `FORWARDED_ALLOW_IPS` to the
proxy's address so that it is the person's address and not the proxy's.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.orm import Session

from smartnation.core import attempts
from smartnation.core.clock import utcnow
from smartnation.core.errors import TooManyRequests
from smartnation.core.i18n import N_

WINDOW: Final = timedelta(minutes=15)
FAILURES_PER_SOURCE: Final = 100  # per window, unless configured


class ThrottleSettings(BaseSettings):
    """`SMARTNATION_IDENTITY_FAILED_LOGINS_PER_ADDRESS`: failures one address may make in a
    window before it waits for the next (raise it where many people share an address)."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_IDENTITY_")

    failed_logins_per_address: int = Field(default=FAILURES_PER_SOURCE, ge=1)


@functools.cache
def failures_allowed() -> int:
    """The configured limit, read from the environment once per process (as settings are)."""
    return ThrottleSettings().failed_logins_per_address


class SourceThrottled(TooManyRequests):
    title = N_("Too many attempts")
    code = "login_throttled"


def window_start(now: datetime) -> datetime:
    """The start of the fixed window `now` falls in."""
    return attempts.window_start(now, WINDOW)


def _key(source: str) -> str:
    return f"login-address:{source}"


def check_source(session: Session, source: str | None) -> None:
    """Refuse a login attempt from a source that failed too often in this window."""
    if not source:
        return
    now = utcnow()
    if attempts.failures(session, _key(source), WINDOW, now) >= failures_allowed():
        wait = int((window_start(now) + WINDOW - now).total_seconds()) + 1
        raise SourceThrottled(
            N_(
                "Too many failed logins came from your network. Wait 15 minutes and try again, "
                "or reset your password with your second factor."
            ),
            retry_after=wait,
        )


def count_failure(session: Session, source: str | None) -> None:
    """One more failed attempt from `source` in this window."""
    if source:
        attempts.count_failure(session, _key(source), WINDOW, utcnow())


def purge_expired(session: Session) -> int:
    """Delete the counts of windows that have ended; returns how many rows went."""
    return attempts.purge_ended(session, utcnow())

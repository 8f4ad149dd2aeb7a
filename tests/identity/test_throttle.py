"""Failed logins counted by network address: one password sprayed over many accounts is stopped
although no single account locks; other addresses and the next window are not affected."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from smartnation.core.attempts import FailedAttempts
from smartnation.core.clock import utcnow
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import make_engine
from smartnation.identity import accounts, throttle
from smartnation.identity.demo import PASSWORD

from .conftest import csrf_of

SPRAYER = "203.0.113.9"
NEIGHBOUR = "198.51.100.7"
# Demo accounts (activated, with passwords) to spray one wrong password over.
TARGETS = ("S8012345J", "S7512345J", "S4012345H")


@pytest.fixture(autouse=True)
def mid_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock in the middle of a window, so that no test straddles two by chance."""
    now = throttle.window_start(utcnow()) + throttle.WINDOW / 2
    monkeypatch.setattr(throttle, "utcnow", lambda: now)


@pytest.fixture
def low_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(throttle, "failures_allowed", lambda: len(TARGETS))
    return len(TARGETS)


def _spray(session: Session, source: str) -> None:
    for nric in TARGETS:
        with pytest.raises(accounts.LoginRefused):
            accounts.verify_password(session, nric, "Password1234", source=source)


def test_a_source_spraying_one_password_is_stopped_though_no_account_locks(personas, low_limit):
    with personas.transaction() as session:
        _spray(session, SPRAYER)
        for nric in TARGETS:  # one failure each: far from any account's lock
            account = accounts.find_account(session, nric)
            assert account is not None and account.failed_logins == 1
        with pytest.raises(throttle.SourceThrottled) as stopped:  # even the right password
            accounts.verify_password(session, "S8012345J", PASSWORD, source=SPRAYER)
        assert stopped.value.status == 429
        assert 0 < stopped.value.retry_after <= throttle.WINDOW.total_seconds() + 1
        # Another address, and a caller that knows no address, are not affected.
        assert accounts.verify_password(session, "S8012345J", PASSWORD, source=NEIGHBOUR)
        assert accounts.verify_password(session, "S8012345J", PASSWORD)


def test_unknown_nrics_count_too_and_the_next_window_starts_afresh(
    personas, low_limit, monkeypatch
):
    with personas.transaction() as session:
        for nric in ("S0000001I", "S0000002G", "not-an-nric"):
            with pytest.raises(accounts.LoginRefused):
                accounts.verify_password(session, nric, "Password1234", source=SPRAYER)
        with pytest.raises(throttle.SourceThrottled):
            accounts.verify_password(session, "S8012345J", PASSWORD, source=SPRAYER)
        later = throttle.utcnow() + throttle.WINDOW
        monkeypatch.setattr(throttle, "utcnow", lambda: later)
        assert accounts.verify_password(session, "S8012345J", PASSWORD, source=SPRAYER)
        assert throttle.purge_expired(session) == 1  # the ended window's row
        assert session.scalar(sa.select(sa.func.count()).select_from(FailedAttempts)) == 0


def test_the_limit_is_a_setting(monkeypatch):
    throttle.failures_allowed.cache_clear()
    try:
        assert throttle.failures_allowed() == throttle.FAILURES_PER_SOURCE
        throttle.failures_allowed.cache_clear()
        monkeypatch.setenv("SMARTNATION_IDENTITY_FAILED_LOGINS_PER_ADDRESS", "2500")
        assert throttle.failures_allowed() == 2500
    finally:
        throttle.failures_allowed.cache_clear()


def test_windows_are_fixed_quarter_hours():
    now = utcnow().replace(hour=10, minute=44, second=59, microsecond=123)
    assert throttle.window_start(now) == now.replace(minute=30, second=0, microsecond=0)
    assert throttle.window_start(now + timedelta(seconds=1)) == now.replace(
        minute=45, second=0, microsecond=0
    )


def test_the_login_page_says_to_wait_with_429(client, personas, low_limit):
    page = client.get("/login?next=/")
    token = csrf_of(page.text)
    for nric in TARGETS:
        wrong = client.post(
            "/id/auth/password",
            data={"csrf_token": token, "nric": nric, "password": "Password1234"},
            follow_redirects=False,
        )
        assert wrong.status_code == 401
    stopped = client.post(
        "/id/auth/password",
        data={"csrf_token": token, "nric": "S8012345J", "password": PASSWORD},
        follow_redirects=False,
    )
    assert stopped.status_code == 429
    assert "Too many failed logins came from your network" in stopped.text
    assert 'name="nric"' in stopped.text  # the form is still there, with the message


def test_failures_counted_by_concurrent_processes_are_all_kept(postgresql_url):
    engine = make_engine(DatabaseSettings(url=postgresql_url, pool_size=8))
    source = f"192.0.2.{threading.get_ident() % 250}"
    start = throttle.window_start(throttle.utcnow())
    clients, each = 8, 25
    barrier = threading.Barrier(clients)

    def count() -> None:
        barrier.wait()
        for _ in range(each):
            with Session(engine) as session, session.begin():
                throttle.count_failure(session, source)

    try:
        threads = [threading.Thread(target=count) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with Session(engine) as session, session.begin():
            failures = session.scalar(
                sa.select(FailedAttempts.failures).where(
                    FailedAttempts.key == f"login-address:{source}",
                    FailedAttempts.window_start == start,
                )
            )
            session.execute(
                sa.delete(FailedAttempts).where(FailedAttempts.key == f"login-address:{source}")
            )
        assert failures == clients * each
    finally:
        engine.dispose()

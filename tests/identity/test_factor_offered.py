"""After the password: the factor asked for at once, or the choice page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from smartnation.core.db import Database
from smartnation.identity.demo import PASSWORD
from smartnation.identity.login_pages import offered_at_once
from smartnation.identity.models import Account, Factor
from smartnation.messaging.models import Message
from smartnation.registry.models import Resident

from .conftest import csrf_of
from .flow_support import TestRelyingParty

CITIZEN = "S8012345J"  # demo persona with an SMS factor and an authenticator app
CITIZEN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class F:
    kind: str
    last_used_at: datetime | None = None


@pytest.mark.parametrize(
    ("usable", "offered"),
    [
        ([], None),
        ([F("totp")], 0),
        ([F("webauthn")], 0),
        ([F("sms")], None),  # an SMS is sent only when asked for
        ([F("trusted_sms")], None),
        ([F("sms"), F("totp")], None),  # never used: the person chooses
        ([F("sms", T0), F("totp", T0 + timedelta(days=1))], 1),
        ([F("sms", T0 + timedelta(days=1)), F("totp", T0)], None),
        ([F("totp", T0), F("webauthn", T0 + timedelta(hours=1)), F("sms")], 1),
    ],
)
def test_which_factor_is_offered_at_once(usable: list[F], offered: int | None) -> None:
    chosen = offered_at_once(usable)
    assert chosen is (None if offered is None else usable[offered])


@pytest.fixture
def http(personas: Database, app) -> TestClient:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _password(personas: Database, http: TestClient) -> tuple[str, str]:
    with personas.transaction() as session:
        rp = TestRelyingParty(session, issuer="http://127.0.0.1:8000/id", scopes="openid")
    page = http.get(rp.start(http))
    token = csrf_of(page.text)
    answer = http.post(
        "/id/auth/password",
        data={"csrf_token": token, "nric": CITIZEN, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return token, answer.headers["location"]


def _sms_count(personas: Database) -> int:
    with personas.transaction() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(Message)) or 0)


def test_a_person_who_never_chose_gets_the_choice_and_no_sms(personas, http) -> None:
    before = _sms_count(personas)
    _token, location = _password(personas, http)
    assert location == "/id/auth/factor"
    assert _sms_count(personas) == before


def test_the_app_used_last_time_is_asked_for_at_once(personas, http) -> None:
    with personas.transaction() as session:
        account_id = session.scalar(
            sa.select(Account.id)
            .join(Resident, Resident.id == Account.resident_id)
            .where(Resident.nric == CITIZEN)
        )
        session.execute(
            sa.update(Factor)
            .where(Factor.account_id == account_id, Factor.kind == "totp")
            .values(last_used_at=datetime.now(UTC) - timedelta(days=3))
        )
    before = _sms_count(personas)
    token, location = _password(personas, http)
    assert location == "/id/auth/verify"
    page = http.get(location).text
    assert "authenticator app" in page
    assert 'href="/id/auth/factor"' in page  # another factor can still be chosen
    done = http.post(
        "/id/auth/verify",
        data={"csrf_token": token, "code": pyotp.TOTP(CITIZEN_TOTP).now()},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("https://rp.example.sg/callback?code=")
    assert _sms_count(personas) == before

"""A case goes from upload code to notified close contacts through the real pages in Chromium.

The officer logs in through the identity domain's real login (password, then an SMS code read
from the developer inbox) as the demo health officer; the phones are played through the API.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy import text as sa_text

from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.core.validators import nric_check_letter
from smartnation.messaging.models import Message
from smartnation.registry import service as registry
from smartnation.tracing.bluetrace import development_keyring, generate_tempid

pytestmark = pytest.mark.browser
KEYRING = development_keyring()
# The demo's health officer (identity/demo.py): password login, then a code by SMS.
OFFICER_NRIC, OFFICER_PHONE, PASSWORD = "S6012345D", "+6591234509", "Demo-Pass-2026"


@dataclass
class Site:
    url: str
    database: Database


@pytest.fixture
def platform(live_site: Any) -> Iterator[Site]:
    """The demo platform served by `smartnation serve`, and its database for the phones' side."""
    database = Database.from_settings(
        DatabaseSettings(url=live_site.env["SMARTNATION_DATABASE_URL"])
    )
    yield Site(live_site.base_url, database)
    database.engine.dispose()


def _inbox_codes(base: str, phone: str) -> list[str]:
    page = httpx.get(f"{base}/dev/inbox", params={"to": phone}).text
    return re.findall(r'data-testid="message-body">(\d{6}) ', page)


def _log_in_as_officer(page: Any, base: str, next_path: str) -> None:
    page.goto(f"{base}/login?next={next_path}")
    page.get_by_label("NRIC or FIN").fill(OFFICER_NRIC)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/id/auth/factor$"))
    seen = len(_inbox_codes(base, OFFICER_PHONE))
    page.get_by_role("button", name=re.compile("SMS code to")).click()
    page.wait_for_url(re.compile(r"/id/auth/verify$"))
    deadline = time.monotonic() + 20
    while len(codes := _inbox_codes(base, OFFICER_PHONE)) <= seen:
        assert time.monotonic() < deadline, "the login code never reached the inbox"
        time.sleep(0.2)
    page.get_by_label("One-time code").fill(codes[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def _person(site: Any, number: int, name: str) -> tuple[str, str]:
    digits = f"{number:07d}"
    nric = "S" + digits + nric_check_letter("S", digits)
    mobile = f"+6598{number % 1_000_000:06d}"
    with site.database.transaction() as session:
        registry.register_resident(
            session,
            registry.NewResident(
                nric=nric,
                name=name,
                sex="M",
                date_of_birth=date(1975, 5, 5),
                race="IN",
                nationality="SG",
                residential_status="C",
                mobile=mobile,
            ),
        )
    return nric, mobile


def _register_phone(site: Any, api: httpx.Client, nric: str, mobile: str) -> dict[str, str]:
    started = api.post("/api/v1/tracing/registrations", json={"nric": nric, "phone": mobile})
    assert started.status_code == 201, started.text
    with site.database.transaction() as session:
        body = session.scalars(
            select(Message.body).where(Message.recipient == mobile).order_by(Message.id.desc())
        ).first()
    code = re.search(r"\b(\d{6})\b", body or "").group(1)  # type: ignore[union-attr]
    verified = api.post(
        f"/api/v1/tracing/registrations/{started.json()['registration_id']}/verify",
        json={"code": code},
    )
    assert verified.status_code == 200, verified.text
    return dict(verified.json())


def _sightings(uid: str, start: datetime, minutes: int, rssi: float) -> list[dict[str, Any]]:
    records = []
    for minute in range(minutes):
        moment = start + timedelta(minutes=minute)
        window = int(moment.timestamp()) // 900 * 900
        records.append(
            {
                "v": 2,
                "msg": generate_tempid(KEYRING, uid, window, window + 900).tempid,
                "org": "SG_MOH",
                "modelP": "iPhone X",
                "modelC": "iPhone X",
                "rssi": rssi,
                "timestamp": int(moment.timestamp()),
            }
        )
    return records


def test_case_from_upload_code_to_notified_contacts(platform: Site, browser: Any, axe: Any) -> None:
    case_nric, case_mobile = _person(platform, 8_200_001, "Case Person")
    near_nric, near_mobile = _person(platform, 8_200_002, "Near Contact")
    far_nric, far_mobile = _person(platform, 8_200_003, "Far Contact")
    with httpx.Client(base_url=platform.url, timeout=30) as api:
        case_phone = _register_phone(platform, api, case_nric, case_mobile)
        near_phone = _register_phone(platform, api, near_nric, near_mobile)
        far_phone = _register_phone(platform, api, far_nric, far_mobile)

        context = browser.new_context(bypass_csp=True)  # to inject axe-core
        page = context.new_page()
        _log_in_as_officer(page, platform.url, "/tracing")
        assert page.locator("h1").inner_text() == "Contact tracing"
        page.get_by_label("NRIC or FIN of the confirmed person").fill(case_nric)
        page.get_by_role("button", name="Open case").click()
        page.get_by_role("button", name="Issue an upload code").click()
        code = page.locator("#upload-code").inner_text().strip()
        assert axe(page) == []
        assert re.fullmatch(r"[A-Z2-9]{6}", code)

        device = {"authorization": f"Bearer {case_phone['device_token']}"}
        token = api.post("/api/v1/tracing/upload-token", json={"code": code}, headers=device)
        assert token.status_code == 200, token.text
        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        records = _sightings(near_phone["uid"], start, 45, -50.0) + _sightings(
            far_phone["uid"], start, 45, -85.0
        )
        uploaded = api.post(
            "/api/v1/tracing/uploads",
            content=json.dumps({"token": token.json()["token"], "records": records, "events": []}),
        )
        assert uploaded.status_code == 201, uploaded.text

        page.get_by_role("link", name="Review contacts").click()
        rows = page.locator("#contacts tbody tr")
        for _ in range(50):  # the embedded worker resolves the case moments after the upload
            if rows.count() == 2:
                break
            page.wait_for_timeout(200)
            page.reload()
        assert rows.count() == 2
        assert "Near Contact" in rows.nth(0).inner_text()
        assert "Far Contact" in rows.nth(1).inner_text()
        assert axe(page) == []
        page.get_by_label("Select Near Contact").check()
        page.get_by_role("button", name="Confirm selected as close contacts").click()
        assert "confirmed" in rows.nth(0).inner_text()
        page.get_by_label("WhatsApp").check()
        page.get_by_role("button", name="Serve quarantine orders").click()
        assert "Quarantine orders sent: 1" in page.locator("#notify-result").inner_text()
        assert "notified" in page.locator("#contacts tbody tr").nth(0).inner_text()

        inbox = api.get("/dev/inbox", params={"to": near_mobile})
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while "Quarantine Order" not in inbox.text and datetime.now(UTC) < deadline:
            page.wait_for_timeout(200)
            inbox = api.get("/dev/inbox", params={"to": near_mobile})
        assert "Quarantine Order QO-" in inbox.text
        far_inbox = api.get("/dev/inbox", params={"to": far_mobile}).text
        assert "Quarantine Order" not in far_inbox
        context.close()


def test_safeentry_pages_check_in_on_a_phone_screen(
    inprocess_server: Any, browser: Any, axe: Any
) -> None:
    """The check-in page a venue's QR code opens, at a phone's size: accessible and working."""
    with inprocess_server.database.transaction() as session:
        venue = session.execute(
            sa_text(
                "INSERT INTO tracing_venue (code, uen, name, active, created_at) VALUES "
                "('PROD-201912345K-E2EKOPITIAM-SE', '201912345K', 'E2E Kopitiam', true, "
                "CURRENT_TIMESTAMP) RETURNING code"
            )
        ).scalar_one()
    nric, _mobile = _person(inprocess_server, 8_100_010, "Walk In")
    context = browser.new_context(
        bypass_csp=True, viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.goto(f"{inprocess_server.url}/safeentry/v/{venue}")
    assert axe(page) == []
    page.get_by_label("NRIC or FIN").fill(nric)
    page.get_by_role("button", name="Check in").click()
    assert page.get_by_label("I agree that my details are used for contact tracing.").is_visible()
    assert "aria-invalid" in page.locator("#consent").evaluate("e => e.outerHTML")
    page.get_by_label("I agree that my details are used for contact tracing.").check()
    page.get_by_role("button", name="Check in").click()
    assert page.locator("h1").inner_text() == "Checked in"
    assert axe(page) == []
    page.get_by_role("button", name="Check out").click()
    assert page.locator("h1").inner_text() == "Checked out"
    page.goto(f"{inprocess_server.url}/safeentry/venues/{venue}/poster")
    assert page.locator(".poster-qr svg").count() == 1
    assert axe(page) == []
    context.close()

"""SafeEntry: venues and QR codes, check-in and check-out, history, overlaps, public visits."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core.audit import AuditEvent
from smartnation.core.db import Database
from smartnation.tracing import service
from smartnation.tracing.models import CheckIn


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_venue_code_and_qr(
    session: Session, add_business: Callable[[str], Any], client: TestClient
) -> None:
    business = add_business("Lion City Kopitiam Pte Ltd")
    venue = service.register_venue(session, business.uen, branch="000001")
    assert venue.code == f"PROD-{business.uen}-000001-LIONCITYKOPITIAMPTELTD-SE"
    assert service.venue_code("201912345K", None, "Jade Café, #01-02") == (
        "PROD-201912345K-JADECAF0102-SE"
    )
    assert service.get_venue(session, venue.code.lower()).id == venue.id
    with pytest.raises(Exception, match="already exists"):
        service.register_venue(session, business.uen, branch="000001")
    svg = service.qr_image("https://example/safeentry/v/" + venue.code, "svg")
    assert svg.startswith(b"<?xml") and b"<svg" in svg


def test_check_in_and_out_from_the_mobile_page(
    session: Session,
    add_business: Callable[[str], Any],
    add_person: Callable[..., Any],
    client: TestClient,
    database: Database,
) -> None:
    business = add_business("Harbourfront Bakery")
    venue = service.register_venue(session, business.uen)
    person = add_person()
    session.flush()
    page = client.get(f"/safeentry/v/{venue.code}")
    assert page.status_code == 200 and "Harbourfront Bakery" in page.text
    token = _csrf(page.text)
    # Without consent: a helpful message, not a 500, and nothing recorded.
    refused = client.post(
        f"/safeentry/v/{venue.code}/check-in",
        data={"csrf_token": token, "nric": person.nric, "name": person.name},
    )
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text and "contact tracing" in refused.text
    bad_nric = client.post(
        f"/safeentry/v/{venue.code}/check-in",
        data={"csrf_token": token, "nric": "S1234567A", "consent": "yes"},
    )
    assert bad_nric.status_code == 422
    done = client.post(
        f"/safeentry/v/{venue.code}/check-in",
        data={"csrf_token": token, "nric": person.nric, "mobile": "91234567", "consent": "yes"},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "Check out" in done.text
    out = client.post(
        done.url.path + "/check-out", data={"csrf_token": token}, follow_redirects=True
    )
    assert out.status_code == 200 and 'id="checked-out-at"' in out.text
    with database.transaction() as check:
        visit = check.scalar(select(CheckIn).where(CheckIn.nric == person.nric))
        assert visit is not None and visit.method == "qr_nric" and visit.checked_out_at
        assert visit.mobile == "+6591234567" and visit.resident_id == person.id
    # Another browser cannot see or close someone else's visit.
    with TestClient(client.app) as stranger:
        assert stranger.get(done.url.path, headers={"accept": "text/html"}).status_code == 404
    assert client.get("/safeentry/v/PROD-NOTAVENUE-SE").status_code == 404


def test_logged_in_check_in_history_and_gateways(
    session: Session,
    app: Any,
    login: Callable[..., None],
    add_business: Callable[[str], Any],
    add_person: Callable[..., Any],
    register_phone: Callable[..., Any],
) -> None:
    venue = service.register_venue(session, add_business("Merlion Mart").uen)
    person, visitor, token_user = add_person(), add_person(), add_person()
    session.flush()
    with TestClient(app) as browser:
        login(browser, [], person_id="p1", nric=person.nric)
        page = browser.get(f"/safeentry/v/{venue.code}")
        assert "You are logged in" in page.text
        done = browser.post(
            f"/safeentry/v/{venue.code}/check-in",
            data={"csrf_token": _csrf(page.text)},
            follow_redirects=True,
        )
        assert done.status_code == 200
        history = browser.get("/safeentry/history")
        assert "Merlion Mart" in history.text
    with TestClient(app) as gateway:
        login(gateway, ["safeentry.gateway"], person_id="gate-1")
        staff = gateway.post(
            "/api/v1/tracing/safeentry/checkins",
            json={"venue_code": venue.code, "nric": visitor.nric},
        )
        assert staff.status_code == 201, staff.text
        phone = register_phone(token_user, kind="token")
        tapped = gateway.post(
            "/api/v1/tracing/safeentry/checkins",
            json={"venue_code": venue.code, "uid": phone["uid"], "method": "tt_token"},
        )
        assert tapped.status_code == 201
        out = gateway.post(f"/api/v1/tracing/safeentry/checkins/{tapped.json()['id']}/check-out")
        assert out.json()["checked_out_at"] is not None
        again = gateway.post(f"/api/v1/tracing/safeentry/checkins/{tapped.json()['id']}/check-out")
        assert again.status_code == 409
    methods = set(session.scalars(select(CheckIn.method).where(CheckIn.venue_id == venue.id)))
    assert methods == {"qr_login", "staff_scan", "tt_token"}


def test_overlap_search_with_buffer_and_default_stay(
    session: Session, add_business: Callable[[str], Any], add_person: Callable[..., Any]
) -> None:
    venue = service.register_venue(session, add_business("Sentosa Diner").uen)
    other = service.register_venue(session, add_business("Pearl Books").uen)
    case, during, just_after, no_checkout, too_late, elsewhere = (add_person() for _ in range(6))
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)

    def visit(person: Any, where: Any, start: datetime, minutes: int | None) -> None:
        row = service.check_in(
            session, where.code, nric=person.nric, method="staff_scan", now=start
        )
        if minutes is not None:
            service.check_out(session, row.id, now=start + timedelta(minutes=minutes))

    visit(case, venue, t0, 60)
    visit(during, venue, t0 + timedelta(minutes=10), 30)
    visit(just_after, venue, t0 + timedelta(minutes=80), 20)  # within the 30-minute buffer
    visit(no_checkout, venue, t0 - timedelta(minutes=50), None)  # default stay of 60 minutes
    visit(too_late, venue, t0 + timedelta(minutes=200), 20)
    visit(elsewhere, other, t0, 60)
    found = service.overlaps_for_case(session, case.nric, since=t0 - timedelta(days=1))
    assert set(found) == {during.nric, just_after.nric, no_checkout.nric}
    assert found[during.nric].overlap_seconds == 30 * 60
    assert found[during.nric].venues[0]["venue"] == "Sentosa Diner"
    tight = service.overlaps_for_case(
        session, case.nric, since=t0 - timedelta(days=1), buffer=timedelta(0)
    )
    assert set(tight) == {during.nric, no_checkout.nric}
    short_stay = service.overlaps_for_case(
        session,
        case.nric,
        since=t0 - timedelta(days=1),
        buffer=timedelta(0),
        default_stay=timedelta(minutes=30),
    )
    assert set(short_stay) == {during.nric}


def test_public_case_visits_page_has_no_personal_data(
    session: Session,
    add_business: Callable[[str], Any],
    add_person: Callable[..., Any],
    client: TestClient,
) -> None:
    venue = service.register_venue(session, add_business("Orchid Hawker Centre").uen)
    person = add_person("Tan Ah Kow")
    service.check_in(
        session,
        venue.code,
        nric=person.nric,
        method="qr_nric",
        consent=True,
        mobile=person.mobile,
        now=datetime.now(UTC) - timedelta(hours=5),
    )
    case = service.open_case(session, person.nric)
    assert client.get("/safeentry/case-visits").text.count("Orchid Hawker Centre") == 0
    service.publish_case_visits(session, case)
    session.flush()
    page = client.get("/safeentry/case-visits").text
    api = client.get("/api/v1/tracing/safeentry/case-visits").text
    for text in (page, api):
        assert "Orchid Hawker Centre" in text
        for personal in (
            person.nric,
            person.nric[1:8],
            "Tan Ah Kow",
            person.mobile,
            case.reference,
        ):
            assert personal not in text
    published = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "tracing.case.visits_published")
    ).all()
    assert len(published) == 1


def test_poster_is_a_printable_page_with_an_inline_qr(
    session: Session, add_business: Callable[[str], Any], client: TestClient
) -> None:
    venue = service.register_venue(session, add_business("Garden City Florist").uen)
    session.flush()
    poster = client.get(f"/safeentry/venues/{venue.code}/poster")
    assert poster.status_code == 200
    assert "<svg" in poster.text and venue.code in poster.text
    assert client.get("/safeentry/safeentry.css").text.count("size: A4") == 1
    png = client.get(f"/api/v1/tracing/safeentry/venues/{venue.code}/qr.png")
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"

"""A broadcast goes from draft to approval by a second officer to delivery in four languages.

Officers are logged in by a signed session cookie carrying their principal (what the login page
stores under `PRINCIPAL_SESSION_KEY`), made with the live server's session key; everything after
that goes through the real pages in Chromium, and the embedded worker delivers to the local
stand-in, whose messages the developer inbox shows.
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from typing import Any
from urllib.parse import quote

import pytest
from broadcast_support import TEXTS, add_subscribers, phone
from itsdangerous import TimestampSigner
from playwright.sync_api import expect

from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal

pytestmark = pytest.mark.browser

AUTHOR = Principal("person", "S8912345A", "Officer Tan", frozenset({"messaging.officer"}))
APPROVER = Principal(
    "person", "S8812345B", "Officer Lim", frozenset({"messaging.officer", "messaging.approver"})
)


def log_in(context: Any, base_url: str, secret: str, principal: Principal) -> None:
    """Set the session cookie the login page would have set for `principal`."""
    data = b64encode(json.dumps({PRINCIPAL_SESSION_KEY: principal.to_session()}).encode())
    cookie = TimestampSigner(secret).sign(data).decode()
    context.clear_cookies()
    context.add_cookies([{"name": "smartnation_session", "value": cookie, "url": base_url}])


def test_broadcast_from_draft_to_approval_to_delivery(browser: Any, live_site: Any) -> None:
    base = live_site.base_url
    secret = live_site.env["SMARTNATION_WEB_SECRET_KEY"]
    database = Database.from_settings(
        DatabaseSettings(url=live_site.env["SMARTNATION_DATABASE_URL"])
    )
    add_subscribers(database, 8, start=7_000_000 - 1)  # two per language, topic "health"
    database.engine.dispose()

    context = browser.new_context(base_url=base)
    context.set_default_timeout(20_000)
    page = context.new_page()
    log_in(context, base, secret, AUTHOR)
    page.goto("/messaging/campaigns/new")
    page.get_by_label("Title").fill("Vaccination centres")
    page.get_by_label("Audience: subscribers of the topic").select_option("health")
    for label, code in (("English", "en"), ("中文", "zh"), ("Melayu", "ms"), ("தமிழ்", "ta")):
        page.get_by_label(re.compile("^" + label)).fill(TEXTS[code])
    page.get_by_label("Variables").fill("date=1 June")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"/messaging/campaigns/\d+$"))
    campaign_url = page.url
    page.get_by_role("button", name="Submit for approval").click()
    assert page.get_by_text("A second officer must approve this broadcast.").is_visible()
    assert page.get_by_role("button", name="Approve and send").count() == 0

    log_in(context, base, secret, APPROVER)
    page.goto(campaign_url)
    page.get_by_role("button", name="Approve and send").click()
    # The progress panel polls by itself until the embedded worker has sent everything.
    expect(page.get_by_test_id("campaign-status")).to_have_text("completed", timeout=60_000)
    for code in ("en", "zh", "ms", "ta"):
        assert page.get_by_test_id(f"sent-{code}").inner_text() == "2"
    page.reload()  # a plain reload shows the same figures
    assert page.get_by_test_id("sent-ta").inner_text() == "2"

    page.goto("/dev/inbox?to=" + quote(phone(7_000_000)))  # the Chinese-speaking one
    body = page.get_by_test_id("message-body").first.inner_text()
    assert body.startswith("疫苗接种中心将于 1 June 开放。")
    page.goto("/dev/inbox")
    bodies = page.get_by_test_id("message-body").all_inner_texts()
    for code in ("en", "zh", "ms", "ta"):
        assert any(text.startswith(TEXTS[code].format(date="1 June")) for text in bodies), code
    context.close()

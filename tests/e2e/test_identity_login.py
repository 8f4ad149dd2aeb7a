"""A person logs in through the real pages in Chromium with each second factor."""

from __future__ import annotations

import re
import time

import httpx
import pyotp
import pytest

pytestmark = pytest.mark.browser
PASSWORD = "Demo-Pass-2026"


def _password_step(page, base: str, nric: str, next_path: str, then: str = "factor") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login?next={next_path}")
    page.get_by_label("NRIC or FIN").fill(nric)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(rf"/id/auth/{then}$"))


def _inbox_codes(base: str, phone: str) -> list[str]:
    page = httpx.get(f"{base}/dev/inbox", params={"to": phone}).text
    return re.findall(r'data-testid="message-body">(\d{6}) ', page)


def _new_code(base: str, phone: str, seen: int) -> str:
    deadline = time.monotonic() + 20
    while len(codes := _inbox_codes(base, phone)) <= seen:
        assert time.monotonic() < deadline, "the SMS never reached the inbox"
        time.sleep(0.2)
    return codes[0]


def test_login_with_sms_code_from_the_inbox(browser, live_site):
    base = live_site.base_url
    page = browser.new_page()
    _password_step(page, base, "S7512345J", "/identity/account")
    seen = len(_inbox_codes(base, "+6591234502"))
    page.get_by_role("button", name=re.compile("SMS code to")).click()
    page.wait_for_url(re.compile(r"/id/auth/verify$"))
    page.get_by_label("One-time code").fill(_new_code(base, "+6591234502", seen))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/identity/account$"))
    assert page.get_by_role("heading", name="My SingPass account").is_visible()
    assert "RAJESH S/O KUMAR" in page.content()
    page.close()


def test_a_senior_without_a_phone_logs_in_with_her_trusted_persons_code(browser, live_site):
    # Multi-User SMS 2FA: LIM AH MA has no phone; the code goes to her son's, linked in person.
    base = live_site.base_url
    page = browser.new_page()
    _password_step(page, base, "S4012345H", "/identity/account")
    seen = len(_inbox_codes(base, "+6591234505"))
    page.get_by_role("button", name=re.compile("SMS code to my trusted person")).click()
    page.wait_for_url(re.compile(r"/id/auth/verify$"))
    assert "trusted person's phone" in page.content()
    page.get_by_label("One-time code").fill(_new_code(base, "+6591234505", seen))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/identity/account$"))
    assert "LIM AH MA" in page.content()
    page.close()


def test_login_with_authenticator_app_then_passkey(browser, live_site):
    base = live_site.base_url
    context = browser.new_context()
    page = context.new_page()
    _password_step(page, base, "S8012345J", "/identity/account/passkey")
    page.get_by_role("button", name=re.compile("authenticator app")).click()
    page.get_by_label("One-time code").fill(pyotp.TOTP("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").now())
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/identity/account/passkey$"))
    # Chromium's virtual authenticator stands in for the phone's platform authenticator.
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page.get_by_role("button", name="Create a passkey").click()
    page.wait_for_url(re.compile(r"/identity/account$"))
    assert "Passkey" in page.content()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/$"))
    # The authenticator app, used last, is asked for at once; the person picks the passkey instead.
    _password_step(page, base, "S8012345J", "/identity/consents", then="verify")
    assert "authenticator app" in page.content()
    page.get_by_role("link", name="Choose another second factor").click()
    page.wait_for_url(re.compile(r"/id/auth/factor$"))
    page.get_by_role("button", name=re.compile("My passkey")).click()
    page.wait_for_url(re.compile(r"/id/auth/verify$"))
    page.get_by_role("button", name="Use my passkey").click()
    page.wait_for_url(re.compile(r"/identity/consents$"))
    assert page.get_by_role("heading", name="My consents").is_visible()
    context.close()


def test_officer_logs_in_and_every_login_page_is_accessible(page, live_server, check_accessibility):
    """DR CHEN WEI (registry.read) logs in with an SMS code; each step passes axe."""
    phone = "+6591234509"
    page.goto("/login?next=/registry")
    check_accessibility(page, "the login page")
    page.get_by_label("NRIC or FIN").fill("S6012345D")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/id/auth/factor$"))
    check_accessibility(page, "the second-factor choice")
    seen = len(_inbox_codes(live_server.url, phone))
    page.get_by_role("button", name=re.compile("SMS code to")).click()
    page.wait_for_url(re.compile(r"/id/auth/verify$"))
    check_accessibility(page, "the one-time code page")
    deadline = time.monotonic() + 30
    while len(found := _inbox_codes(live_server.url, phone)) <= seen:
        assert time.monotonic() < deadline, "the SMS never reached the inbox"
        time.sleep(0.2)
    page.get_by_label("One-time code").fill(found[0])
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/registry$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Registry lookup"

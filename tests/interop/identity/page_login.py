"""Drives the provider's login pages with plain form posts (no JavaScript), as a person would."""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import httpx

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, html[:2000]
    return match.group(1)


def sms_codes(http: httpx.Client, base_url: str, phone: str) -> list[str]:
    """Codes sent to ``phone``, newest first, from the messaging developer inbox."""
    page = http.get(f"{base_url}/dev/inbox", params={"to": phone}).text
    return re.findall(r'data-testid="message-body">(\d{6}) ', page)


def new_sms_code(http: httpx.Client, base_url: str, phone: str, seen: int) -> str:
    """Wait for the message delivered after ``seen`` earlier ones (delivery is a background job)."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        codes = sms_codes(http, base_url, phone)
        if len(codes) > seen:
            return codes[0]
        time.sleep(0.2)
    raise AssertionError(f"no new SMS to {phone}")


def login(
    http: httpx.Client,
    start_url: str,
    *,
    nric: str,
    password: str,
    factor: str = "sms",
    phone: str | None = None,
    totp_code: str | None = None,
    consent: bool = True,
    entity: str | None = None,
) -> httpx.Response:
    """Log in from ``start_url`` (the /id/auth URL or /login); returns the last redirect response
    (to the relying party, or to the platform's page)."""
    page = http.get(start_url)
    assert page.status_code == 200, page.text[:2000]
    base = str(page.url).split("/", 3)[:3]
    base_url = "/".join(base)
    token = _csrf(page.text)
    response = http.post(
        f"{base_url}/id/auth/password",
        data={"csrf_token": token, "nric": nric, "password": password},
    )
    assert response.status_code == 303, response.text[:2000]
    choice = http.get(urljoin(base_url, response.headers["location"]))
    wanted = {"sms": "SMS code to", "totp": "authenticator app", "trusted": "trusted person"}[
        factor
    ]
    forms = re.findall(r'value="(\d+)">\s*<button[^>]*>\s*([^<]+)', choice.text)
    factor_id = next(fid for fid, label in forms if wanted in label)
    seen = len(sms_codes(http, base_url, phone)) if phone else 0
    response = http.post(
        f"{base_url}/id/auth/factor", data={"csrf_token": token, "factor_id": factor_id}
    )
    assert response.status_code == 303, response.text[:2000]
    code = totp_code if factor == "totp" else new_sms_code(http, base_url, phone or "", seen)
    response = http.post(f"{base_url}/id/auth/verify", data={"csrf_token": token, "code": code})
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    if location == "/id/auth/entity":
        response = http.post(
            f"{base_url}/id/auth/entity", data={"csrf_token": token, "uen": entity or ""}
        )
        assert response.status_code == 303, response.text[:2000]
        location = response.headers["location"]
    if location == "/id/auth/consent":
        consent_page = http.get(f"{base_url}/id/auth/consent")
        assert "Share your MyInfo data?" in consent_page.text
        response = http.post(
            f"{base_url}/id/auth/consent",
            data={"csrf_token": token, "decision": "allow" if consent else "deny"},
        )
        assert response.status_code == 303, response.text[:2000]
    return response

"""The Verify page opens a notarised certificate from its QR link in Chromium.

The link's fragment carries the key: the page's script fetches the encrypted copy, decrypts it
with WebCrypto and shows the checks and the certificate. No request URL ever holds the key.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.healthcerts import config, service
from smartnation.registry import service as registry
from smartnation.registry.models import Business

pytestmark = pytest.mark.browser
FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "healthcerts"
SAMPLE = FIXTURES / "notarise__v2__pdt_pcr_with_nric_wrapped.json"


@pytest.fixture(scope="module")
def live_server_env(live_server_folder: Path) -> dict[str, str]:
    return {"SMARTNATION_HEALTHCERTS_DNS": str(live_server_folder / "dns-records.json")}


@pytest.fixture(scope="module")
def notarised_link(module_live_server: Any, live_server_env: dict[str, str]) -> Iterator[str]:
    if not SAMPLE.exists():
        pytest.skip("HealthCert fixtures not found")
    patch = pytest.MonkeyPatch()
    for name, value in live_server_env.items():
        patch.setenv(name, value)
    config.get_healthcerts_settings.cache_clear()
    database = Database.from_settings(DatabaseSettings(url=module_live_server.database_url))
    try:
        with database.transaction() as session:
            session.add(
                Business(
                    uen="201912345R",
                    name="MacRitchie Medical Clinic Pte Ltd",
                    entity_type="LC",
                    ssic_code="86201",
                    ssic_description="Clinics",
                    registered_on=date(2019, 5, 1),
                )
            )
            session.flush()
            registry.register_resident(
                session,
                registry.NewResident(
                    nric="S3001470G",
                    name="Tan Chen Chen",
                    sex="F",
                    date_of_birth=date(1990, 1, 15),
                    race="CN",
                    nationality="SG",
                    residential_status="C",
                ),
            )
            service.register_clinic(
                session,
                uen="201912345R",
                domain="donotverify.testing.verify.gov.sg",
                did="did:ethr:0xE39479928Cc4EfFE50774488780B9f616bd4B830",
            )
            notarised = service.notarise(
                session, json.loads(SAMPLE.read_text()), service.Site(module_live_server.base_url)
            )
            link = notarised.link
        yield link
    finally:
        database.engine.dispose()
        patch.undo()
        config.get_healthcerts_settings.cache_clear()


def test_qr_link_decrypts_in_the_browser_and_verifies(blank_page: Any, notarised_link: str) -> None:
    key = json.loads(unquote(urlsplit(notarised_link).fragment))["key"]
    requested: list[str] = []
    blank_page.on("request", lambda request: requested.append(request.url))
    blank_page.goto(notarised_link)
    blank_page.wait_for_selector("#verification-result", timeout=20_000)
    assert blank_page.inner_text("#verdict") == "This certificate is valid"
    assert blank_page.inner_text("#patient-name") == "Tan Chen Chen"
    assert blank_page.get_attribute('[data-check="DOCUMENT_STATUS"]', "data-status") == "VALID"
    assert "Negative" in blank_page.inner_text("#certificate")
    blank_page.screenshot(
        path=str(Path(tempfile.gettempdir()) / "healthcerts-verify.png"), full_page=True
    )
    assert any("/api/v1/healthcerts/documents/" in url for url in requested)
    # the key travelled only in the fragment: no request line carried it
    assert not any(key in url for url in requested)


def test_verify_page_without_javascript_uploads(
    browser: Any, module_live_server: Any, notarised_link: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{module_live_server.base_url}/verify")
    page.set_input_files("#file", str(SAMPLE))
    page.click("button[type=submit]")
    page.wait_for_selector("#verification-result")
    # the sample clinic's DNS record is in this site's table, so the clinic's own copy verifies
    assert page.inner_text("#verdict") == "This certificate is valid"
    context.close()

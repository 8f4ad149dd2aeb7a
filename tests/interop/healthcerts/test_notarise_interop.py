"""Notarised certificates against the reference packages, through a real running site.

The site runs in a uvicorn thread on a free loopback port: its OCSP responder answers
@govtechsg/oa-verify over HTTP, and its stored encrypted documents open with
@govtechsg/oa-encryption.
"""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
import uvicorn

from smartnation.app import create_app
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings, Settings, WebSettings
from smartnation.core.db import Database
from smartnation.healthcerts import config, service
from smartnation.healthcerts.openattestation import (
    HttpxOcspFetcher,
    TableTxtResolver,
    VerificationContext,
    verify_document,
)
from smartnation.registry import service as registry
from smartnation.registry.models import Business

from .conftest import FIXTURES, run_node

pytestmark = pytest.mark.interop
SAMPLE = "notarise__v2__pdt_pcr_with_nric_wrapped.json"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def site(monkeypatch_module: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    if not (FIXTURES / SAMPLE).exists():
        pytest.skip("HealthCert fixtures not found")
    folder = Path(tempfile.mkdtemp(prefix="smartnation-notarise-"))
    dns_file = folder / "dns-records.json"
    monkeypatch_module.setenv("SMARTNATION_HEALTHCERTS_DNS", str(dns_file))
    config.get_healthcerts_settings.cache_clear()
    url = f"sqlite:///{folder}/site.db"
    upgrade_database(url)
    database = Database.from_settings(DatabaseSettings(url=url))
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database=DatabaseSettings(url=url),
        web=WebSettings(base_url=base_url, secret_key="interop", embedded_worker=False),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, database), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 240
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the site did not start"
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
            session, json.loads((FIXTURES / SAMPLE).read_text()), service.Site(base_url)
        )
        reference = notarised.certificate.reference
    yield {
        "base_url": base_url,
        "database": database,
        "document": notarised.document,
        "link": notarised.link,
        "reference": reference,
        "dns": json.loads(dns_file.read_text()),
    }
    server.should_exit = True
    thread.join(timeout=10)
    config.get_healthcerts_settings.cache_clear()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    patch = pytest.MonkeyPatch()
    yield patch
    patch.undo()


def _status_fragment(fragments: list[dict[str, Any]]) -> dict[str, Any]:
    return next(f for f in fragments if f["name"] == "OpenAttestationDidSignedDocumentStatus")


def _ours(site: dict[str, Any]) -> list[dict[str, Any]]:
    context = VerificationContext(
        dns=TableTxtResolver(site["dns"]), ocsp_fetcher=HttpxOcspFetcher(timeout_seconds=5)
    )
    return [f.to_json() for f in verify_document(site["document"], context)]


def test_stored_document_decrypts_with_oa_encryption(
    node_project: Path, site: dict[str, Any]
) -> None:
    parts = urlsplit(site["link"])
    action = json.loads(parse_qs(parts.query)["q"][0])
    key = json.loads(unquote(parts.fragment))["key"]
    stored = httpx.get(action["payload"]["uri"], timeout=10).json()["document"]
    decrypted = run_node(node_project, "encryption.mjs", {"decrypt": {**stored, "key": key}})
    assert json.loads(decrypted["text"]) == site["document"]


def test_revocation_through_our_ocsp_responder_in_oa_verify_and_ours(
    node_project: Path, site: dict[str, Any]
) -> None:
    payload = {"documents": [site["document"]], "dnsRecords": site["dns"]}
    (before,) = run_node(node_project, "verify.mjs", payload)
    assert before["isValid"] is True, before
    assert _status_fragment(before["fragments"])["status"] == "VALID"
    assert _ours(site) == before["fragments"]

    with site["database"].transaction() as session:
        service.revoke(session, site["reference"], 4)

    (after,) = run_node(node_project, "verify.mjs", payload)
    assert after["isValid"] is False
    status = _status_fragment(after["fragments"])
    assert status["status"] == "INVALID"
    assert status["reason"]["code"] == 4
    assert status["reason"]["codeString"] == "SUPERSEDED"
    assert _ours(site) == after["fragments"]

"""The HealthCerts demo: a clinic registered for Notarise, its officer, and certificates that
verify end to end against the demo's DNS table (one of them revoked)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from smartnation.appointments.demo import load_demo as load_appointments_demo
from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.domains import demo_modules
from smartnation.healthcerts import config, demo, dnstable, service
from smartnation.healthcerts.models import Clinic, NotarisedCertificate, Revocation
from smartnation.healthcerts.openattestation import (
    TableTxtResolver,
    VerificationContext,
    is_valid,
    verify_document,
)
from smartnation.identity import roles
from smartnation.identity.demo import load_demo as load_identity_demo
from smartnation.registry import service as registry
from smartnation.registry.loader import load_businesses, load_population


def _load_all(database: Database) -> list[str]:
    """The demo in the order `demo load` runs it: identity and appointments before healthcerts."""
    load_identity_demo(database, 1)
    load_appointments_demo(database, 1)
    return demo.load_demo(database, 1)


def _counts(database: Database) -> tuple[int, int, int]:
    with database.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Clinic)) or 0,
            session.scalar(select(func.count()).select_from(NotarisedCertificate)) or 0,
            session.scalar(select(func.count()).select_from(Revocation)) or 0,
        )


def _library_verify(database: Database, document: Any, dns_table: Path) -> list[Any]:
    """oa-verify's checks as the library runs them: the demo's DNS table, our responder's answers."""
    ocsp_prefix = service.Site(get_settings().web.base_url).ocsp_location + "/"
    with database.transaction() as session:

        def ocsp(url: str) -> Any:
            assert url.startswith(ocsp_prefix), url
            return service.ocsp_answer(session, url.removeprefix(ocsp_prefix))

        context = VerificationContext(
            dns=TableTxtResolver(dnstable.read_table(dns_table)), ocsp_fetcher=ocsp
        )
        return verify_document(document, context)


def test_demo_certificates_verify_and_the_revoked_one_is_revoked(
    database: Database, healthcerts_settings: Any
) -> None:
    load_population(database, 120, seed=3)
    load_businesses(database, 3, seed=3)
    lines = _load_all(database)
    assert "4 certificates (1 revoked)" in lines[0]
    assert demo.CLINIC_OFFICER in lines[0]
    folder = demo.demo_folder(healthcerts_settings)
    assert folder == healthcerts_settings.dns_table_path.parent / "demo"
    assert str(folder / "links.txt") in lines[1]

    # The clinic is registered and its DNS-DID record is in the table, beside the government's.
    table_path = healthcerts_settings.dns_table_path
    table = dnstable.read_table(table_path)
    assert table[demo.CLINIC_DOMAIN] == [
        f"openatts a=dns-did; p={demo.CLINIC_DID}#controller; v=1.0;"
    ]
    assert table[healthcerts_settings.issuer_domain] == [healthcerts_settings.dns_did_record]
    with database.transaction() as session:
        (clinic,) = service.list_clinics(session)
        assert (clinic.uen, clinic.domain, clinic.status) == (
            demo.CLINIC_UEN,
            demo.CLINIC_DOMAIN,
            "active",
        )
        certificates = service.recent_certificates(session)
        assert sorted(c.kind for c in certificates) == ["PDT", "PDT", "PDT", "VAC"]
        assert all(c.clinic_id == clinic.id for c in certificates if c.kind == "PDT")
        officers = {g.nric: g.role for g in roles.list_grants(session)}
        assert officers[demo.CLINIC_OFFICER] == "healthcerts.notarise"
        officer_of = registry.businesses_of(
            session, registry.get_resident(session, demo.CLINIC_OFFICER).id
        )
        assert [b.uen for b, _ in officer_of] == [demo.CLINIC_UEN]

    # Every file verifies with the library against the DNS table: VALID, except the revoked one.
    links = (folder / "links.txt").read_text(encoding="utf-8")
    slugs = [t.slug for t in demo.TESTS] + ["vaccination-tan-ah-kow"]
    for slug in slugs:
        document = json.loads((folder / f"{slug}.json").read_text(encoding="utf-8"))
        metadata = document["data"]["notarisationMetadata"]
        link = metadata["url"].split(":", 2)[-1]  # salted: "<salt>:string:<link>"
        assert link.startswith(get_settings().web.base_url + "/verify?q=")
        assert link in links
        fragments = _library_verify(database, document, table_path)
        if slug.endswith("revoked"):
            assert not is_valid(fragments)
            (status,) = [f for f in fragments if f.name == "OpenAttestationDidSignedDocumentStatus"]
            assert status.status == "INVALID"
            assert status.reason is not None and status.reason.code_string == "SUPERSEDED"
        else:
            assert is_valid(fragments), [f.to_json() for f in fragments]
            identity = [f for f in fragments if f.type == "ISSUER_IDENTITY"]
            assert [f.status for f in identity if f.status != "SKIPPED"] == ["VALID"]
        with database.transaction() as session:
            result = service.verify(
                session, document, service.Site(get_settings().web.base_url), healthcerts_settings
            )
            assert result.valid is not slug.endswith("revoked")
        if slug.startswith("pdt-"):
            # The clinic's own signed copy, attached, verifies against the clinic's record.
            attachment = document["data"]["attachments"][0]["data"].split(":", 2)[-1]
            clinic_copy = json.loads(base64.b64decode(attachment))
            assert is_valid(_library_verify(database, clinic_copy, table_path))

    # Loading again adds nothing and fails nothing.
    before = _counts(database)
    assert demo.load_demo(database, 1) == [
        f"HealthCerts demo data is already loaded (certificates in {folder})."
    ]
    assert _counts(database) == before == (1, 4, 1)


def test_demo_republishes_a_removed_dns_table(
    database: Database, healthcerts_settings: Any
) -> None:
    load_population(database, 60, seed=4)
    _load_all(database)
    healthcerts_settings.dns_table_path.unlink()
    demo.load_demo(database, 1)
    assert demo.CLINIC_DOMAIN in dnstable.read_table(healthcerts_settings.dns_table_path)


def test_demo_needs_a_dns_table(
    database: Database, healthcerts_settings: Any, monkeypatch: Any
) -> None:
    load_population(database, 30, seed=6)
    load_identity_demo(database, 1)
    monkeypatch.setenv("SMARTNATION_HEALTHCERTS_DNS", "system")
    config.get_healthcerts_settings.cache_clear()
    assert "SMARTNATION_HEALTHCERTS_DNS=system" in demo.load_demo(database, 1)[0]
    assert _counts(database) == (0, 0, 0)


def test_demo_needs_the_identity_personas(database: Database, healthcerts_settings: Any) -> None:
    load_population(database, 30, seed=5)
    assert demo.load_demo(database, 1) == [
        "HealthCerts: no demo data (the identity demo's personas are missing)."
    ]
    assert _counts(database) == (0, 0, 0)


def test_demo_load_runs_healthcerts_after_the_demos_it_builds_on() -> None:
    order = [domain for domain, _ in demo_modules()]
    assert order.index("healthcerts") > order.index("appointments") > order.index("identity")
    assert order[0] == "identity"  # otherwise the home page order

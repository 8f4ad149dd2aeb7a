from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parents[2] / ".." / "shared" / "fixtures" / "healthcerts"
PRIVATE_KEY = "0x" + "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
ADDRESS = "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1"  # address of PRIVATE_KEY


def fixtures_dir() -> Path:
    if not (FIXTURES / "manifest.json").exists():
        pytest.skip(f"HealthCert fixtures not found at {FIXTURES.resolve()}")
    return FIXTURES


def load_fixture(name: str) -> Any:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))


def raw_document(location: str = "clinic.healthcerts.example", **extra: Any) -> dict[str, Any]:
    """A small raw OA document issued by the test key through DNS-DID."""
    document: dict[str, Any] = {
        "id": "doc-1",
        "$template": {
            "name": "HEALTH_CERT",
            "type": "EMBEDDED_RENDERER",
            "url": "https://r.example",
        },
        "issuers": [
            {
                "id": f"did:ethr:{ADDRESS}",
                "name": "Test Clinic",
                "revocation": {"type": "NONE"},
                "identityProof": {
                    "type": "DNS-DID",
                    "location": location,
                    "key": f"did:ethr:{ADDRESS}#controller",
                },
            }
        ],
    }
    document.update(extra)
    return document


DNS_TABLE = {
    "clinic.healthcerts.example": [f"openatts a=dns-did; p=did:ethr:{ADDRESS}#controller; v=1.0;"]
}


# --- Notarise: a registry with a clinic and a resident, and clinic-signed certificates ---------

FIXTURE_CLINIC_DOMAIN = "donotverify.testing.verify.gov.sg"
FIXTURE_CLINIC_DID = "did:ethr:0xE39479928Cc4EfFE50774488780B9f616bd4B830"
TEST_CLINIC_DOMAIN = "clinic.healthcerts.example"
CLINIC_UEN = "201912345R"
OTHER_UEN = "53312345C"
RESIDENT_NRIC = "S3001470G"  # the NRIC in the Notarise sample certificates


@pytest.fixture
def healthcerts_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """HealthCerts settings with the DNS table in a temporary file (what registration writes)."""
    from smartnation.healthcerts import config

    monkeypatch.setenv("SMARTNATION_HEALTHCERTS_DNS", str(tmp_path / "dns-records.json"))
    config.get_healthcerts_settings.cache_clear()
    yield config.get_healthcerts_settings()
    config.get_healthcerts_settings.cache_clear()


def add_business(session: Any, uen: str, name: str) -> None:
    from datetime import date

    from smartnation.registry.models import Business

    session.add(
        Business(
            uen=uen,
            name=name,
            entity_type="LC",
            ssic_code="86201",
            ssic_description="Clinics and other general medical services (Western)",
            registered_on=date(2019, 5, 1),
        )
    )
    session.flush()


def add_resident(
    session: Any, nric: str = RESIDENT_NRIC, sex: str = "F", born: str = "1990-01-15"
) -> Any:
    from datetime import date

    from smartnation.registry import service as registry

    return registry.register_resident(
        session,
        registry.NewResident(
            nric=nric,
            name="Tan Chen Chen",
            sex=sex,
            date_of_birth=date.fromisoformat(born),
            race="CN",
            nationality="SG",
            residential_status="C",
        ),
    )


@pytest.fixture
def notarise_world(session: Any, healthcerts_settings: Any) -> Any:
    """Two registered clinics (the sample issuer and our test key) and the sample resident."""
    from smartnation.healthcerts import service

    add_business(session, CLINIC_UEN, "MacRitchie Medical Clinic Pte Ltd")
    add_business(session, OTHER_UEN, "Test Clinic")
    add_resident(session)
    service.register_clinic(
        session, uen=CLINIC_UEN, domain=FIXTURE_CLINIC_DOMAIN, did=FIXTURE_CLINIC_DID
    )
    service.register_clinic(
        session, uen=OTHER_UEN, domain=TEST_CLINIC_DOMAIN, did=f"did:ethr:{ADDRESS}#controller"
    )
    return healthcerts_settings


def clinic_pdt(
    *,
    location: str = TEST_CLINIC_DOMAIN,
    nric: str | None = RESIDENT_NRIC,
    birth_date: str = "1990-01-15",
    gender: str = "female",
) -> dict[str, Any]:
    """A PDT v2 certificate from the sample, issued by the test key at `location`, raw."""
    raw = load_fixture("notarise__v2__pdt_pcr_with_nric_unwrapped.json")
    raw["issuers"] = [
        {
            "name": "Test Clinic",
            "id": f"did:ethr:{ADDRESS}",
            "revocation": {"type": "NONE"},
            "identityProof": {
                "type": "DNS-DID",
                "location": location,
                "key": f"did:ethr:{ADDRESS}#controller",
            },
        }
    ]
    patient = raw["fhirBundle"]["entry"][0]["resource"]
    patient["birthDate"] = birth_date
    patient["gender"] = gender
    identifiers = [i for i in patient["identifier"] if i.get("id") != "NRIC-FIN"]
    if nric is not None:
        identifiers.append({"id": "NRIC-FIN", "value": nric})
    patient["identifier"] = identifiers
    return raw


def signed_batch(raws: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wrap as one batch and sign with the test clinic's key."""
    from smartnation.healthcerts.openattestation import (
        load_private_key,
        sign_document,
        wrap_documents,
    )

    key = load_private_key(PRIVATE_KEY)
    return [sign_document(d, key, f"did:ethr:{ADDRESS}#controller") for d in wrap_documents(raws)]

"""Vaccination HealthCerts: the bundled published schema, and issuing one for a resident."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from smartnation.core.errors import InvalidInput
from smartnation.healthcerts import service
from smartnation.healthcerts.documents import validate_vaccination
from smartnation.healthcerts.endorse import VaccinationDose
from smartnation.healthcerts.openattestation import get_data
from smartnation.registry import service as registry

from .conftest import RESIDENT_NRIC, load_fixture

SITE = service.Site("http://verify.test")
DOSE = VaccinationDose(
    vaccine_code="3339641000133109",
    vaccine_name="PFIZER-BIONTECH/COMIRNATY COVID-19 Vaccine [Tozinameran] Injection",
    lot_number="EK0001",
    occurred_on="2021-03-01",
    site_id="HCI0001",
    site_name="Vaccination site approved by Ministry of Health (MOH), Singapore [HCI0001]",
)


def test_published_schema_checks_the_sample() -> None:
    sample = load_fixture("schemata__vac1_sample-data__sampleVaccineHealthCert.json")
    # the bundled schema version predates the EU DCC field that the later sample carries
    assert [p.path for p in validate_vaccination(sample)] == ["$.notarisationMetadata"]
    del sample["notarisationMetadata"]["signedEuHealthCerts"]
    assert validate_vaccination(sample) == []
    sample["fhirBundle"]["entry"][0]["birthDate"] = 19650809
    problems = validate_vaccination(sample)
    assert problems and problems[0].path.startswith("$.fhirBundle.entry[0]")


def test_vaccination_certificate_for_a_resident(session: Session, notarise_world: Any) -> None:
    resident = registry.find_resident(session, RESIDENT_NRIC)
    assert resident is not None
    second = VaccinationDose(**{**DOSE.__dict__, "occurred_on": "2021-03-22"})
    issued = service.issue_vaccination_certificate(
        session, resident.id, [DOSE, second], SITE, complete_on="2021-04-05"
    )
    data = get_data(issued.document)
    assert validate_vaccination(data) == []
    assert data["name"] == "VaccinationHealthCert"
    patient = data["fhirBundle"]["entry"][0]
    assert patient["identifier"] == [{"type": {"text": "NRIC"}, "value": "S****470G"}]
    assert [e["resourceType"] for e in data["fhirBundle"]["entry"]] == [
        "Patient",
        "Location",
        "Location",
        "Immunization",
        "Immunization",
        "ImmunizationRecommendation",
    ]
    result = service.verify(session, issued.document, SITE)
    assert result.valid, [f.to_json() for f in result.fragments]
    assert result.certificate is not None
    assert result.certificate.kind == "vaccination"
    assert result.certificate.vaccination_complete is True
    assert len(result.certificate.doses) == 2
    with pytest.raises(InvalidInput):
        service.issue_vaccination_certificate(session, resident.id, [], SITE)

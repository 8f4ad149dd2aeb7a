"""Vaccination HealthCerts: the bundled published schema, and issuing one for a resident."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from smartnation.core.errors import InvalidInput, NotFound
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


def _vaccinated(session: Session) -> Any:
    """A resident given a first dose through the appointments domain (walk-in, record dose)."""
    from datetime import timedelta

    from nas_support import make_centres, open_everyone, resident_aged

    from smartnation.appointments import service as appointments
    from smartnation.appointments.models import Slot
    from smartnation.core.clock import today_in_singapore, utcnow

    make_centres(session, days=2)
    centre = appointments.get_centre(session, "PFZ-VC")
    session.add(
        Slot(
            centre_id=centre.id,
            day=today_in_singapore(),
            starts_at=utcnow() + timedelta(minutes=20),
            capacity=5,
            booked=0,
        )
    )
    session.flush()
    person = resident_aged(session, 30, 60)
    open_everyone(session, walk_in=True)
    checked = appointments.walk_in(session, "PFZ-VC", person.nric)
    appointments.record_dose(session, checked.id, lot="EK-0001")
    session.flush()
    return person


def test_vaccination_healthcert_from_appointments_records(
    session: Session, database: Any, healthcerts_settings: Any
) -> None:
    from nas_support import people

    people(database, 60)
    person = _vaccinated(session)
    issued = service.issue_vaccination_from_records(session, person.id, SITE)
    data = get_data(issued.document)
    (immunization,) = [
        e for e in data["fhirBundle"]["entry"] if e["resourceType"] == "Immunization"
    ]
    assert immunization["lotNumber"] == "EK-0001"
    assert immunization["vaccineCode"]["coding"][0]["code"] == "3339641000133109"
    recommendation = data["fhirBundle"]["entry"][-1]["recommendation"][0]
    assert recommendation["forecastStatus"]["coding"][0]["code"] == "incomplete"
    assert service.verify(session, issued.document, SITE).valid
    other = resident_id_without_doses(session, person.id)
    with pytest.raises(NotFound) as missing:
        service.issue_vaccination_from_records(session, other, SITE)
    assert missing.value.code == "no_vaccination"


def resident_id_without_doses(session: Session, vaccinated_id: int) -> int:
    import sqlalchemy as sa

    from smartnation.registry.models import Resident

    return int(
        session.scalar(sa.select(Resident.id).where(Resident.id != vaccinated_id).limit(1)) or 0
    )


def test_vaccination_page_for_a_logged_in_resident(
    app: Any, client: Any, session: Session, database: Any, healthcerts_settings: Any
) -> None:
    import re

    from nas_support import people

    from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Public

    people(database, 60)
    person = _vaccinated(session)
    router = APIRouter(dependencies=[Public])

    @router.post("/test-login")
    def test_login(request: Request) -> dict[str, str]:
        request.session[PRINCIPAL_SESSION_KEY] = {
            "kind": "person",
            "id": person.nric,
            "name": person.name,
            "roles": [],
            "attributes": {"nric": person.nric},
        }
        return {"ok": "yes"}

    app.include_router(router)
    assert client.get("/healthcerts/vaccination", follow_redirects=False).status_code in (302, 303)
    assert client.post("/test-login").status_code == 200
    page = client.get("/healthcerts/vaccination")
    assert page.status_code == 200 and "EK-0001" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    issued = client.post("/healthcerts/vaccination", data={"csrf_token": token.group(1)})
    assert issued.status_code == 201, issued.text
    assert "data:image/png;base64," in issued.text and 'id="verify-link"' in issued.text

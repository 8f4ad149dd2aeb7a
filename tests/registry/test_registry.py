"""Registry service and API on both databases."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from smartnation.core.audit import AuditEvent, history
from smartnation.core.db import Database
from smartnation.core.errors import Conflict, InvalidInput, NotFound
from smartnation.core.web.auth import issue_api_token
from smartnation.registry import service
from smartnation.registry.loader import load_businesses, load_population
from smartnation.registry.models import Resident


@pytest.fixture
def population(database: Database) -> Database:
    load_population(database, 300, seed=5)
    load_businesses(database, 5, seed=5)
    return database


def _some_resident(database: Database) -> Resident:
    with database.transaction() as session:
        return session.scalars(sa.select(Resident).order_by(Resident.id).limit(1)).one()


def test_load_population_and_look_people_up(population: Database) -> None:
    person = _some_resident(population)
    with population.transaction() as session:
        found = service.get_resident(session, person.nric.lower())
        assert found.name == person.name
        assert found.address is not None
        assert service.counts(session).residents == 300
        assert service.counts(session).businesses == 5


def test_lookup_of_an_unknown_but_valid_nric_is_not_found(population: Database) -> None:
    with population.transaction() as session, pytest.raises(NotFound):
        service.get_resident(session, "S8888888Z")


def test_register_resident_validates_every_field_and_audits(population: Database) -> None:
    new = service.NewResident(
        nric="S8888888Z",
        name="  TAN   AH KOW ",
        sex="M",
        date_of_birth=date(1950, 5, 1),
        race="CN",
        nationality="SG",
        residential_status="C",
        mobile="91234567",
    )
    with population.transaction() as session:
        resident = service.register_resident(session, new)
        assert resident.name == "TAN AH KOW"
        assert resident.mobile == "+6591234567"
        assert [e.action for e in history(session, "resident", resident.id)] == [
            "registry.resident.registered"
        ]
    with population.transaction() as session, pytest.raises(Conflict):
        service.register_resident(session, new)
    bad = service.NewResident(
        nric="S8888888Z",
        name="X",
        sex="Q",
        date_of_birth=date(1950, 5, 1),
        race="CN",
        nationality="SG",
        residential_status="C",
    )
    with population.transaction() as session, pytest.raises(InvalidInput) as raised:
        service.register_resident(session, bad)
    assert raised.value.problems[0].field == "sex"


def test_a_failed_change_leaves_no_audit_entry(population: Database) -> None:
    with population.transaction() as session:
        before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    with pytest.raises(InvalidInput), population.transaction() as session:
        service.update_contact(session, _some_resident(population).nric, mobile="123")
    with population.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before


def _token(database: Database, *roles: str) -> dict[str, str]:
    with database.transaction() as session:
        secret = issue_api_token(session, "test agency", list(roles))
    return {"authorization": f"Bearer {secret}"}


def test_api_lookup_with_a_token_holding_the_role(population: Database, client: TestClient) -> None:
    person = _some_resident(population)
    response = client.get(
        f"/api/v1/registry/residents/{person.nric}", headers=_token(population, "registry.read")
    )
    assert response.status_code == 200
    assert response.json()["nric"] == person.nric


def test_api_refuses_a_token_without_the_role(population: Database, client: TestClient) -> None:
    response = client.get(
        "/api/v1/registry/residents/S1234567D", headers=_token(population, "messaging.send")
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_api_invalid_nric_names_the_field(population: Database, client: TestClient) -> None:
    response = client.get(
        "/api/v1/registry/residents/S1234567A", headers=_token(population, "registry.read")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [
        {
            "field": "nric",
            "message": "The last letter does not match the NRIC/FIN number.",
            "code": "checksum",
        }
    ]


def test_api_register_with_bad_postal_code_and_phone(
    population: Database, client: TestClient
) -> None:
    response = client.post(
        "/api/v1/registry/residents",
        headers=_token(population, "registry.write"),
        json={
            "nric": "S8888888Z",
            "name": "LIM",
            "sex": "F",
            "date_of_birth": "1990-01-01",
            "race": "CN",
            "nationality": "SG",
            "residential_status": "C",
            "postal_code": "749999",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "postal_code"
    wrong_type = client.post(
        "/api/v1/registry/residents",
        headers=_token(population, "registry.write"),
        json={"nric": 5, "date_of_birth": "yesterday"},
    )
    assert wrong_type.status_code == 422
    fields = {e["field"] for e in wrong_type.json()["errors"]}
    assert {"nric", "date_of_birth", "name"} <= fields


def test_business_lookup_lists_officers(population: Database, client: TestClient) -> None:
    with population.transaction() as session:
        uen = session.execute(sa.text("SELECT uen FROM registry_business LIMIT 1")).scalar_one()
    response = client.get(
        f"/api/v1/registry/businesses/{uen}", headers=_token(population, "registry.read")
    )
    assert response.status_code == 200
    roles = sorted(o["role"] for o in response.json()["officers"])
    assert roles == ["director", "secretary"]

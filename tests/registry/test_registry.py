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
from smartnation.registry.generator import building_count, generate_residents
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


def test_names_by_id_in_one_query_leaves_out_unknown_ids(population: Database) -> None:
    with population.transaction() as session:
        people = session.scalars(sa.select(Resident).order_by(Resident.id).limit(3)).all()
        wanted = [p.id for p in people] + [people[0].id, 10**12]
        assert service.names_by_id(session, wanted) == {p.id: p.name for p in people}
        assert service.names_by_id(session, []) == {}


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


def _schema_of(connection: sa.Connection, table: str) -> list[tuple[str, str]]:
    return sorted(
        connection.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            f"WHERE conrelid = '{table}'::regclass UNION ALL "
            f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{table}'"
        ).all()
    )


def test_large_load_builds_indexes_afterwards_to_the_same_end_state(
    database: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("COPY and index rebuilding are PostgreSQL's")
    with database.connection() as connection:
        before = _schema_of(connection, "registry_resident")
    steps: list[str] = []
    loaded = load_population(database, 2000, seed=3, rebuild_indexes=True, step=steps.append)
    assert loaded == 2000
    assert steps == ["Building indexes", "Analysing"]
    with database.connection() as connection:
        assert _schema_of(connection, "registry_resident") == before
        # The foreign key and unique constraint are back and enforced.
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            connection.exec_driver_sql(
                "UPDATE registry_resident SET postal_code = '999999' WHERE id = "
                "(SELECT min(id) FROM registry_resident)"
            )
        with pytest.raises(sa.exc.IntegrityError), connection.begin_nested():
            connection.exec_driver_sql(
                "UPDATE registry_resident SET nric = (SELECT max(nric) FROM registry_resident) "
                "WHERE id = (SELECT min(id) FROM registry_resident)"
            )


def test_a_failed_load_leaves_nothing_behind(database: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("COPY and index rebuilding are PostgreSQL's")
    with database.connection() as connection:
        before = _schema_of(connection, "registry_resident")

    def fail(done: int) -> None:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        load_population(database, 1000, seed=3, rebuild_indexes=True, progress=fail)
    with database.connection() as connection:
        assert _schema_of(connection, "registry_resident") == before
        assert connection.exec_driver_sql("SELECT count(*) FROM registry_resident").scalar() == 0


def test_loading_on_both_databases_gives_the_same_people(database: Database) -> None:
    load_population(database, 400, seed=4, workers=0)
    with database.transaction() as session:
        stored = session.execute(
            sa.select(
                Resident.nric, Resident.name, Resident.date_of_birth, Resident.mobile
            ).order_by(Resident.id)
        ).all()
    expected = [
        (r[0], r[1], r[3], r[11]) for r in generate_residents(4, 0, 400, building_count(400))
    ]
    assert [tuple(row) for row in stored] == expected

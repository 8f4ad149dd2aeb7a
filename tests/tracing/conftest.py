"""Fixtures for the tracing domain tests: people in the registry, logged-in officers, phones."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core.db import Database
from smartnation.core.validators import nric_check_letter
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal, public
from smartnation.messaging.models import Message
from smartnation.registry import service as registry
from smartnation.registry.loader import _uen_for
from smartnation.registry.models import Business
from smartnation.tracing.settings import get_tracing_settings


def make_nric(number: int, prefix: str = "S") -> str:
    digits = f"{number:07d}"
    return prefix + digits + nric_check_letter(prefix, digits)


@dataclass
class Person:
    id: int
    nric: str
    name: str
    mobile: str


_counter = iter(range(1_000_000))


@pytest.fixture
def add_person(session: Session) -> Callable[..., Person]:
    """Register a resident (with a mobile) in the registry."""

    def add(name: str | None = None) -> Person:
        n = next(_counter)
        nric = make_nric(7_100_000 + n)
        mobile = f"+659{n % 10_000_000:07d}"
        resident = registry.register_resident(
            session,
            registry.NewResident(
                nric=nric,
                name=name or f"Person {n}",
                sex="F",
                date_of_birth=date(1980, 1, 1),
                race="CN",
                nationality="SG",
                residential_status="C",
                mobile=mobile,
            ),
        )
        return Person(resident.id, nric, resident.name, mobile)

    return add


@pytest.fixture
def add_business(session: Session) -> Callable[[str], Business]:
    def add(name: str) -> Business:
        business = Business(
            uen=_uen_for(next(_counter) + 10),
            name=name,
            entity_type="LC",
            ssic_code="56111",
            ssic_description="Restaurants",
            registered_on=date(2010, 1, 1),
            status="live",
        )
        session.add(business)
        session.flush()
        return business

    return add


def login_router() -> APIRouter:
    """A test-only route that puts a principal in the session, as the identity domain would."""
    router = APIRouter(dependencies=[Depends(public)])

    @router.post("/test/login")
    def login(request: Request, body: dict[str, Any]) -> dict[str, str]:
        principal = Principal(
            "person",
            body["id"],
            body.get("name", "Test"),
            frozenset(body.get("roles", [])),
            body.get("attributes", {}),
        )
        request.session[PRINCIPAL_SESSION_KEY] = principal.to_session()
        return {"ok": "yes"}

    return router


@pytest.fixture
def login(app: FastAPI) -> Callable[..., None]:
    app.include_router(login_router())

    def log_in(
        client: TestClient, roles: list[str], person_id: str = "officer-1", nric: str | None = None
    ) -> None:
        attributes = {"nric": nric} if nric else {}
        response = client.post(
            "/test/login",
            json={"id": person_id, "name": person_id, "roles": roles, "attributes": attributes},
        )
        assert response.status_code == 200, response.text

    return log_in


@pytest.fixture
def officer(app: FastAPI, login: Callable[..., None]) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        login(client, ["health.officer"])
        yield client


def last_code(session: Session, phone: str) -> str:
    body = session.scalars(
        select(Message.body).where(Message.recipient == phone).order_by(Message.id.desc())
    ).first()
    assert body is not None
    match = re.search(r"\b(\d{6})\b", body)
    assert match
    return match.group(1)


@pytest.fixture
def register_phone(client: TestClient, database: Database) -> Callable[[Person], dict[str, str]]:
    """Register a person's phone through the API: start, read the SMS, verify."""

    def register(person: Person, kind: str = "app") -> dict[str, str]:
        body: dict[str, Any] = {"nric": person.nric, "phone": person.mobile, "kind": kind}
        if kind == "token":
            body["token_serial"] = "TT0001"
        started = client.post("/api/v1/tracing/registrations", json=body)
        assert started.status_code == 201, started.text
        with database.transaction() as session:
            code = last_code(session, person.mobile)
        verified = client.post(
            f"/api/v1/tracing/registrations/{started.json()['registration_id']}/verify",
            json={"code": code},
        )
        assert verified.status_code == 200, verified.text
        return dict(verified.json())

    return register


@pytest.fixture
def tracing_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Change tracing settings for one test."""

    def change(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"SMARTNATION_TRACING_{name.upper()}", value)
        get_tracing_settings.cache_clear()

    yield change
    get_tracing_settings.cache_clear()

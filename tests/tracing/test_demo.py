"""The tracing demo: venues, check-ins and a case with a contact list ready for review."""

from __future__ import annotations

from sqlalchemy import select

from smartnation.core.db import Database
from smartnation.registry.loader import load_businesses, load_population
from smartnation.tracing import service
from smartnation.tracing.demo import load_demo
from smartnation.tracing.models import Case


def test_demo_gives_a_case_to_review(database: Database) -> None:
    load_population(database, 120, seed=3)
    load_businesses(database, 5, seed=3)
    lines = load_demo(database, 1)
    assert "3 SafeEntry venues" in lines[0]
    with database.transaction() as session:
        case = session.scalars(select(Case)).one()
        assert case.resolution == "resolved"
        assert f"/tracing/cases/{case.id}/contacts" in lines[1]
        contacts = service.view_contacts(session, case.id, per_page=100).contacts
    sources = {contact.sources for contact in contacts}
    assert {"bluetrace", "safeentry"} <= sources
    close = [c for c in contacts if c.is_close]
    assert len(close) == 2 and all(c.sources == "bluetrace" for c in close)
    assert [c.rank for c in contacts] == list(range(1, len(contacts) + 1))
    assert sum(c.sources == "safeentry" for c in contacts) == 4
    assert load_demo(database, 1) == ["Tracing demo data is already loaded."]

"""The demo data and the `smartnation appointments` commands."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from nas_support import people
from typer.testing import CliRunner

from smartnation.appointments import service
from smartnation.appointments.cli import app as cli_app
from smartnation.appointments.demo import load_demo
from smartnation.core.clock import today_in_singapore
from smartnation.core.config import get_settings
from smartnation.core.db import Database


def test_demo_gives_someone_to_book_as(database: Database) -> None:
    people(database, 400)
    lines = load_demo(database, 1)
    assert "invited" in lines[0]
    nric, code = lines[1].split(" as ")[1].split(" with booking code ")
    with database.transaction() as session:
        invitation = service.find_invitation(session, nric, code)
        assert invitation.status == "sent"
        assert len(service.list_centres(session)) == 3


def test_cli_releases_opens_and_invites(
    fresh_database: Database, fresh_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    people(fresh_database, 200)
    load_demo(fresh_database, 1)
    monkeypatch.setenv("SMARTNATION_DATABASE_URL", fresh_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        day = (today_in_singapore() + timedelta(days=60)).isoformat()
        released = runner.invoke(cli_app, ["deliver", "JE-CC", day, "100"])
        assert released.exit_code == 0 and "Released 100 places" in released.output
        unknown = runner.invoke(cli_app, ["deliver", "NOPE", day, "100"])
        assert unknown.exit_code == 1
        opened = runner.invoke(cli_app, ["open", "everyone"])
        assert opened.exit_code == 0
        invited = runner.invoke(cli_app, ["invite", "everyone", "--limit", "5"])
        assert invited.exit_code == 0 and "Invited" in invited.output
        assert runner.invoke(cli_app, ["remind"]).exit_code == 0
    finally:
        get_settings.cache_clear()
    with fresh_database.transaction() as session:
        assert (
            session.scalar(
                sa.text("SELECT count(*) FROM appointments_cohort WHERE opened_at IS NOT NULL")
            )
            == 2
        )

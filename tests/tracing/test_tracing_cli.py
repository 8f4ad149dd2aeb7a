"""The `smartnation tracing` commands."""

from __future__ import annotations

import base64
import json

import pytest
from typer.testing import CliRunner

from smartnation.tracing.bluetrace import Keyring, decrypt_tempid
from smartnation.tracing.cli import app

KEY = base64.b64encode(bytes(range(32))).decode()
OTHER = base64.b64encode(bytes(32)).decode()
UID = "abcdefghijklmnopqrstuvwxyz12"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("SMARTNATION_TRACING_KEYS", raising=False)
    monkeypatch.delenv("SMARTNATION_ENVIRONMENT", raising=False)
    return CliRunner()


def test_tempids_json_is_the_gettempids_response(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["tempids", "--uid", UID, "--count", "3", "--json", "--now", "2020-05-20T18:40:00.789Z"],
        env={"SMARTNATION_TRACING_KEYS": KEY},
    )
    assert result.exit_code == 0, result.output
    response = json.loads(result.stdout)
    assert list(response) == ["status", "tempIDs", "refreshTime"]
    assert response["status"] == "SUCCESS"
    assert response["refreshTime"] == 1590000000 + 43200
    assert [t["startTime"] for t in response["tempIDs"]] == [1589999940, 1590000840, 1590001740]
    ring = Keyring.of([base64.b64decode(KEY)])
    for entry in response["tempIDs"]:
        assert list(entry) == ["tempID", "startTime", "expiryTime"]
        assert decrypt_tempid(ring, entry["tempID"]).start_time == entry["startTime"]
    assert "DEVELOPMENT" not in result.stderr


def test_decrypt_roundtrip_and_rotation(runner: CliRunner) -> None:
    issued = runner.invoke(app, ["tempids", "--uid", UID, "--count", "1", "--json"], env={
        "SMARTNATION_TRACING_KEYS": OTHER})  # fmt: skip
    tempid = json.loads(issued.stdout)["tempIDs"][0]["tempID"]
    opened = runner.invoke(
        app, ["decrypt", tempid, "--json"], env={"SMARTNATION_TRACING_KEYS": f"{KEY},{OTHER}"}
    )
    assert opened.exit_code == 0
    assert json.loads(opened.stdout)["uid"] == UID
    assert list(json.loads(opened.stdout)) == ["uid", "startTime", "expiryTime"]
    human = runner.invoke(app, ["decrypt", tempid], env={"SMARTNATION_TRACING_KEYS": OTHER})
    assert UID in human.stdout


def test_decrypt_fails_clearly_when_no_key_opens_it(runner: CliRunner) -> None:
    issued = runner.invoke(app, ["tempids", "--uid", UID, "--count", "1", "--json"])
    tempid = json.loads(issued.stdout)["tempIDs"][0]["tempID"]
    result = runner.invoke(
        app, ["decrypt", tempid, "--json"], env={"SMARTNATION_TRACING_KEYS": KEY}
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no configured key opens this TempID" in result.stderr
    garbage = runner.invoke(app, ["decrypt", "not-a-tempid"], env={"SMARTNATION_TRACING_KEYS": KEY})
    assert garbage.exit_code == 1 and "84 characters" in garbage.stderr


def test_development_key_is_announced_and_refused_in_production(runner: CliRunner) -> None:
    result = runner.invoke(app, ["tempids", "--uid", UID, "--count", "1", "--json"])
    assert result.exit_code == 0
    assert "DEVELOPMENT" in result.stderr and "production" in result.stderr
    json.loads(result.stdout)  # the warning stays off standard output
    refused = runner.invoke(
        app, ["tempids", "--uid", UID, "--json"], env={"SMARTNATION_ENVIRONMENT": "production"}
    )
    assert refused.exit_code == 1 and "SMARTNATION_TRACING_KEYS" in refused.stderr


def test_bad_configuration_and_input(runner: CliRunner) -> None:
    bad_key = runner.invoke(app, ["tempids", "--uid", UID], env={"SMARTNATION_TRACING_KEYS": "xx"})
    assert bad_key.exit_code == 1 and "key 1 of 1" in bad_key.stderr
    bad_uid = runner.invoke(
        app, ["tempids", "--uid", "short"], env={"SMARTNATION_TRACING_KEYS": KEY}
    )
    assert bad_uid.exit_code == 1 and "28" in bad_uid.stderr
    bad_now = runner.invoke(
        app, ["tempids", "--uid", UID, "--now", "soon"], env={"SMARTNATION_TRACING_KEYS": KEY}
    )
    assert bad_now.exit_code == 1 and "ISO 8601" in bad_now.stderr


def test_table_output_and_keygen(runner: CliRunner) -> None:
    table = runner.invoke(
        app, ["tempids", "--uid", UID, "--count", "2"], env={"SMARTNATION_TRACING_KEYS": KEY}
    )
    assert table.exit_code == 0 and "startTime" in table.stdout
    key = runner.invoke(app, ["keygen"]).stdout.strip()
    assert len(base64.b64decode(key, validate=True)) == 32

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from smartnation.healthcerts.cli import app

from .conftest import ADDRESS, DNS_TABLE, PRIVATE_KEY, fixtures_dir, raw_document

runner = CliRunner()


def test_verify_fixture_json(tmp_path: Path) -> None:
    base = fixtures_dir()
    result = runner.invoke(
        app,
        [
            "verify",
            str(base / "notarise__v2__pdt_pcr_with_nric_wrapped.json"),
            "--dns-records",
            str(base / "dns_records.json"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    fragments = json.loads(result.stdout)
    assert fragments[0] == {
        "name": "OpenAttestationHash",
        "type": "DOCUMENT_INTEGRITY",
        "status": "VALID",
    }
    assert fragments[1]["reason"]["codeString"] == "SKIPPED"


def test_wrap_sign_obfuscate_verify(tmp_path: Path) -> None:
    raw, wrapped, signed = tmp_path / "raw", tmp_path / "wrapped", tmp_path / "signed"
    raw.mkdir()
    for i in range(3):
        (raw / f"cert-{i}.json").write_text(
            json.dumps(raw_document(id=str(i), recipient={"name": "A", "x": i}))
        )
    assert runner.invoke(app, ["wrap", str(raw), "--output-dir", str(wrapped)]).exit_code == 0
    key = tmp_path / "key.txt"
    key.write_text(PRIVATE_KEY)
    result = runner.invoke(
        app,
        [
            "sign",
            str(wrapped),
            "--key-file",
            str(key),
            "--public-key",
            f"did:ethr:{ADDRESS}#controller",
            "--output-dir",
            str(signed),
        ],
    )
    assert result.exit_code == 0, result.output
    dns = tmp_path / "dns.json"
    dns.write_text(json.dumps(DNS_TABLE))
    hidden = tmp_path / "hidden.json"
    result = runner.invoke(
        app,
        [
            "obfuscate",
            str(signed / "cert-1.json"),
            "--fields",
            "recipient.x",
            "--output",
            str(hidden),
        ],
    )
    assert result.exit_code == 0, result.output
    for path in [*sorted(signed.iterdir()), hidden]:
        result = runner.invoke(app, ["verify", str(path), "--dns-records", str(dns)])
        assert result.exit_code == 0, result.output
        assert "VALID" in result.output


def test_bad_input_gives_clear_errors(tmp_path: Path) -> None:
    truncated = fixtures_dir() / "notarise__v2__pdt_invalid_wrapped.json"
    result = runner.invoke(app, ["verify", str(truncated)])
    assert result.exit_code == 2 and "not valid JSON" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    result = runner.invoke(app, ["verify", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "does not exist" in result.output
    bad_raw = tmp_path / "raw"
    bad_raw.mkdir()
    (bad_raw / "a.json").write_text(json.dumps({"no": "issuers"}))
    result = runner.invoke(app, ["wrap", str(bad_raw), "--output-dir", str(tmp_path / "out")])
    assert result.exit_code == 2 and "cannot wrap" in result.output
    key = tmp_path / "key"
    key.write_text("not a key")
    result = runner.invoke(
        app,
        [
            "sign",
            str(bad_raw),
            "--key-file",
            str(key),
            "--public-key",
            "x",
            "--output-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "64 hexadecimal" in result.output
    weird = tmp_path / "weird.json"
    weird.write_text("[1, 2, 3]")
    result = runner.invoke(app, ["verify", str(weird), "--json"])
    assert result.exit_code == 1
    assert all(f["status"] == "SKIPPED" for f in json.loads(result.stdout))

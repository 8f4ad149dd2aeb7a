"""Every document in the shared manifest gives the fragments the reference verifier gave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smartnation.healthcerts.documents import schema_problems
from smartnation.healthcerts.openattestation import (
    TableTxtResolver,
    VerificationContext,
    is_valid,
    unsalt_data,
    verify_document,
)
from smartnation.healthcerts.openattestation.schema import is_wrapped_v2
from smartnation.healthcerts.openattestation.verify import document_integrity_holds

from .conftest import FIXTURES, fixtures_dir


def _manifest_entries() -> list[dict[str, Any]]:
    path = FIXTURES / "manifest.json"
    if not path.exists():
        return []
    return [f for f in json.loads(path.read_text())["fixtures"] if f.get("kind") != "aux"]


@pytest.fixture(scope="module")
def context() -> VerificationContext:
    return VerificationContext(
        dns=TableTxtResolver.from_json_file(fixtures_dir() / "dns_records.json")
    )


@pytest.mark.parametrize("entry", _manifest_entries(), ids=lambda e: e["file"])
def test_fixture_gives_expected_fragments(
    entry: dict[str, Any], context: VerificationContext
) -> None:
    text = (fixtures_dir() / entry["file"]).read_text(encoding="utf-8")
    expected = entry["expected"]
    if expected.get("parse") == "error":
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
        return
    document = json.loads(text)
    if "fragments_offline" in expected:
        fragments = verify_document(document, context)
        assert {f.name: f.summary for f in fragments} == expected["fragments_offline"]
        assert is_valid(fragments) == expected["isValid_offline"]
        assert is_wrapped_v2(document) == expected["validateSchema(OA v2)"]
        assert document_integrity_holds(document) == expected["verifySignature(hash+merkle)"]
    schema = expected.get("pdt_healthcert_v2_schema(unsalted data)")
    if schema:
        data = unsalt_data(document["data"]) if "data" in document else document
        assert (not schema_problems(data, "pdt-clinic")) == schema["clinic_provider_schema"]
        assert (not schema_problems(data, "pdt-endorsed")) == schema["endorsed_schema"]
        first = [p.message for p in schema_problems(data, "pdt-clinic")][:2]
        if not schema["clinic_provider_schema"]:
            assert first == schema["first_errors"][: len(first)]


def _ocsp_document() -> dict[str, Any]:
    return json.loads(
        (fixtures_dir() / "notarise__v2__pdt_pcr_notarized_with_ocsp_valid.json").read_text()
    )


def test_ocsp_not_revoked_is_valid(context: VerificationContext) -> None:
    document = _ocsp_document()
    urls: list[str] = []

    def responder(url: str) -> Any:
        urls.append(url)
        return {"revoked": False, "documentHash": url.rsplit("/", 1)[1]}

    ctx = VerificationContext(dns=context.dns, ocsp_fetcher=responder)
    fragments = verify_document(document, ctx)
    assert is_valid(fragments)
    target = document["signature"]["targetHash"]
    assert urls[0] == f"https://ocsp-responder.stg.notarise.io/0x{target}"
    assert len(urls) == 1 + len(document["signature"]["proof"])


def test_ocsp_revoked_carries_reason_code(context: VerificationContext) -> None:
    document = json.loads(
        (fixtures_dir() / "notarise__v2__pdt_pcr_notarized_with_ocsp_revoked.json").read_text()
    )
    ctx = VerificationContext(
        dns=context.dns,
        ocsp_fetcher=lambda url: {"revoked": True, "documentHash": "x", "reasonCode": 4},
    )
    status = verify_document(document, ctx)[3]
    assert status.status == "INVALID"
    assert status.reason is not None
    assert (status.reason.code, status.reason.code_string) == (4, "SUPERSEDED")


@pytest.mark.parametrize(
    "answer", [{"revoked": "no"}, "<html>", {"revoked": True, "documentHash": "x", "reasonCode": 7}]
)
def test_ocsp_unusable_answer_is_error(answer: Any, context: VerificationContext) -> None:
    ctx = VerificationContext(dns=context.dns, ocsp_fetcher=lambda url: answer)
    status = verify_document(_ocsp_document(), ctx)[3]
    assert status.summary == "ERROR:OCSP_RESPONSE_INVALID"


def test_fixture_path_is_outside_the_repository() -> None:
    assert Path(fixtures_dir()).resolve().parts[-3:] == ("shared", "fixtures", "healthcerts")

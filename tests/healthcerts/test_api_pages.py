"""Notarise and Verify over HTTP: the API, the OCSP responder, the storage and the pages."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from smartnation.core.web.auth import issue_api_token

from .conftest import clinic_pdt, load_fixture, signed_batch

SAMPLE = "notarise__v2__pdt_pcr_with_nric_wrapped.json"


@pytest.fixture
def officer(session: Session, notarise_world: Any) -> dict[str, str]:
    token = issue_api_token(session, "Notarise officer", ["healthcerts.admin"])
    return {"authorization": f"Bearer {token}"}


def _post_json(client: TestClient, path: str, body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        path, content=body, headers={"content-type": "application/json", **(headers or {})}
    )


def test_notarise_api_returns_document_link_and_qr(
    client: TestClient, officer: dict[str, str]
) -> None:
    response = _post_json(
        client, "/api/v1/healthcerts/notarise", json.dumps(load_fixture(SAMPLE)).encode(), officer
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["qrCode"]["png"].startswith("data:image/png;base64,")
    assert body["qrCode"]["svg"].lstrip().startswith("<svg")
    action = json.loads(parse_qs(urlsplit(body["url"]).query)["q"][0])
    storage_path = urlsplit(action["payload"]["uri"]).path
    stored = client.get(storage_path)
    assert stored.status_code == 200
    assert stored.headers["access-control-allow-origin"] == "*"
    assert set(stored.json()["document"]) == {"cipherText", "iv", "tag", "type"}

    verified = _post_json(
        client, "/api/v1/healthcerts/verify", json.dumps(body["document"]).encode()
    )
    assert verified.status_code == 200
    assert verified.json()["valid"] is True
    assert [c["status"] for c in verified.json()["checks"]] == ["VALID", "VALID", "VALID"]

    reference = body["reference"]
    revoked = client.post(
        f"/api/v1/healthcerts/certificates/{reference}/revocation",
        json={"reasonCode": 1},
        headers=officer,
    )
    assert revoked.status_code == 201 and revoked.json()["revoked"] is True
    target = body["document"]["signature"]["targetHash"]
    ocsp = client.get(f"/api/v1/healthcerts/ocsp/0x{target}")
    assert ocsp.json() == {"revoked": True, "documentHash": f"0x{target}", "reasonCode": 1}
    verified = _post_json(
        client, "/api/v1/healthcerts/verify", json.dumps(body["document"]).encode()
    )
    assert verified.json()["valid"] is False
    assert client.get("/api/v1/healthcerts/ocsp/zz").status_code == 422


def test_notarise_api_refusals_are_problems(client: TestClient, officer: dict[str, str]) -> None:
    (document,) = signed_batch([clinic_pdt(birth_date="1991-02-02")])
    response = _post_json(
        client, "/api/v1/healthcerts/notarise", json.dumps(document).encode(), officer
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["code"] == "birth_date_mismatch"
    assert _post_json(client, "/api/v1/healthcerts/notarise", b"{}").status_code == 401


def test_batch_api(client: TestClient, officer: dict[str, str]) -> None:
    documents = signed_batch([clinic_pdt(), clinic_pdt(gender="male")])
    response = _post_json(
        client,
        "/api/v1/healthcerts/notarise/batch",
        json.dumps({"documents": documents}).encode(),
        officer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["notarised"], body["refused"]) == (1, 1)
    assert body["results"][1]["errors"][0]["code"] == "sex_mismatch"
    bad = _post_json(client, "/api/v1/healthcerts/notarise/batch", b'{"documents": 3}', officer)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "body",
    [
        b'{"version": "https://schema.openattestation.com/2.0/schema.json", "data": {',
        b"\xff\xfe\x00garbage",
        b"",
        b"NaN",
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=["truncated", "binary", "empty", "nan", "deep"],
)
def test_verify_api_refuses_unreadable_json(client: TestClient, body: bytes) -> None:
    response = _post_json(client, "/api/v1/healthcerts/verify", body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_verify_api_refuses_huge_uploads(client: TestClient, healthcerts_settings: Any) -> None:
    huge = b'{"a": "' + b"x" * (healthcerts_settings.max_upload_bytes + 10) + b'"}'
    response = _post_json(client, "/api/v1/healthcerts/verify", huge)
    assert response.status_code == 413
    assert "KiB" in response.json()["detail"]


def _with_data(**changes: Any) -> Any:
    """A change to the sample certificate, applied inside the test (the sample is a fixture
    file of ../shared: read at collection time, its absence would stop the whole module)."""

    def changed() -> dict[str, Any]:
        document = load_fixture(SAMPLE)
        document.update({k: v(document) if callable(v) else v for k, v in changes.items()})
        return document

    return changed


def _root_with_zz(document: dict[str, Any]) -> dict[str, Any]:
    return {**document["signature"], "merkleRoot": document["signature"]["merkleRoot"] + "zz"}


@pytest.mark.parametrize(
    "document",
    [
        {"data": "wrong type"},
        [1, 2, 3],
        "a string",
        12,
        None,
        _with_data(data={"a.b": "x", "issuers": []}),
        _with_data(signature=_root_with_zz),
        _with_data(signature={"type": "SHA3MerkleProof", "targetHash": "nothex", "proof": [1]}),
    ],
    ids=["data-string", "list", "string", "number", "null", "dotted-key", "root-zz", "bad-sig"],
)
def test_verify_api_gives_invalid_results_for_wrong_documents(
    client: TestClient, healthcerts_settings: Any, document: Any
) -> None:
    if callable(document):
        document = document()
    response = _post_json(client, "/api/v1/healthcerts/verify", json.dumps(document).encode())
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is False
    assert {f["status"] for f in response.json()["fragments"]} <= {
        "VALID",
        "INVALID",
        "ERROR",
        "SKIPPED",
    }


def test_verify_api_unknown_issuer(client: TestClient, healthcerts_settings: Any) -> None:
    # the sample clinic is not in this site's DNS table: identity fails, nothing crashes
    response = _post_json(
        client, "/api/v1/healthcerts/verify", json.dumps(load_fixture(SAMPLE)).encode()
    )
    body = response.json()
    assert body["valid"] is False
    assert [c["status"] for c in body["checks"]] == ["VALID", "VALID", "INVALID"]


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "valid_words", "negative"),
    [
        ("en", "This certificate is valid", "Negative"),
        ("zh", "此证书有效", "阴性"),
        ("ms", "Sijil ini sah", "Negatif"),
        ("ta", "இந்தச் சான்றிதழ் செல்லுபடியானது", "எதிர்மறை"),
    ],
)
def test_verify_page_upload_shows_checks_and_certificate(
    client: TestClient,
    session: Session,
    notarise_world: Any,
    language: str,
    valid_words: str,
    negative: str,
) -> None:
    from smartnation.healthcerts import service

    site = service.Site(client.app.state.settings.web.base_url)  # type: ignore[attr-defined]
    notarised = service.notarise(session, load_fixture(SAMPLE), site)
    client.cookies.set("lang", language)
    token = _csrf(client, "/verify")
    response = client.post(
        "/verify",
        data={"csrf_token": token},
        files={"file": ("cert.json", json.dumps(notarised.document), "application/json")},
    )
    assert response.status_code == 200, response.text
    assert valid_words in response.text
    assert "Tan Chen Chen" in response.text
    assert negative in response.text
    assert 'data-status="VALID"' in response.text


def test_verify_page_refuses_bad_files_with_a_message(
    client: TestClient, healthcerts_settings: Any
) -> None:
    token = _csrf(client, "/verify")
    truncated = client.post(
        "/verify",
        data={"csrf_token": token},
        files={"file": ("cert.json", b'{"data": {"a":', "application/json")},
    )
    assert truncated.status_code == 422
    assert "not valid JSON" in truncated.text
    assert 'id="problem"' in truncated.text
    nothing = client.post("/verify", data={"csrf_token": token})
    assert nothing.status_code == 422
    huge = client.post(
        "/verify",
        data={"csrf_token": token},
        files={"file": ("cert.json", b"x" * (healthcerts_settings.max_upload_bytes + 70_000))},
    )
    assert huge.status_code == 413
    assert "too large" in huge.text
    pasted = client.post("/verify", data={"csrf_token": token, "document": '{"data": 5}'})
    assert pasted.status_code == 200
    assert "This certificate is not valid" in pasted.text


def test_verify_script_is_served(client: TestClient) -> None:
    script = client.get("/healthcerts/static/verify.js")
    assert script.status_code == 200
    assert "crypto.subtle" in script.text
    assert script.headers["content-type"].startswith("text/javascript")


def test_officer_pages(client: TestClient, officer: dict[str, str], session: Session) -> None:
    client.headers.update(officer)
    page = client.get("/healthcerts")
    assert page.status_code == 200
    token = _csrf(client, "/healthcerts")
    notarised = client.post(
        "/healthcerts/notarise",
        data={"csrf_token": token},
        files={"file": ("cert.json", json.dumps(load_fixture(SAMPLE)), "application/json")},
    )
    assert notarised.status_code == 201, notarised.text
    assert "data:image/png;base64," in notarised.text
    reference = re.search(r"/healthcerts/certificates/([0-9a-f-]{36})", notarised.text)
    assert reference
    detail = client.get(f"/healthcerts/certificates/{reference.group(1)}")
    assert detail.status_code == 200
    revoked = client.post(
        f"/healthcerts/certificates/{reference.group(1)}/revoke",
        data={"csrf_token": token, "reason_code": "4"},
        follow_redirects=False,
    )
    assert revoked.status_code == 303
    assert "Revoked" in client.get(f"/healthcerts/certificates/{reference.group(1)}").text
    refused = client.post(
        "/healthcerts/clinics",
        data={"csrf_token": token, "uen": "201912345R", "domain": "x", "did": "nope"},
    )
    assert refused.status_code == 422
    assert 'id="clinic-problem"' in refused.text


@pytest.mark.parametrize("junk", ["%00", "not-a-uuid", "x" * 300, "%E2%80%8B"])
def test_lookups_with_junk_ids_are_not_found(
    client: TestClient, officer: dict[str, str], junk: str
) -> None:
    assert client.get(f"/api/v1/healthcerts/documents/{junk}").status_code == 404
    assert (
        client.get(f"/api/v1/healthcerts/certificates/{junk}", headers=officer).status_code == 404
    )
    assert client.get(f"/api/v1/healthcerts/ocsp/{junk}").status_code == 422

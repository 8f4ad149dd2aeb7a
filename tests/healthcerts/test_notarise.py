"""Notarise end to end on both databases: accepted, refused, batches, revocation, storage."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.errors import Conflict, InvalidInput
from smartnation.healthcerts import service
from smartnation.healthcerts.documents import validate_pdt
from smartnation.healthcerts.models import NotarisedCertificate
from smartnation.healthcerts.openattestation import get_data
from smartnation.healthcerts.openattestation.encryption import decrypt_document

from .conftest import (
    FIXTURE_CLINIC_DOMAIN,
    RESIDENT_NRIC,
    clinic_pdt,
    load_fixture,
    signed_batch,
)

SITE = service.Site("http://verify.test")
SAMPLE = "notarise__v2__pdt_pcr_with_nric_wrapped.json"


def _problem_codes(error: InvalidInput) -> set[str]:
    return {p.code for p in error.problems}


def _link_parts(link: str) -> tuple[dict[str, Any], str]:
    parts = urlsplit(link)
    action = json.loads(parse_qs(parts.query)["q"][0])
    key = json.loads(unquote(parts.fragment))["key"]
    return action, key


def test_sample_clinic_certificate_is_endorsed_as_the_spec_lays_out(
    session: Session, notarise_world: Any
) -> None:
    clinic_document = load_fixture(SAMPLE)
    notarised = service.notarise(session, clinic_document, SITE)

    document = notarised.document
    data = get_data(document)
    expected_layout = load_fixture("schemata__pdt2_sample-data__sampleEndorsedDocument.json")
    # same fields in the same order as the published endorsed sample (less the EU DCC, which
    # needs the EU signing infrastructure)
    assert list(data) == list(expected_layout)
    assert list(data["notarisationMetadata"]) == [
        "reference",
        "notarisedOn",
        "passportNumber",
        "url",
    ]
    assert (
        data["id"] == data["notarisationMetadata"]["reference"] == notarised.certificate.reference
    )
    assert data["version"] == "pdt-healthcert-v2.0"
    assert data["notarisationMetadata"]["passportNumber"] == "E7831177G"
    patient = data["fhirBundle"]["entry"][0]["resource"]
    nric = next(i for i in patient["identifier"] if i.get("id") == "NRIC-FIN")["value"]
    assert nric == "S****470G"
    (issuer,) = data["issuers"]
    assert issuer["identityProof"] == {
        "type": "DNS-DID",
        "location": notarise_world.issuer_domain,
        "key": notarise_world.issuer_key_id,
    }
    assert issuer["revocation"] == {
        "type": "OCSP_RESPONDER",
        "location": "http://verify.test/api/v1/healthcerts/ocsp",
    }
    (attachment,) = data["attachments"]
    assert attachment["filename"] == "healthcert.txt"
    assert attachment["type"] == "text/open-attestation"
    assert json.loads(base64.b64decode(attachment["data"])) == clinic_document
    assert validate_pdt(data, endorsed=True) == []

    # the government's endorsement verifies on this site
    result = service.verify(session, document, SITE, notarise_world)
    assert result.valid, [f.to_json() for f in result.fragments]
    assert result.certificate is not None and result.certificate.name == "Tan Chen Chen"

    # the QR link: q names the stored copy; the key is only in the fragment
    action, key = _link_parts(notarised.link)
    assert notarised.link.startswith("http://verify.test/verify?q=")
    assert action["type"] == "DOCUMENT"
    assert action["payload"]["permittedActions"] == ["VIEW", "STORE"]
    assert "key" not in action["payload"]
    assert action["payload"]["uri"] == SITE.storage_uri(notarised.certificate.storage_id)
    stored = service.stored_document(session, notarised.certificate.storage_id)
    assert set(stored) == {"cipherText", "iv", "tag", "type"}
    assert key not in json.dumps(stored)
    assert decrypt_document(stored, key) == document
    row = session.get(NotarisedCertificate, notarised.certificate.id)
    assert row is not None and row.masked_nric == "S****470G"
    assert [e.action for e in audit.history(session, "notarised_certificate", row.id)] == [
        "healthcerts.certificate.notarised"
    ]


@pytest.mark.parametrize(
    "fixture",
    [
        "notarise__v2__pdt_art_with_nric_wrapped.json",
        "notarise__v2__pdt_pcr_ser_multi_result_wrapped.json",
        "notarise__v2__pdt_pcr_without_nric_wrapped.json",
    ],
)
def test_other_sample_certificates_are_endorsed(
    session: Session, notarise_world: Any, fixture: str
) -> None:
    notarised = service.notarise(session, load_fixture(fixture), SITE)
    assert service.verify(session, notarised.document, SITE).valid


def test_our_own_clinic_batch_is_endorsed_in_one_tree(
    session: Session, notarise_world: Any
) -> None:
    documents = signed_batch([clinic_pdt() for _ in range(3)])
    outcomes = service.notarise_batch(session, documents, SITE)
    assert all(o.notarised is not None for o in outcomes)
    roots = {o.notarised.document["signature"]["merkleRoot"] for o in outcomes if o.notarised}
    assert len(roots) == 1
    for outcome in outcomes:
        assert outcome.notarised is not None
        assert service.verify(session, outcome.notarised.document, SITE).valid


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"birth_date": "1990-01-16"}, "birth_date_mismatch"),
        ({"gender": "male"}, "sex_mismatch"),
        ({"nric": "S3001470A"}, "nric_checksum"),
        ({"nric": "S1234567D"}, "unknown_person"),
        ({"location": "unregistered.healthcerts.example"}, "unknown_issuer"),
    ],
    ids=["birth-date", "sex", "checksum", "unknown-person", "unknown-issuer"],
)
def test_refusals_name_the_reason(
    session: Session, notarise_world: Any, changes: dict[str, str], code: str
) -> None:
    # The certificate is built here, not at collection: it starts from a fixture file of
    # ../shared, whose absence must skip this test, not stop the module.
    (document,) = signed_batch([clinic_pdt(**changes)])
    with pytest.raises(InvalidInput) as refused:
        service.notarise(session, document, SITE)
    assert code in _problem_codes(refused.value)
    assert session.query(NotarisedCertificate).count() == 0


def test_tampered_and_unsigned_documents_are_refused(session: Session, notarise_world: Any) -> None:
    tampered = load_fixture(SAMPLE)
    tampered["data"]["validFrom"] = tampered["data"]["validFrom"].replace("2021", "2031")
    with pytest.raises(InvalidInput) as refused:
        service.notarise(session, tampered, SITE)
    assert _problem_codes(refused.value) == {"tampered"}

    unsigned = copy.deepcopy(load_fixture(SAMPLE))
    del unsigned["proof"]
    with pytest.raises(InvalidInput) as refused:
        service.notarise(session, unsigned, SITE)
    assert _problem_codes(refused.value) == {"not_signed"}

    for junk in (None, [], "text", {"data": 1}):
        with pytest.raises(InvalidInput):
            service.notarise(session, junk, SITE)


def test_a_key_other_than_the_registered_one_is_an_unknown_issuer(
    session: Session, notarise_world: Any
) -> None:
    # the test key signs, but claims the sample clinic's domain: DNS-DID fails
    (document,) = signed_batch([clinic_pdt(location=FIXTURE_CLINIC_DOMAIN)])
    with pytest.raises(InvalidInput) as refused:
        service.notarise(session, document, SITE)
    assert _problem_codes(refused.value) == {"unknown_issuer"}


def test_batch_reports_each_document(session: Session, notarise_world: Any) -> None:
    good, bad = signed_batch([clinic_pdt(), clinic_pdt(gender="male")])
    outcomes = service.notarise_batch(session, [good, bad, "junk"], SITE)
    assert outcomes[0].notarised is not None
    assert outcomes[1].notarised is None and outcomes[1].problems[0].code == "sex_mismatch"
    assert outcomes[2].notarised is None and outcomes[2].problems[0].code == "not_signed"


def test_revocation_is_served_by_our_ocsp_responder(session: Session, notarise_world: Any) -> None:
    notarised = service.notarise(session, load_fixture(SAMPLE), SITE)
    target = notarised.document["signature"]["targetHash"]
    assert service.ocsp_answer(session, "0x" + target) == {
        "revoked": False,
        "documentHash": "0x" + target,
    }
    service.revoke(session, notarised.certificate.reference, 4)
    assert service.ocsp_answer(session, target.upper()) == {
        "revoked": True,
        "documentHash": "0x" + target,
        "reasonCode": 4,
    }
    result = service.verify(session, notarised.document, SITE)
    assert not result.valid
    status = [f for f in result.fragments if f.name == "OpenAttestationDidSignedDocumentStatus"]
    assert status[0].status == "INVALID"
    assert status[0].reason is not None and status[0].reason.code_string == "SUPERSEDED"
    with pytest.raises(Conflict):
        service.revoke(session, notarised.certificate.reference, 4)
    with pytest.raises(InvalidInput):
        service.ocsp_answer(session, "0xnothex")


def test_revocation_reason_codes_are_checked(session: Session, notarise_world: Any) -> None:
    notarised = service.notarise(session, load_fixture(SAMPLE), SITE)
    for bad in (7, -1, 11, 99999):
        with pytest.raises(InvalidInput):
            service.revoke(session, notarised.certificate.reference, bad)


def test_clinic_registration_checks_and_publishes(session: Session, notarise_world: Any) -> None:
    table = json.loads(notarise_world.dns_table_path.read_text())
    assert table[notarise_world.issuer_domain] == [notarise_world.dns_did_record]
    assert table[FIXTURE_CLINIC_DOMAIN][0].startswith("openatts a=dns-did; p=did:ethr:0xE394")
    with pytest.raises(InvalidInput):
        service.register_clinic(
            session, uen="201912345A", domain="a.example", did="did:ethr:0x" + "1" * 40
        )
    with pytest.raises(InvalidInput):  # a valid UEN nobody registered
        service.register_clinic(
            session, uen="199912345M", domain="b.example", did="did:ethr:0x" + "1" * 40
        )
    with pytest.raises(InvalidInput):
        service.register_clinic(
            session, uen="201912345R", domain="not a domain", did="did:ethr:0x" + "1" * 40
        )
    with pytest.raises(InvalidInput):
        service.register_clinic(session, uen="201912345R", domain="c.example", did="did:web:x")
    with pytest.raises(Conflict):
        service.register_clinic(
            session, uen="201912345R", domain=FIXTURE_CLINIC_DOMAIN, did="did:ethr:0x" + "1" * 40
        )
    assert RESIDENT_NRIC  # the resident the samples name is registered by the fixture

from __future__ import annotations

import copy
from typing import Any

import pytest

from smartnation.healthcerts.openattestation import (
    KeyWithPeriodError,
    ObfuscationError,
    SigningError,
    TableTxtResolver,
    VerificationContext,
    is_valid,
    load_private_key,
    sign_document,
    verify_document,
    wrap_document,
    wrap_documents,
)
from smartnation.healthcerts.openattestation.dns import DnsLookupError
from smartnation.healthcerts.openattestation.obfuscate import obfuscate_document

from .conftest import ADDRESS, DNS_TABLE, PRIVATE_KEY, raw_document

KEY_ID = f"did:ethr:{ADDRESS}#controller"


def _context() -> VerificationContext:
    return VerificationContext(dns=TableTxtResolver(DNS_TABLE))


def _summaries(document: Any) -> dict[str, str]:
    return {f.name: f.summary for f in verify_document(document, _context())}


def _signed_batch(count: int, **extra: Any) -> list[dict[str, Any]]:
    key = load_private_key(PRIVATE_KEY)
    docs = [raw_document(id=f"doc-{i}", **extra) for i in range(count)]
    return [sign_document(d, key, KEY_ID) for d in wrap_documents(docs)]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 16])
def test_signed_batches_verify(count: int) -> None:
    documents = _signed_batch(count)
    assert len({d["signature"]["merkleRoot"] for d in documents}) == 1
    for document in documents:
        assert is_valid(verify_document(document, _context()))


def test_signature_is_deterministic_and_matches_reference_vector() -> None:
    documents = _signed_batch(3)
    assert len({d["proof"][0]["signature"] for d in documents}) == 1


def test_tampered_value_is_detected() -> None:
    document = _signed_batch(1, recipient={"name": "Tan"})[0]
    tampered = copy.deepcopy(document)
    salt = tampered["data"]["recipient"]["name"].split(":")[0]
    tampered["data"]["recipient"]["name"] = f"{salt}:string:Lim"
    assert _summaries(tampered)["OpenAttestationHash"] == "INVALID:DOCUMENT_TAMPERED"


@pytest.mark.parametrize("suffix", ["zz", "0", "00"])
def test_root_with_junk_is_rejected(suffix: str) -> None:
    document = _signed_batch(1)[0]
    document["signature"]["merkleRoot"] += suffix
    assert _summaries(document)["OpenAttestationHash"] == "INVALID:DOCUMENT_TAMPERED"


def test_wrong_key_gives_wrong_signature() -> None:
    other = load_private_key("11" * 32)
    document = wrap_document(raw_document())
    # sign with another key but claim the issuer's key id
    from smartnation.healthcerts.openattestation.sign import sign_merkle_root

    signed = sign_document(document, load_private_key(PRIVATE_KEY), KEY_ID)
    signed["proof"][0]["signature"] = sign_merkle_root(document["signature"]["merkleRoot"], other)
    assert _summaries(signed)["OpenAttestationDidSignedDocumentStatus"] == "INVALID:WRONG_SIGNATURE"


def test_signing_refuses_a_key_for_another_address() -> None:
    with pytest.raises(SigningError):
        sign_document(wrap_document(raw_document()), load_private_key("11" * 32), KEY_ID)


def test_unknown_issuer_domain_is_invalid_identity() -> None:
    key = load_private_key(PRIVATE_KEY)
    document = sign_document(wrap_document(raw_document(location="unknown.example")), key, KEY_ID)
    assert _summaries(document)["OpenAttestationDnsDidIdentityProof"] == "INVALID:INVALID_IDENTITY"


def test_dns_failure_is_error_not_exception() -> None:
    class Failing:
        def txt_records(self, domain: str) -> list[str]:
            raise DnsLookupError("timeout")

    document = _signed_batch(1)[0]
    fragments = verify_document(document, VerificationContext(dns=Failing()))
    assert fragments[5].summary == "ERROR:UNEXPECTED_ERROR"
    assert fragments[5].reason is not None and fragments[5].reason.message == "Unable to query DNS"


def test_missing_revocation_and_proof() -> None:
    document = _signed_batch(1)[0]
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    assert _summaries(unsigned)["OpenAttestationDidSignedDocumentStatus"] == "SKIPPED:SKIPPED"
    raw = raw_document()
    del raw["issuers"][0]["revocation"]
    key = load_private_key(PRIVATE_KEY)
    signed = sign_document(wrap_document(raw), key, KEY_ID)
    assert (
        _summaries(signed)["OpenAttestationDidSignedDocumentStatus"] == "ERROR:MISSING_REVOCATION"
    )


def test_obfuscated_document_still_verifies() -> None:
    document = _signed_batch(3, recipient={"name": "Tan", "nric": "S1234567D"})[1]
    hidden = obfuscate_document(document, ["recipient.nric"])
    assert "nric" not in hidden["data"]["recipient"]
    assert len(hidden["privacy"]["obfuscatedData"]) == 1
    assert is_valid(verify_document(hidden, _context()))


def test_obfuscation_refuses_shapes_that_would_not_verify() -> None:
    document = _signed_batch(1, recipient={"name": "Tan"}, tags=["a", "b"])[0]
    with pytest.raises(ObfuscationError, match="empty"):
        obfuscate_document(document, ["recipient.name"])
    with pytest.raises(ObfuscationError, match="array element"):
        obfuscate_document(document, ["tags.0"])
    whole = obfuscate_document(document, ["recipient", "tags"])
    assert is_valid(verify_document(whole, _context()))


def test_wrap_refuses_bad_documents() -> None:
    from smartnation.healthcerts.openattestation import SchemaValidationError

    with pytest.raises(SchemaValidationError):
        wrap_document({"name": "no issuers"})
    with pytest.raises(KeyWithPeriodError):
        wrap_document(raw_document(**{"a.b": 1}))


@pytest.mark.parametrize(
    "document",
    [None, [], "text", 42, {}, {"data": "x"}, {"data": {}, "signature": {}}, {"signature": None}],
)
def test_garbage_gives_fragments_not_exceptions(document: Any) -> None:
    fragments = verify_document(document, _context())
    assert len(fragments) == 7
    assert not is_valid(fragments)


def test_wrong_types_inside_a_document_are_reported() -> None:
    document = _signed_batch(1)[0]
    document["signature"]["proof"] = [123]
    assert _summaries(document)["OpenAttestationHash"] == "SKIPPED:SKIPPED"
    document = _signed_batch(1)[0]
    document["privacy"] = {"obfuscatedData": [1, 2]}
    assert _summaries(document)["OpenAttestationHash"] == "INVALID:DOCUMENT_TAMPERED"
    document = _signed_batch(1)[0]
    document["data"]["extra"] = {"x.y": "1"}
    assert _summaries(document)["OpenAttestationHash"] == "ERROR:UNEXPECTED_ERROR"
    document = _signed_batch(1)[0]
    document["proof"][0]["signature"] = "0x1234"
    assert (
        _summaries(document)["OpenAttestationDidSignedDocumentStatus"] == "ERROR:UNEXPECTED_ERROR"
    )

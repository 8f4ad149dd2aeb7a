from __future__ import annotations

import pytest

from smartnation.healthcerts.documents import nric_checksum_valid, validate_pdt
from smartnation.healthcerts.openattestation import DecryptionError
from smartnation.healthcerts.openattestation.encryption import (
    decrypt_document,
    decrypt_string,
    encrypt_document,
)

from .conftest import load_fixture


def test_decrypts_reference_vector() -> None:
    vector = load_fixture("enc__oa_encryption_docs_example.json")
    encrypted = vector["encrypted"]
    text = decrypt_string(
        encrypted["cipherText"],
        encrypted["iv"],
        encrypted["tag"],
        encrypted["key"],
        encrypted["type"],
    )
    assert text == vector["plaintext"]


def test_round_trip_and_wrong_key() -> None:
    document = {"name": "Tan Chen Chen 陈"}
    encrypted = encrypt_document(document)
    assert decrypt_document(encrypted.stored_json(), encrypted.key) == document
    with pytest.raises(DecryptionError):
        decrypt_document(encrypted.stored_json(), "00" * 32)
    with pytest.raises(DecryptionError):
        decrypt_document({**encrypted.stored_json(), "type": "OTHER"}, encrypted.key)


@pytest.mark.parametrize(
    ("nric", "ok"), [("S3001470G", True), ("S3001470A", False), ("T0000000J", False)]
)
def test_nric_checksum(nric: str, ok: bool) -> None:
    assert nric_checksum_valid(nric) is ok


def test_pdt_problems_name_json_paths() -> None:
    document = load_fixture("notarise__v2__pdt_pcr_with_nric_unwrapped.json")
    assert validate_pdt(document) == []
    patient = document["fhirBundle"]["entry"][0]["resource"]
    patient["birthDate"] = "15/01/1990"
    patient["identifier"][1]["value"] = "S3001470A"
    document["type"] = "ART"
    problems = {p.path for p in validate_pdt(document)}
    assert "$.fhirBundle.entry[0].resource.birthDate" in problems
    assert "$.fhirBundle.entry[0].resource.identifier[1].value" in problems
    assert "$.fhirBundle.entry[1].resource.code.coding[0]" in problems

"""Every OpenTrace vector not marked `edge` reproduces byte for byte; edge vectors as documented."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from tracing_support import at_ms, fixed_ivs, load_vectors

from smartnation.tracing.bluetrace import (
    InvalidReason,
    Keyring,
    TempIDPolicy,
    decrypt_tempid,
    generate_tempid,
    generate_tempids,
    issue_upload_token,
    process_encounter_log,
    process_uploaded_file,
    retrieve_upload_codes,
    store_upload_codes,
    validate_upload_token,
)
from smartnation.tracing.errors import (
    InvalidTempID,
    InvalidUid,
    InvalidUploadCode,
    InvalidUploadToken,
    UploadTokenExpired,
)


@pytest.fixture(scope="module")
def bt() -> dict[str, Any]:
    return load_vectors("bluetrace-opentrace.json")


def ring(*hex_keys: str) -> Keyring:
    return Keyring.of(bytes.fromhex(key) for key in hex_keys)


def test_key_aliases_agree(bt: dict[str, Any]) -> None:
    import base64

    for entry in bt["_about"]["keys"].values():
        assert base64.b64decode(entry["base64"]) == bytes.fromhex(entry["hex"])


def test_tempids_seal_exactly(bt: dict[str, Any]) -> None:
    checked = 0
    for vector in bt["tempid_vectors"]:
        if vector.get("edge"):
            continue
        keyring = ring(vector["key_hex"])
        issued = generate_tempid(
            keyring,
            vector["uid"],
            vector["start"],
            vector["expiry"],
            random_bytes=fixed_ivs(vector["iv_hex"]),
        )
        assert issued.tempid == vector["tempID"], vector["label"]
        assert len(issued.tempid) == vector["tempID_len"]
        checked += 1
    assert checked == 18


def test_tempids_open_exactly(bt: dict[str, Any]) -> None:
    # Edge vectors included: their TempIDs are well formed; only their uids were malformed.
    for vector in bt["tempid_vectors"]:
        keyring = ring(vector["key_hex"])
        assert decrypt_tempid(keyring, vector["tempID"]).as_dict() == vector["decrypted"]


def test_edge_uids_are_refused_when_issuing(bt: dict[str, Any]) -> None:
    edges = [vector for vector in bt["tempid_vectors"] if vector.get("edge")]
    assert len(edges) == 4
    for vector in edges:
        with pytest.raises(InvalidUid):
            generate_tempid(ring(vector["key_hex"]), vector["uid"], 0, 900)


def test_batches_exactly(bt: dict[str, Any]) -> None:
    for vector in bt["batch_vectors"]:
        policy = TempIDPolicy(
            validity_seconds=int(vector["validityPeriod_hours"] * 3600),
            refresh_seconds=int(vector["refreshInterval_hours"] * 3600),
            batch_size=vector["batchSize"],
        )
        batch = generate_tempids(
            ring(vector["key_hex"]),
            vector["uid"],
            now=at_ms(vector["now_ms"]),
            policy=policy,
            random_bytes=fixed_ivs(*vector["iv_hex_per_index"]),
        )
        assert batch.as_response() == vector["response"], vector["label"]


def test_decrypt_negatives(bt: dict[str, Any]) -> None:
    for vector in bt["decrypt_negative_vectors"]:
        keyring = ring(vector["key_hex"])
        if vector["expect_error"]:
            with pytest.raises(InvalidTempID):
                decrypt_tempid(keyring, vector["tempID"])
        else:
            assert decrypt_tempid(keyring, vector["tempID"]).as_dict() == vector["result"]


def test_upload_codes_store_and_retrieve(bt: dict[str, Any]) -> None:
    for vector in bt["upload_code_store_vectors"]:
        keyring = ring(vector["key_hex"])
        stored = store_upload_codes(
            keyring, vector["codes"], random_bytes=fixed_ivs(vector["iv_hex"])
        )
        assert stored == vector["stored_base64"]
        assert retrieve_upload_codes(keyring, vector["stored_base64"]) == vector["retrieved"]


def test_upload_tokens_exactly(bt: dict[str, Any]) -> None:
    codes = bt["upload_code_store_vectors"][0]["codes"]
    for vector in bt["upload_token_vectors"]:
        if vector.get("expect_error"):
            keyring = ring(bt["_about"]["keys"]["k_seq"]["hex"])
            with pytest.raises(InvalidUploadCode) as raised:
                issue_upload_token(keyring, vector["uid"], vector["upload_code"], codes)
            assert raised.value.message == vector["error"]["message"]
            continue
        token = issue_upload_token(
            ring(vector["key_hex"]),
            vector["uid"],
            vector["upload_code"],
            codes,
            now=at_ms(vector["now_ms"]),
            random_bytes=fixed_ivs(vector["iv_hex"]),
        )
        assert token == vector["response"]["token"], vector["label"]


def test_token_validity(bt: dict[str, Any]) -> None:
    keyring = ring(bt["_about"]["keys"]["k_seq"]["hex"])
    for vector in bt["validate_token_vectors"]:
        kwargs: dict[str, Any] = {
            "now": at_ms(vector["now_ms"]),
            "check_expiry": vector["validateTokenTimestamp"],
        }
        if vector["expect_error"]:
            with pytest.raises(InvalidUploadToken) as raised:
                validate_upload_token(keyring, vector["token"], **kwargs)
            assert raised.value.message == vector["error"], vector["label"]
            if vector["error"] == "Upload token has expired.":
                assert isinstance(raised.value, UploadTokenExpired)
        else:
            claims = validate_upload_token(keyring, vector["token"], **kwargs)
            assert claims.as_dict() == vector["result"], vector["label"]


def _process_vectors(bt: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    mixed, expired = bt["process_upload_vectors"]
    assert mixed["label"] == "mixed-records" and expired["label"] == "expired-upload-token"
    return mixed, expired


def test_process_upload_mixed_records(bt: dict[str, Any]) -> None:
    mixed, _ = _process_vectors(bt)
    keyring = ring(*mixed["keys_in_order_hex"])
    content = copy.deepcopy(mixed["input_file"])
    outcome = process_uploaded_file(
        mixed["file_path"], content, keyring, now=at_ms(mixed["now_ms"])
    )
    assert outcome.status == mixed["expected_status"]
    assert outcome.forwarded == mixed["expected_forwarded"]
    assert outcome.audit_log == mixed["expected_audit_log"]
    # Key order of each forwarded record matches OpenTrace's too.
    assert outcome.forwarded is not None
    for ours, theirs in zip(
        outcome.forwarded["records"], mixed["expected_forwarded"]["records"], strict=True
    ):
        assert list(ours) == list(theirs)
    assert content == mixed["input_file"], "the input must not be modified"


def test_process_upload_counts(bt: dict[str, Any]) -> None:
    mixed, _ = _process_vectors(bt)
    processed = process_encounter_log(
        mixed["input_file"], ring(*mixed["keys_in_order_hex"]), now=at_ms(mixed["now_ms"])
    )
    assert processed.uid == mixed["expected_forwarded"]["id"]
    assert processed.upload_code == "ABCDEF"
    assert dict(processed.counts) == {
        "valid": 5,
        InvalidReason.EXPIRED_ID: 2,
        InvalidReason.FAILED_DECRYPTION: 2,
        InvalidReason.NO_MSG: 1,
    }
    assert processed.duplicate_records == 0


def test_process_upload_expired_token(bt: dict[str, Any]) -> None:
    mixed, expired = _process_vectors(bt)
    outcome = process_uploaded_file(
        expired["file_path"],
        mixed["input_file"],
        ring(*mixed["keys_in_order_hex"]),
        now=at_ms(expired["now_ms"]),
    )
    assert outcome.status == expired["expected_status"]
    assert outcome.forwarded is expired["expected_forwarded"] is None
    expected_audit = dict(expired["expected_audit_log"])
    # Stack traces are machine-specific in the vector and deliberately absent from our log.
    expected_audit.pop("errorStackTrace")
    assert outcome.audit_log == expected_audit
    assert isinstance(outcome.error, UploadTokenExpired)

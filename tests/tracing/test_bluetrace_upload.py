"""Upload codes, tokens and encounter-log processing without the shared vectors."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartnation.tracing.bluetrace import (
    Keyring,
    UploadLimits,
    classify_record,
    classify_records,
    classify_upload,
    generate_tempid,
    generate_upload_code,
    issue_upload_token,
    process_encounter_log,
    process_uploaded_file,
    retrieve_upload_codes,
    store_upload_codes,
    validate_upload_token,
)
from smartnation.tracing.bluetrace.upload_token import UPLOAD_CODE_ALPHABET, seal
from smartnation.tracing.errors import (
    InvalidUploadCode,
    InvalidUploadToken,
    TracingError,
    UploadRefused,
    UploadTokenExpired,
)

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
RING = Keyring.of([KEY])
CASE = "Xq3Lr9TzW1pKs0vBn7YcHd2FgJ5m"
CONTACT = "abcdefghijklmnopqrstuvwxyz12"
NOW = datetime(2020, 5, 20, 19, 0, tzinfo=UTC)
T0 = int(NOW.timestamp())


def token(now: datetime = NOW, ring: Keyring = RING) -> str:
    return issue_upload_token(ring, CASE, "ABC234", ["ABC234"], now=now)


def test_upload_codes() -> None:
    codes = {generate_upload_code() for _ in range(50)}
    assert all(len(code) == 6 and set(code) <= set(UPLOAD_CODE_ALPHABET) for code in codes)
    assert len(codes) > 45
    stored = store_upload_codes(RING, sorted(codes))
    assert retrieve_upload_codes(RING, stored) == sorted(codes)
    with pytest.raises(InvalidUploadCode):
        retrieve_upload_codes(Keyring.of([OTHER]), stored)
    with pytest.raises(InvalidUploadCode):
        retrieve_upload_codes(RING, "garbage!")


def test_token_lifetime_boundaries() -> None:
    issued = token()
    assert validate_upload_token(RING, issued, now=NOW + timedelta(hours=2)).uid == CASE
    with pytest.raises(UploadTokenExpired):
        validate_upload_token(RING, issued, now=NOW + timedelta(hours=2, milliseconds=1))
    claims = validate_upload_token(RING, issued, now=NOW + timedelta(days=9), check_expiry=False)
    assert claims.upload_code == "ABC234"
    with pytest.raises(InvalidUploadToken, match="future"):
        validate_upload_token(RING, issued, now=NOW - timedelta(hours=1))


def test_tokens_survive_rotation_and_refuse_forgery() -> None:
    issued = token()
    assert validate_upload_token(Keyring.of([OTHER, KEY]), issued, now=NOW).uid == CASE
    with pytest.raises(InvalidUploadToken):
        validate_upload_token(Keyring.of([OTHER]), issued, now=NOW)
    # Sealed with the right key but not a claims object, or missing fields.
    for plaintext in [b"[]", b"{}", b'{"uid":"x","createdAt":"1","upload":"ABC234"}', b"\xff"]:
        forged = __import__("base64").b64encode(seal(RING.current_cipher, plaintext)).decode()
        with pytest.raises(InvalidUploadToken):
            validate_upload_token(RING, forged, now=NOW)
    with pytest.raises(InvalidUploadCode):
        issue_upload_token(RING, CASE, "ZZZZZZ", ["ABC234"])
    with pytest.raises(InvalidUploadCode):
        issue_upload_token(RING, CASE, "", [""])


@given(st.one_of(st.none(), st.integers(), st.text(max_size=300), st.lists(st.integers())))
def test_any_token_is_refused_cleanly(junk: Any) -> None:
    with pytest.raises(InvalidUploadToken):
        validate_upload_token(RING, junk, now=NOW)


def record(msg: Any, timestamp: Any, **extra: Any) -> dict[str, Any]:
    return {"timestamp": timestamp, "msg": msg, "modelC": "iPhone X", "modelP": "SM-G950F",
            "rssi": -60, "org": "SG_MOH", "v": 2, **extra}  # fmt: skip


def heard(start: int = T0 - 600, expiry: int = T0 + 300) -> str:
    return generate_tempid(RING, CONTACT, start, expiry).tempid


def test_classification_rules() -> None:
    tempid = heard()
    upload = {
        "token": token(),
        "records": [
            record(tempid, T0),  # valid, seconds
            record(tempid, T0 * 1000 + 5),  # valid, milliseconds
            record(tempid, T0 - 600),  # valid at the first second
            record(tempid, T0 + 301),  # after expiry
            record(tempid, "yesterday"),  # no usable time
            record(tempid, None),
            record("Missing TempID", T0),
            record("not_found", T0),
            record("", T0),
            record(None, T0),
            record(["a list"], T0),
            "not an object",
            record(tempid, T0),  # a duplicate of the first
        ],
        "events": [{"timestamp": T0, "msg": "Scanning started"}],
    }
    processed = process_encounter_log(json.dumps(upload), RING, now=NOW)
    reasons = [r.get("invalidReason", "valid") for r in processed.records]
    assert reasons == [
        "valid", "valid", "valid", "expired_id", "invalid_timestamp", "invalid_timestamp",
        "failed_decryption", "failed_decryption", "no_msg", "no_msg", "failed_decryption",
        "malformed_record", "valid",
    ]  # fmt: skip
    assert processed.records[1]["timestamp"] == T0 + 0.005
    assert processed.records[6]["contactId"] == "Missing TempID"
    assert "contactId" not in processed.records[10]
    assert processed.records[4]["timestampString"] == "Invalid date"
    assert processed.duplicate_records == 1
    assert processed.counts["valid"] == 4
    assert processed.events == upload["events"]


def test_phone_cannot_claim_its_records_are_valid() -> None:
    forged = record(None, T0, isValid=True, contactId="victim", contactIdValidFrom=0)
    out = classify_record(forged, RING)
    assert out["isValid"] is False and out["invalidReason"] == "no_msg"
    assert "contactId" not in out and "contactIdValidFrom" not in out


def test_timestamp_string_respects_offset() -> None:
    out = classify_record(record(heard(), T0), RING, utc_offset_minutes=480)
    assert out["timestampString"] == "21-May-2020 03:00:00 +08:00"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b'{"token": "x"}',
        b'{"token": "x", "records": {}}',
        b'{"token": "x", "records": [], "events": 3}',
        b'{"token": "x", "records": [NaN]}',
        b"[" * 100_000 + b"]" * 100_000,
        b"\xff\xfe",
    ],
)
def test_malformed_uploads_are_refused(content: bytes) -> None:
    with pytest.raises(UploadRefused):
        process_encounter_log(content, RING, now=NOW)


def test_giant_uploads_are_refused_before_parsing() -> None:
    limits = UploadLimits(max_bytes=1000, max_records=3, max_events=1)
    with pytest.raises(UploadRefused, match="larger"):
        process_encounter_log(b" " * 1001, RING, limits=limits)
    too_many = json.dumps({"token": token(), "records": [{}] * 4})
    with pytest.raises(UploadRefused, match="more than 3 records"):
        process_encounter_log(too_many, RING, limits=limits, now=NOW)


def test_outcome_for_a_forged_token_names_the_step() -> None:
    outcome = process_uploaded_file(
        "records/x.json", {"token": token(ring=Keyring.of([OTHER])), "records": []}, RING, now=NOW
    )
    assert outcome.status["status"] == "ERROR"
    assert outcome.audit_log["step"] == "2 - validate upload token"
    assert outcome.audit_log["fileName"] == "x"
    outcome = process_uploaded_file("records/y.json", b"{", RING, now=NOW)
    assert outcome.audit_log["step"] == "1 - load file"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=90),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
record_like = st.fixed_dictionaries(
    {},
    optional={
        "msg": st.one_of(json_values, st.just(heard())),
        "timestamp": st.one_of(json_values, st.integers(min_value=0, max_value=2 * 10**12)),
        "rssi": json_values,
        "isValid": json_values,
    },
)


@settings(max_examples=200)
@given(st.lists(st.one_of(record_like, json_values), max_size=8))
def test_any_records_are_classified(records: list[Any]) -> None:
    processed = process_encounter_log({"token": token(), "records": records}, RING, now=NOW)
    assert len(processed.records) == len(records)
    for out in processed.records:
        assert isinstance(out["isValid"], bool)
        assert out["isValid"] == ("invalidReason" not in out)
        if out["isValid"]:
            assert out["contactId"] == CONTACT
            assert out["contactIdValidFrom"] <= out["timestamp"] <= out["contactIdValidTo"]
    assert sum(processed.counts.values()) == len(records)


def _agree(records: list[Any]) -> None:
    """The server's compact classification says what the OpenTrace-shaped one says."""
    enriched, counts, duplicates = classify_records(records, RING)
    compact = classify_upload(records, RING)
    assert compact.counts == counts
    assert compact.duplicate_records == duplicates
    for out, verdict in zip(enriched, compact.verdicts, strict=True):
        assert verdict.outcome == out.get("invalidReason", "valid")
        assert (verdict.content is not None) == ("contactIdValidFrom" in out)
        if verdict.content is not None:
            assert verdict.content.uid == out["contactId"]
        if out.get("timestampString", "Invalid date") != "Invalid date":
            assert verdict.timestamp == out["timestamp"]


def test_compact_classification_agrees_on_every_rule() -> None:
    tempid, other = heard(), heard(T0 + 3000, T0 + 3900)
    _agree(
        [
            record(tempid, T0),
            record(tempid, T0 * 1000),  # the same moment in milliseconds: a duplicate
            record(tempid, T0 * 1000 + 5),
            record(tempid, float(T0) + 0.25),
            record(tempid, (float(T0) + 0.25) * 1000),
            record(tempid, T0 + 301),
            record(other, T0),
            record(tempid, -5),
            record(tempid, 2**62 + 1),
            record(tempid, 10**17),  # milliseconds beyond year 9999
            record(tempid, 1e300),
            record(tempid, True),
            record(tempid, "yesterday"),
            record(tempid, None),
            record("Missing TempID", T0),
            record("", T0),
            record(0, T0),
            record(None, T0),
            record(["a list"], T0),
            record(tempid, T0, rssi=[1]),  # unhashable: compared by text
            record(tempid, T0, rssi=[1]),
            "not an object",
            ["nor", "this"],
            record(tempid, T0),
        ]
    )


@settings(max_examples=300)
@given(st.lists(st.one_of(record_like, json_values), max_size=10))
def test_compact_classification_agrees_on_anything(records: list[Any]) -> None:
    _agree(records)


@settings(max_examples=200)
@given(st.binary(max_size=300))
def test_any_bytes_are_processed_or_refused_with_a_typed_error(content: bytes) -> None:
    with contextlib.suppress(TracingError):
        process_encounter_log(content, RING, now=NOW)
    outcome = process_uploaded_file("records/z.json", content, RING, now=NOW)
    assert outcome.status["status"] in {"SUCCESS", "ERROR"}

"""TempIDs without the shared vectors: layout, rotation, batches, robustness."""

from __future__ import annotations

import base64
import struct
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from smartnation.tracing.bluetrace import (
    Keyring,
    TempIDPolicy,
    decrypt_tempid,
    generate_tempid,
    generate_tempids,
    open_tempid,
)
from smartnation.tracing.errors import InvalidTempID, InvalidUid

KEY_OLD = bytes(32)
KEY_NEW = bytes(range(32))
UID = "abcdefghijklmnopqrstuvwxyz12"
uids = st.binary(min_size=21, max_size=21).map(lambda raw: base64.b64encode(raw).decode())
int32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)


def test_layout_matches_the_documented_bytes() -> None:
    iv = bytes(range(100, 116))
    tempid = generate_tempid(Keyring.of([KEY_NEW]), UID, 10, 20, random_bytes=lambda n: iv).tempid
    raw = base64.b64decode(tempid)
    assert len(tempid) == 84 and len(raw) == 61
    assert raw[29:45] == iv
    plain = AESGCM(KEY_NEW).decrypt(iv, raw[:29] + raw[45:], None)
    assert plain == base64.b64decode(UID) + struct.pack(">ii", 10, 20)


def test_rotation_old_tempids_still_open_new_ones_use_new_key() -> None:
    old_ring = Keyring.of([KEY_OLD])
    rotated = Keyring.of([KEY_NEW, KEY_OLD])
    old = generate_tempid(old_ring, UID, 0, 900).tempid
    new = generate_tempid(rotated, UID, 0, 900).tempid
    assert decrypt_tempid(rotated, old).uid == UID
    assert decrypt_tempid(Keyring.of([KEY_NEW]), new).uid == UID
    assert open_tempid(old_ring, new) is None
    with pytest.raises(InvalidTempID, match="no configured key"):
        decrypt_tempid(old_ring, new)


def test_batch_windows_follow_the_policy() -> None:
    now = datetime(2020, 5, 20, 18, 40, 0, 789000, tzinfo=UTC)
    ring = Keyring.of([KEY_NEW])
    batch = generate_tempids(ring, UID, now=now)
    assert len(batch.tempids) == 100
    base = int(now.timestamp())
    assert batch.refresh_time == base + 43_200
    for i, issued in enumerate(batch.tempids):
        assert issued.start_time == base + 900 * i - 60
        assert issued.expiry_time == issued.start_time + 900
        content = decrypt_tempid(ring, issued.tempid)
        assert (content.uid, content.start_time, content.expiry_time) == (
            UID,
            issued.start_time,
            issued.expiry_time,
        )
    response = batch.as_response()
    assert list(response) == ["status", "tempIDs", "refreshTime"]
    small = generate_tempids(ring, UID, now=now, count=3, policy=TempIDPolicy(validity_seconds=60))
    assert [t.start_time for t in small.tempids] == [base - 60, base, base + 60]


def test_bad_inputs_are_refused_with_typed_errors() -> None:
    ring = Keyring.of([KEY_NEW])
    with pytest.raises(InvalidUid):
        generate_tempid(ring, "short", 0, 1)
    with pytest.raises(InvalidTempID):
        generate_tempid(ring, UID, 2**31, 1)
    with pytest.raises(InvalidTempID):
        generate_tempids(ring, UID, count=0)
    with pytest.raises(ValueError, match="naive"):
        generate_tempids(ring, UID, now=datetime(2020, 1, 1))
    for junk in ["", "not-a-tempid", "A" * 84, "A" * 83 + "=", "é" * 84, "A" * 10_000]:
        with pytest.raises(InvalidTempID):
            decrypt_tempid(ring, junk)


@settings(max_examples=50)
@given(uid=uids, start=int32, expiry=int32)
def test_roundtrip(uid: str, start: int, expiry: int) -> None:
    ring = Keyring.of([KEY_NEW, KEY_OLD])
    content = decrypt_tempid(ring, generate_tempid(ring, uid, start, expiry).tempid)
    assert (content.uid, content.start_time, content.expiry_time) == (uid, start, expiry)


@given(
    st.one_of(
        st.text(max_size=120), st.binary(max_size=90).map(lambda b: base64.b64encode(b).decode())
    )
)
def test_any_string_opens_or_is_refused(text: str) -> None:
    ring = Keyring.of([KEY_NEW])
    assert open_tempid(ring, text) is None
    with pytest.raises(InvalidTempID):
        decrypt_tempid(ring, text)


@given(st.binary(min_size=61, max_size=61), st.integers(min_value=0, max_value=60))
def test_any_single_bit_flip_is_detected(noise: bytes, position: int) -> None:
    ring = Keyring.of([KEY_NEW])
    raw = bytearray(base64.b64decode(generate_tempid(ring, UID, 0, 900).tempid))
    raw[position] ^= 1 << (noise[position] % 8)
    assert open_tempid(ring, base64.b64encode(bytes(raw)).decode()) is None

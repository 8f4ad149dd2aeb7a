"""EK Export v1 archives: exact wire bytes, signatures, reading back, hostile archives."""

from __future__ import annotations

import contextlib
import hashlib
import io
import struct
import zipfile
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from smartnation.tracing.errors import ExportFormatError
from smartnation.tracing.gaen import DiagnosisKey, ReportType
from smartnation.tracing.gaen_export import (
    EXPORT_HEADER,
    ExportSigner,
    SignatureInfo,
    build_export_archive,
    build_export_archives,
    export_binary,
    read_export_archive,
    read_export_binary,
)

START = datetime(2020, 6, 15, 0, 0, tzinfo=UTC)
END = datetime(2020, 6, 15, 1, 0, tzinfo=UTC)
SIGNING_KEY = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1())
INFO = SignatureInfo(verification_key_version="v1", verification_key_id="525")
SIGNER = ExportSigner(INFO, SIGNING_KEY)


# An independent, minimal protobuf writer: the expected bytes are built field by field.
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint(number << 3 | wire)


def length_delimited(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


def test_export_bin_bytes_are_exactly_the_protobuf_encoding() -> None:
    k1 = DiagnosisKey(b"\x02" * 16, 2655360, 144, transmission_risk_level=0)
    k2 = DiagnosisKey(
        b"\x01" * 16,
        2655504,
        72,
        transmission_risk_level=4,
        report_type=ReportType.CONFIRMED_TEST,
        days_since_onset_of_symptoms=-3,
    )
    binary = export_binary([k1, k2], start=START, end=END, region="SG", signature_infos=[INFO])
    info = (
        length_delimited(3, b"v1")
        + length_delimited(4, b"525")
        + length_delimited(5, b"1.2.840.10045.4.3.2")
    )
    # Sorted by key bytes: k2 (0x01...) first. rolling_period 144 is left to its default.
    key2 = (
        length_delimited(1, b"\x01" * 16)
        + tag(2, 0) + varint(4)
        + tag(3, 0) + varint(2655504)
        + tag(4, 0) + varint(72)
        + tag(5, 0) + varint(1)
        + tag(6, 0) + varint(5)  # zigzag(-3) = 5
    )  # fmt: skip
    key1 = length_delimited(1, b"\x02" * 16) + tag(2, 0) + varint(0) + tag(3, 0) + varint(2655360)
    expected = (
        tag(1, 1) + struct.pack("<Q", int(START.timestamp()))
        + tag(2, 1) + struct.pack("<Q", int(END.timestamp()))
        + length_delimited(3, b"SG")
        + tag(4, 0) + varint(1)
        + tag(5, 0) + varint(1)
        + length_delimited(6, info)
        + length_delimited(7, key2)
        + length_delimited(7, key1)
    )  # fmt: skip
    assert EXPORT_HEADER == b"EK Export v1    " and len(EXPORT_HEADER) == 16
    assert binary == EXPORT_HEADER + expected


def test_archive_roundtrip_and_signature() -> None:
    keys = [
        DiagnosisKey(bytes([i]) * 16, 2655360 + 144 * i, 144, 0, ReportType.CONFIRMED_TEST, i - 5)
        for i in range(10)
    ]
    archive = build_export_archive(keys, start=START, end=END, region="SG", signers=[SIGNER])
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        assert opened.namelist() == ["export.bin", "export.sig"]
        binary = opened.read("export.bin")
    parsed = read_export_archive(archive, public_key=SIGNING_KEY.public_key())
    assert parsed.keys == tuple(sorted(keys, key=lambda k: k.key_data))
    assert (parsed.start_timestamp, parsed.end_timestamp) == (START.timestamp(), END.timestamp())
    assert (parsed.region, parsed.batch_num, parsed.batch_size) == ("SG", 1, 1)
    assert parsed.signature_infos == (INFO,)
    assert parsed.sha256 == hashlib.sha256(binary).digest()
    (signature,) = parsed.signatures
    assert (signature.info, signature.batch_num, signature.batch_size) == (INFO, 1, 1)
    # The signature is DER ECDSA P-256 over SHA-256 of the whole export.bin, header included.
    SIGNING_KEY.public_key().verify(signature.signature, binary, ec.ECDSA(hashes.SHA256()))
    assert (
        build_export_archive(keys, start=START, end=END, region="SG", signers=[SIGNER])[:30]
        == (archive[:30])
    )


def test_wrong_public_key_is_refused() -> None:
    archive = build_export_archive(
        [DiagnosisKey(b"\x07" * 16, 2655360)], start=START, end=END, region="SG", signers=[SIGNER]
    )
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(ExportFormatError, match="verifies"):
        read_export_archive(archive, public_key=other)


def test_tampered_export_fails_verification() -> None:
    archive = build_export_archive(
        [DiagnosisKey(b"\x07" * 16, 2655360)], start=START, end=END, region="SG", signers=[SIGNER]
    )
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        binary, signature = opened.read("export.bin"), opened.read("export.sig")
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as out:
        out.writestr("export.bin", binary.replace(b"SG", b"MY"))
        out.writestr("export.sig", signature)
    assert read_export_archive(tampered.getvalue()).region == "MY"
    with pytest.raises(ExportFormatError):
        read_export_archive(tampered.getvalue(), public_key=SIGNING_KEY.public_key())


def test_splitting_bumps_end_timestamps() -> None:
    keys = [DiagnosisKey(bytes([i]) * 16, 2655360) for i in range(5)]
    archives = build_export_archives(
        keys, start=START, end=END, region="SG", signers=[SIGNER], max_keys_per_file=2
    )
    parsed = [read_export_archive(a, public_key=SIGNING_KEY.public_key()) for a in archives]
    assert [len(p.keys) for p in parsed] == [2, 2, 1]
    assert [p.end_timestamp - int(END.timestamp()) for p in parsed] == [1, 2, 3]
    (single,) = build_export_archives(keys, start=START, end=END, region="SG", signers=[SIGNER])
    assert read_export_archive(single).end_timestamp == int(END.timestamp())


def test_refusals() -> None:
    with pytest.raises(ExportFormatError):
        build_export_archive([], start=START, end=END, region="SG", signers=[])
    with pytest.raises(ExportFormatError):
        export_binary(
            [DiagnosisKey(b"short", 1)], start=START, end=END, region="", signature_infos=[]
        )
    with pytest.raises(ExportFormatError):
        export_binary(
            [DiagnosisKey(b"\x00" * 16, 2**40)], start=START, end=END, region="", signature_infos=[]
        )
    other_curve = ExportSigner(INFO, ec.generate_private_key(ec.SECP384R1()))
    with pytest.raises(ExportFormatError, match="P-256"):
        build_export_archive([], start=START, end=END, region="SG", signers=[other_curve])
    with pytest.raises(ExportFormatError, match="header"):
        read_export_binary(b"EK Export v2    ")
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as out:
        out.writestr("other.bin", b"")
    with pytest.raises(ExportFormatError, match=r"no export\.bin"):
        read_export_archive(empty.getvalue())


@settings(max_examples=200)
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_cleanly(data: bytes) -> None:
    for reader in (read_export_archive, read_export_binary):
        with contextlib.suppress(ExportFormatError):
            reader(data)
    with contextlib.suppress(ExportFormatError):
        read_export_binary(EXPORT_HEADER + data)

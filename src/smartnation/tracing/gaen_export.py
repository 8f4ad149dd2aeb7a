"""Exposure Notification key files: writing and reading signed `EK Export v1` archives.

An archive is a zip holding `export.bin` (the 16-byte header `"EK Export v1    "` followed by a
`TemporaryExposureKeyExport` protobuf) and `export.sig` (a `TEKSignatureList` protobuf whose
signatures are ECDSA P-256 over SHA-256 of the whole of `export.bin`, DER-encoded). Field use
follows Google's reference key server: keys sorted by key bytes so upload order leaks nothing,
`batch_num` and `batch_size` always 1, `transmission_risk_level` always written,
`rolling_start_interval_number` written when not 0 and `rolling_period` when not 144.

The messages are built with the `protobuf` runtime from descriptors declared below (the same
fields and numbers as Google's `export.proto`), so no generated code or compiler is needed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from smartnation.tracing.errors import ExportFormatError
from smartnation.tracing.gaen import KEY_LENGTH, TEK_ROLLING_PERIOD, DiagnosisKey, ReportType
from smartnation.tracing.timestamps import epoch_ms

EXPORT_HEADER = b"EK Export v1    "
EXPORT_BINARY_NAME = "export.bin"
EXPORT_SIGNATURE_NAME = "export.sig"
ECDSA_P256_SHA256_OID = "1.2.840.10045.4.3.2"
MAX_KEYS_PER_FILE = 500_000
# An export of 500,000 keys is about 14 MB; anything far bigger is not an export.
MAX_MEMBER_BYTES = 64 * 1024 * 1024
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so equal inputs give equal archives

_F = descriptor_pb2.FieldDescriptorProto


def _field(
    message: Any,
    name: str,
    number: int,
    kind: int,
    *,
    repeated: bool = False,
    type_name: str = "",
    default: str = "",
    deprecated: bool = False,
) -> None:
    entry = message.field.add(name=name, number=number, type=kind)
    entry.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    if type_name:
        entry.type_name = type_name
    if default:
        entry.default_value = default
    if deprecated:
        entry.options.deprecated = True


def _export_proto() -> descriptor_pb2.FileDescriptorProto:
    """Google's export.proto (proto2), declared in code."""
    file = descriptor_pb2.FileDescriptorProto(name="exposure_key_export.proto", syntax="proto2")

    export = file.message_type.add(name="TemporaryExposureKeyExport")
    _field(export, "start_timestamp", 1, _F.TYPE_FIXED64)
    _field(export, "end_timestamp", 2, _F.TYPE_FIXED64)
    _field(export, "region", 3, _F.TYPE_STRING)
    _field(export, "batch_num", 4, _F.TYPE_INT32)
    _field(export, "batch_size", 5, _F.TYPE_INT32)
    _field(export, "signature_infos", 6, _F.TYPE_MESSAGE, repeated=True, type_name=".SignatureInfo")
    _field(export, "keys", 7, _F.TYPE_MESSAGE, repeated=True, type_name=".TemporaryExposureKey")
    _field(
        export, "revised_keys", 8, _F.TYPE_MESSAGE, repeated=True, type_name=".TemporaryExposureKey"
    )

    info = file.message_type.add(name="SignatureInfo")
    info.reserved_range.add(start=1, end=3)  # app_bundle_id and android_package, retired
    _field(info, "verification_key_version", 3, _F.TYPE_STRING)
    _field(info, "verification_key_id", 4, _F.TYPE_STRING)
    _field(info, "signature_algorithm", 5, _F.TYPE_STRING)

    key = file.message_type.add(name="TemporaryExposureKey")
    _field(key, "key_data", 1, _F.TYPE_BYTES)
    _field(key, "transmission_risk_level", 2, _F.TYPE_INT32, deprecated=True)
    _field(key, "rolling_start_interval_number", 3, _F.TYPE_INT32)
    _field(key, "rolling_period", 4, _F.TYPE_INT32, default=str(TEK_ROLLING_PERIOD))
    report_type = key.enum_type.add(name="ReportType")
    for member in ReportType:
        report_type.value.add(name=member.name, number=member.value)
    _field(key, "report_type", 5, _F.TYPE_ENUM, type_name=".TemporaryExposureKey.ReportType")
    _field(key, "days_since_onset_of_symptoms", 6, _F.TYPE_SINT32)

    signatures = file.message_type.add(name="TEKSignatureList")
    _field(signatures, "signatures", 1, _F.TYPE_MESSAGE, repeated=True, type_name=".TEKSignature")

    signature = file.message_type.add(name="TEKSignature")
    _field(signature, "signature_info", 1, _F.TYPE_MESSAGE, type_name=".SignatureInfo")
    _field(signature, "batch_num", 2, _F.TYPE_INT32)
    _field(signature, "batch_size", 3, _F.TYPE_INT32)
    _field(signature, "signature", 4, _F.TYPE_BYTES)
    return file


# A private pool keeps these names out of the process-wide default pool.
_POOL = descriptor_pool.DescriptorPool()
_POOL.AddSerializedFile(_export_proto().SerializeToString())


def _message_class(name: str) -> Any:
    return message_factory.GetMessageClass(_POOL.FindMessageTypeByName(name))


TemporaryExposureKeyExportMessage = _message_class("TemporaryExposureKeyExport")
TEKSignatureListMessage = _message_class("TEKSignatureList")


@dataclass(frozen=True)
class SignatureInfo:
    """Which public key verifies an export: the health authority's key id and version."""

    verification_key_version: str = "v1"
    verification_key_id: str = ""
    signature_algorithm: str = ECDSA_P256_SHA256_OID


@dataclass(frozen=True)
class ExportSigner:
    """A signing key (ECDSA P-256) and the information phones use to find its public half."""

    info: SignatureInfo
    private_key: ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class ExportSignature:
    """One signature found in `export.sig`."""

    info: SignatureInfo
    batch_num: int
    batch_size: int
    signature: bytes


@dataclass(frozen=True)
class KeyExport:
    """The contents of an export, as read back."""

    start_timestamp: int
    end_timestamp: int
    region: str
    batch_num: int
    batch_size: int
    signature_infos: tuple[SignatureInfo, ...]
    keys: tuple[DiagnosisKey, ...]
    revised_keys: tuple[DiagnosisKey, ...]
    signatures: tuple[ExportSignature, ...] = ()
    sha256: bytes = b""


def _fill_info(target: Any, info: SignatureInfo) -> None:
    target.signature_algorithm = info.signature_algorithm
    if info.verification_key_version:
        target.verification_key_version = info.verification_key_version
    if info.verification_key_id:
        target.verification_key_id = info.verification_key_id


def _fill_key(target: Any, key: DiagnosisKey) -> None:
    if len(key.key_data) != KEY_LENGTH:
        raise ExportFormatError(f"key data must be {KEY_LENGTH} bytes")
    target.key_data = key.key_data
    target.transmission_risk_level = key.transmission_risk_level
    if key.rolling_start_interval_number != 0:
        target.rolling_start_interval_number = key.rolling_start_interval_number
    if key.rolling_period != TEK_ROLLING_PERIOD:
        target.rolling_period = key.rolling_period
    if key.report_type is not None:
        target.report_type = int(key.report_type)
    if key.days_since_onset_of_symptoms is not None:
        target.days_since_onset_of_symptoms = key.days_since_onset_of_symptoms


def _unix(instant: datetime) -> int:
    return epoch_ms(instant) // 1000


def export_binary(
    keys: Sequence[DiagnosisKey],
    *,
    start: datetime,
    end: datetime,
    region: str,
    signature_infos: Sequence[SignatureInfo],
    revised_keys: Sequence[DiagnosisKey] = (),
) -> bytes:
    """`export.bin`: the header and a `TemporaryExposureKeyExport` of the keys, sorted by bytes."""
    if len(keys) + len(revised_keys) > MAX_KEYS_PER_FILE:
        raise ExportFormatError(f"an export file holds at most {MAX_KEYS_PER_FILE} keys")
    message = TemporaryExposureKeyExportMessage()
    try:
        message.start_timestamp = _unix(start)
        message.end_timestamp = _unix(end)
        message.region = region
        message.batch_num = 1
        message.batch_size = 1
        for info in signature_infos:
            _fill_info(message.signature_infos.add(), info)
        for key in sorted(keys, key=lambda k: k.key_data):
            _fill_key(message.keys.add(), key)
        for key in sorted(revised_keys, key=lambda k: k.key_data):
            _fill_key(message.revised_keys.add(), key)
    except (ValueError, TypeError) as error:
        # Out-of-range integers (negative times, intervals past int32) land here.
        raise ExportFormatError(f"a key or field cannot be exported: {error}") from None
    return EXPORT_HEADER + bytes(message.SerializeToString())


def export_signature(export_bin: bytes, signers: Sequence[ExportSigner]) -> bytes:
    """`export.sig`: a `TEKSignatureList` with one ECDSA P-256 SHA-256 signature per signer."""
    signatures = TEKSignatureListMessage()
    for signer in signers:
        if not isinstance(signer.private_key.curve, ec.SECP256R1):
            raise ExportFormatError("export signing keys must be ECDSA P-256")
        entry = signatures.signatures.add()
        _fill_info(entry.signature_info, signer.info)
        entry.batch_num = 1
        entry.batch_size = 1
        entry.signature = signer.private_key.sign(export_bin, ec.ECDSA(hashes.SHA256()))
    return bytes(signatures.SerializeToString())


def _zip(export_bin: bytes, export_sig: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in ((EXPORT_BINARY_NAME, export_bin), (EXPORT_SIGNATURE_NAME, export_sig)):
            member = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, data)
    return buffer.getvalue()


def build_export_archive(
    keys: Sequence[DiagnosisKey],
    *,
    start: datetime,
    end: datetime,
    region: str,
    signers: Sequence[ExportSigner],
    revised_keys: Sequence[DiagnosisKey] = (),
) -> bytes:
    """A signed, zipped export of the keys: what phones download."""
    if not signers:
        raise ExportFormatError("an export needs at least one signer")
    infos = [signer.info for signer in signers]
    binary = export_binary(
        keys, start=start, end=end, region=region, signature_infos=infos, revised_keys=revised_keys
    )
    return _zip(binary, export_signature(binary, signers))


def build_export_archives(
    keys: Sequence[DiagnosisKey],
    *,
    start: datetime,
    end: datetime,
    region: str,
    signers: Sequence[ExportSigner],
    max_keys_per_file: int = MAX_KEYS_PER_FILE,
) -> list[bytes]:
    """Exports split into files of at most `max_keys_per_file` keys.

    As Google's server does when it splits a batch, each file's end timestamp is bumped by its
    1-based number, because Android de-duplicates files with identical timing metadata.
    """
    if not 1 <= max_keys_per_file <= MAX_KEYS_PER_FILE:
        raise ExportFormatError(f"files hold between 1 and {MAX_KEYS_PER_FILE} keys")
    ordered = sorted(keys, key=lambda k: k.key_data)
    chunks = [
        ordered[i : i + max_keys_per_file]
        for i in range(0, max(len(ordered), 1), max_keys_per_file)
    ]
    split = len(chunks) > 1
    archives = []
    for number, chunk in enumerate(chunks, start=1):
        end_of_file = end if not split else datetime.fromtimestamp(_unix(end) + number, end.tzinfo)
        archives.append(
            build_export_archive(
                chunk, start=start, end=end_of_file, region=region, signers=signers
            )
        )
    return archives


def _read_info(source: Any) -> SignatureInfo:
    return SignatureInfo(
        verification_key_version=source.verification_key_version,
        verification_key_id=source.verification_key_id,
        signature_algorithm=source.signature_algorithm,
    )


def _read_key(source: Any) -> DiagnosisKey:
    if len(source.key_data) != KEY_LENGTH:
        raise ExportFormatError(f"an exported key is not {KEY_LENGTH} bytes")
    return DiagnosisKey(
        key_data=bytes(source.key_data),
        rolling_start_interval_number=source.rolling_start_interval_number,
        rolling_period=source.rolling_period,
        transmission_risk_level=source.transmission_risk_level,
        report_type=ReportType(source.report_type) if source.HasField("report_type") else None,
        days_since_onset_of_symptoms=(
            source.days_since_onset_of_symptoms
            if source.HasField("days_since_onset_of_symptoms")
            else None
        ),
    )


def read_export_binary(export_bin: bytes) -> KeyExport:
    """Parse `export.bin`; `ExportFormatError` if the header or the protobuf is wrong."""
    if export_bin[: len(EXPORT_HEADER)] != EXPORT_HEADER:
        raise ExportFormatError('export.bin does not start with the "EK Export v1" header')
    message = TemporaryExposureKeyExportMessage()
    try:
        message.ParseFromString(export_bin[len(EXPORT_HEADER) :])
    except DecodeError:
        raise ExportFormatError("export.bin does not hold a TemporaryExposureKeyExport") from None
    return KeyExport(
        start_timestamp=message.start_timestamp,
        end_timestamp=message.end_timestamp,
        region=message.region,
        batch_num=message.batch_num,
        batch_size=message.batch_size,
        signature_infos=tuple(_read_info(info) for info in message.signature_infos),
        keys=tuple(_read_key(key) for key in message.keys),
        revised_keys=tuple(_read_key(key) for key in message.revised_keys),
        sha256=hashlib.sha256(export_bin).digest(),
    )


def read_export_signature(export_sig: bytes) -> tuple[ExportSignature, ...]:
    """Parse `export.sig`; `ExportFormatError` if it is not a `TEKSignatureList`."""
    message = TEKSignatureListMessage()
    try:
        message.ParseFromString(export_sig)
    except DecodeError:
        raise ExportFormatError("export.sig does not hold a TEKSignatureList") from None
    return tuple(
        ExportSignature(
            info=_read_info(entry.signature_info),
            batch_num=entry.batch_num,
            batch_size=entry.batch_size,
            signature=bytes(entry.signature),
        )
        for entry in message.signatures
    )


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ExportFormatError(f"the archive has no {name}") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise ExportFormatError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes")
    with archive.open(info) as member:
        # Read one byte past the limit: sizes in zip headers can lie.
        data = member.read(MAX_MEMBER_BYTES + 1)
    if len(data) > MAX_MEMBER_BYTES:
        raise ExportFormatError(f"{name} is larger than {MAX_MEMBER_BYTES} bytes")
    return data


def verify_export_signature(
    export_bin: bytes, signatures: Sequence[ExportSignature], public_key: ec.EllipticCurvePublicKey
) -> ExportSignature:
    """The first signature `public_key` verifies over `export_bin`; else `ExportFormatError`."""
    for signature in signatures:
        if signature.info.signature_algorithm != ECDSA_P256_SHA256_OID:
            continue
        try:
            public_key.verify(signature.signature, export_bin, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        return signature
    raise ExportFormatError("no signature in export.sig verifies with the given public key")


def read_export_archive(
    archive_bytes: bytes, *, public_key: ec.EllipticCurvePublicKey | None = None
) -> KeyExport:
    """Open a zipped export, parse both files and, given a public key, verify the signature."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive_bytes)) as archive:
            export_bin = _member(archive, EXPORT_BINARY_NAME)
            export_sig = _member(archive, EXPORT_SIGNATURE_NAME)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError) as error:
        raise ExportFormatError(f"not a readable zip archive: {error}") from None
    except (NotImplementedError, RuntimeError):
        # Unsupported compression or an encrypted member.
        raise ExportFormatError("the archive uses features exports never use") from None
    parsed = read_export_binary(export_bin)
    signatures = read_export_signature(export_sig)
    if public_key is not None:
        verify_export_signature(export_bin, signatures, public_key)
    return KeyExport(
        start_timestamp=parsed.start_timestamp,
        end_timestamp=parsed.end_timestamp,
        region=parsed.region,
        batch_num=parsed.batch_num,
        batch_size=parsed.batch_size,
        signature_infos=parsed.signature_infos,
        keys=parsed.keys,
        revised_keys=parsed.revised_keys,
        signatures=signatures,
        sha256=parsed.sha256,
    )

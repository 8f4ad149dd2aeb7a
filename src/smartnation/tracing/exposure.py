"""The Exposure Notification key server: verification codes, publishing keys, signed exports.

A health officer issues a one-time verification code to a diagnosed person; their phone publishes
its Temporary Exposure Keys with it (at most 30, at most 14 days old: the library's rules); every
phone downloads the day's signed `EK Export v1` files and matches them locally.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import N_
from smartnation.tracing.common import secret_hash
from smartnation.tracing.gaen import DiagnosisKey as Tek
from smartnation.tracing.gaen import ReportType, earliest_release, validate_diagnosis_keys
from smartnation.tracing.gaen_export import ExportSigner, SignatureInfo, build_export_archive
from smartnation.tracing.models import DiagnosisKey, VerificationCode
from smartnation.tracing.problems import TracingUnavailable, UploadNotAuthorised, library_errors
from smartnation.tracing.settings import get_tracing_settings

_DEV_SEED = b"smartnation exposure export development key - NOT FOR PRODUCTION"


class VerificationRefused(UploadNotAuthorised):
    code = "tracing_verification_refused"


def issue_verification_code(session: Session, case_id: int | None = None) -> tuple[str, datetime]:
    """A new 8-digit verification code, shown once; only its hash is kept."""
    settings = get_tracing_settings()
    code = f"{secrets.randbelow(10**8):08d}"
    expires = utcnow() + timedelta(hours=settings.verification_code_hours)
    row = VerificationCode(
        code_hash=secret_hash("en:" + code),
        case_id=case_id,
        issued_by=audit.current_actor.get(),
        issued_at=utcnow(),
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "tracing.verification_code.issued",
        subject_type="tracing_verification_code",
        subject_id=row.id,
        details={"case_id": case_id},
    )
    return code, expires


def _int(item: Mapping[str, Any], name: str, default: int | None, position: int) -> int | None:
    value = item.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            FieldProblem(f"keys.{position}.{name}", N_("Give a whole number."), "type")
        )
    return value


def parse_keys(items: Sequence[Any]) -> list[Tek]:
    """Keys as phones send them: `{key (base64), rollingStartNumber, rollingPeriod, ...}`."""
    if not isinstance(items, list) or not items:
        raise InvalidInput(FieldProblem("keys", N_("Give a list of keys."), "required"))
    if len(items) > 100:  # the library refuses more than 30; do not parse thousands first
        raise InvalidInput(FieldProblem("keys", N_("Too many keys."), "too_many"))
    keys = []
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise InvalidInput(FieldProblem(f"keys.{position}", N_("A key is an object."), "type"))
        raw = item.get("key")
        try:
            key_data = base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
        except (binascii.Error, ValueError):
            key_data = b""
        if len(key_data) != 16:
            raise InvalidInput(
                FieldProblem(f"keys.{position}.key", N_("A key is 16 bytes in base64."), "format")
            )
        report = _int(item, "reportType", None, position)
        if report is not None and report not in {int(r) for r in ReportType}:
            raise InvalidInput(
                FieldProblem(f"keys.{position}.reportType", N_("Unknown report type."), "unknown")
            )
        keys.append(
            Tek(
                key_data=key_data,
                rolling_start_interval_number=_int(item, "rollingStartNumber", 0, position) or 0,
                rolling_period=_int(item, "rollingPeriod", 144, position) or 0,
                transmission_risk_level=_int(item, "transmissionRisk", 0, position) or 0,
                report_type=ReportType(report) if report is not None else None,
                days_since_onset_of_symptoms=_int(item, "daysSinceOnsetOfSymptoms", None, position),
            )
        )
    return keys


def publish_keys(
    session: Session, verification_code: str, items: Sequence[Any], *, now: datetime | None = None
) -> int:
    """Publish a diagnosed person's keys with their verification code (used once)."""
    moment = now or utcnow()
    code = session.scalar(
        select(VerificationCode)
        .where(VerificationCode.code_hash == secret_hash("en:" + str(verification_code).strip()))
        .with_for_update()
    )
    if code is None or code.used_at is not None or code.expires_at < moment:
        raise VerificationRefused(N_("The verification code is not valid, or was already used."))
    keys = parse_keys(list(items) if isinstance(items, list | tuple) else items)
    with library_errors("keys"):
        valid = validate_diagnosis_keys(keys, now=moment)
    known = set(
        session.scalars(
            select(DiagnosisKey.key_data).where(
                DiagnosisKey.key_data.in_([k.key_data for k in valid])
            )
        )
    )
    added = 0
    for key in valid:
        if key.key_data in known:
            continue
        session.add(
            DiagnosisKey(
                key_data=key.key_data,
                rolling_start_interval_number=key.rolling_start_interval_number,
                rolling_period=key.rolling_period,
                transmission_risk_level=key.transmission_risk_level,
                report_type=int(key.report_type) if key.report_type is not None else None,
                days_since_onset=key.days_since_onset_of_symptoms,
                verification_code_id=code.id,
                published_at=moment,
            )
        )
        added += 1
    code.used_at = moment
    session.flush()
    audit.record(
        session,
        "tracing.exposure_keys.published",
        subject_type="tracing_verification_code",
        subject_id=code.id,
        details={"keys": added, "case_id": code.case_id},
    )
    return added


def signing_key() -> ec.EllipticCurvePrivateKey:
    """The configured ECDSA P-256 export key, or the public development key."""
    pem = get_tracing_settings().export_signing_key.strip()
    if pem:
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise TracingUnavailable(
                N_("The export signing key is not a PEM private key.")
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(
            key.curve, ec.SECP256R1
        ):
            raise TracingUnavailable(N_("The export signing key must be ECDSA P-256."))
        return key
    secret = int.from_bytes(hashlib.sha256(_DEV_SEED).digest(), "big")
    return ec.derive_private_key(secret, ec.SECP256R1())


def public_key_pem() -> str:
    """The public half phones verify exports with."""
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), UTC)
    return start, start + timedelta(days=1)


def export_days(session: Session) -> list[date]:
    """The UTC days (last 14) with published keys: one export file each."""
    since = utcnow() - timedelta(days=14)
    instants = session.scalars(
        select(DiagnosisKey.published_at).where(DiagnosisKey.published_at >= since)
    )
    return sorted({instant.date() for instant in instants})


def export_archive(session: Session, day: date, *, now: datetime | None = None) -> bytes:
    """The signed export of the keys published on `day`, those past their release embargo."""
    moment = now or utcnow()
    start, end = _day_bounds(day)
    rows = session.scalars(
        select(DiagnosisKey).where(
            DiagnosisKey.published_at >= start, DiagnosisKey.published_at < end
        )
    ).all()
    keys = [
        Tek(
            key_data=row.key_data,
            rolling_start_interval_number=row.rolling_start_interval_number,
            rolling_period=row.rolling_period,
            transmission_risk_level=row.transmission_risk_level,
            report_type=ReportType(row.report_type) if row.report_type is not None else None,
            days_since_onset_of_symptoms=row.days_since_onset,
        )
        for row in rows
    ]
    keys = [key for key in keys if earliest_release(key) <= moment]
    if not keys:
        raise NotFound(N_("No keys were published that day, or none may be released yet."))
    settings = get_tracing_settings()
    signer = ExportSigner(
        SignatureInfo(
            verification_key_version=settings.export_key_version,
            verification_key_id=settings.export_key_id,
        ),
        signing_key(),
    )
    with library_errors("export"):
        return build_export_archive(
            keys, start=start, end=end, region=settings.export_region, signers=[signer]
        )


def published_key_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(DiagnosisKey)) or 0

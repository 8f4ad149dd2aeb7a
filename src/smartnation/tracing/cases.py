"""Cases, upload codes, upload tokens and uploads of encounter logs (the BlueTrace server side).

A health officer opens a case and issues an upload code; the case's phone exchanges the code for
an upload token (once: a replayed code is refused) and uploads its encounter log with it (once:
a replayed token is refused). Every record is decrypted and classified by the library, stored,
and the upload audited; contact resolution then runs as a job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import N_
from smartnation.core.jobs import enqueue
from smartnation.core.memory import collector_paused
from smartnation.core.validators import parse_nric
from smartnation.registry import service as registry
from smartnation.tracing.bluetrace import (
    VALID,
    UploadLimits,
    Verdict,
    classify_upload,
    generate_upload_code,
    issue_upload_token,
    parse_encounter_log,
    validate_upload_token,
)
from smartnation.tracing.bulk import copy_rows
from smartnation.tracing.common import new_reference
from smartnation.tracing.limits import check_upload_code_attempts
from smartnation.tracing.models import Case, Encounter, TracingUser, Upload, UploadCode
from smartnation.tracing.problems import UploadNotAuthorised, library_errors
from smartnation.tracing.settings import current_keyring, get_tracing_settings

RESOLVE_JOB = "tracing.resolve_case"
ENCOUNTER_COLUMNS = (
    "occurred_at",
    "upload_id",
    "case_id",
    "valid",
    "invalid_reason",
    "contact_uid",
    "contact_user_id",
    "timestamp_s",
    "rssi",
    "tx_power",
    "model_p",
    "model_c",
    "org",
)


def open_case(session: Session, nric: str) -> Case:
    """Open a case for a confirmed person in the registry."""
    nric = parse_nric(nric)
    resident = registry.find_resident(session, nric)
    if resident is None:
        raise InvalidInput(
            FieldProblem("nric", N_("This NRIC/FIN is not in the national registry."), "unknown")
        )
    case = Case(
        reference=new_reference("CASE"),
        resident_id=resident.id,
        nric=nric,
        status="open",
        resolution="none",
        resolution_summary={},
        visits_published=False,
        created_by=audit.current_actor.get(),
        created_at=utcnow(),
    )
    session.add(case)
    session.flush()
    audit.record(session, "tracing.case.opened", subject_type="tracing_case", subject_id=case.id)
    return case


def get_case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("No such case."))
    return case


def list_cases(session: Session, *, limit: int = 100) -> list[Case]:
    return list(session.scalars(select(Case).order_by(Case.id.desc()).limit(limit)))


@dataclass(frozen=True)
class IssuedUploadCode:
    """An upload code to read to the case; shown once."""

    id: int
    code: str
    expires_at: datetime


def issue_upload_code(session: Session, case_id: int) -> IssuedUploadCode:
    """A new single-use upload code for a case, valid for `upload_code_hours`."""
    case = get_case(session, case_id)
    if case.status != "open":
        raise Conflict(N_("The case is closed."))
    now = utcnow()
    active = set(
        session.scalars(
            select(UploadCode.code).where(
                UploadCode.exchanged_at.is_(None), UploadCode.expires_at > now
            )
        )
    )
    code = generate_upload_code()
    while code in active:  # 32^6 codes: a clash is rare, but two live equal codes are not allowed
        code = generate_upload_code()
    row = UploadCode(
        case_id=case.id,
        code=code,
        issued_by=audit.current_actor.get(),
        issued_at=now,
        expires_at=now + timedelta(hours=get_tracing_settings().upload_code_hours),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "tracing.upload_code.issued",
        subject_type="tracing_case",
        subject_id=case.id,
        details={"upload_code_id": row.id, "expires_at": row.expires_at.isoformat()},
    )
    return IssuedUploadCode(row.id, code, row.expires_at)


def exchange_upload_code(
    session: Session, user: TracingUser, code: str, *, now: datetime | None = None
) -> str:
    """getUploadToken: a live upload code of this user's case becomes an upload token, once.

    `TooManyRequests` when the device has had too many codes refused lately; the caller audits
    each refusal with `record_refused_code`, in a transaction that commits, which is what the
    limit counts.
    """
    check_upload_code_attempts(session, user)
    moment = now or utcnow()
    given = (code or "").strip().upper()
    live = list(
        session.scalars(
            select(UploadCode)
            .where(UploadCode.exchanged_at.is_(None), UploadCode.expires_at > moment)
            .with_for_update()
        )
    )
    # The library compares the code against every live one in constant time.
    with library_errors("code"):
        token = issue_upload_token(
            current_keyring().keyring, user.uid, given, [row.code for row in live], now=moment
        )
    row = next(row for row in live if row.code == given)
    case = get_case(session, row.case_id)
    if case.resident_id != user.resident_id:
        # The same answer as an unknown code: a code leaks nothing about other cases.
        raise UploadNotAuthorised(f"Invalid data: {given}")
    row.exchanged_at = moment
    row.exchanged_by_user_id = user.id
    audit.record(
        session,
        "tracing.upload_code.exchanged",
        subject_type="tracing_case",
        subject_id=case.id,
        details={"upload_code_id": row.id, "user_id": user.id},
    )
    return token


@dataclass(frozen=True)
class UploadReceipt:
    upload_id: int
    case_id: int
    records_received: int
    counts: dict[str, int]
    duplicate_records: int


def _number(value: object) -> float | None:
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]
    if kind is int:
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:  # an integer beyond any float: no reading at all
            return None
    return None


def _text(value: object, size: int) -> str | None:
    return value[:size] if type(value) is str and value else None


def _encounter_rows(
    verdicts: Sequence[Verdict],
    *,
    upload_id: int,
    case_id: int,
    received_at: datetime,
    user_ids: dict[str, int],
) -> Iterable[tuple[Any, ...]]:
    """COPY rows in `ENCOUNTER_COLUMNS` order, straight from the verdicts (no dictionaries)."""
    oldest = received_at.timestamp() - 26 * 86400
    newest = received_at.timestamp() + 3600
    zone = received_at.tzinfo
    from_timestamp = datetime.fromtimestamp
    for record, timestamp, outcome, content in verdicts:
        if record is None:  # not a JSON object: only its verdict is kept
            yield (received_at, upload_id, case_id, False, outcome, *(None,) * 8)
            continue
        seconds = None if timestamp is None else float(timestamp)
        occurred = received_at
        if seconds is not None and oldest <= seconds <= newest:
            occurred = from_timestamp(seconds, zone)
        contact_uid = None if content is None else content.uid
        get = record.get
        yield (
            occurred,
            upload_id,
            case_id,
            outcome == VALID,
            None if outcome == VALID else outcome,
            contact_uid,
            user_ids.get(contact_uid) if contact_uid else None,
            seconds,
            _number(get("rssi")),
            _number(get("txPower")),
            _text(get("modelP"), 60),
            _text(get("modelC"), 60),
            _text(get("org"), 20),
        )


def _user_ids(session: Session, uids: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(uids)
    for start in range(0, len(ordered), 1000):
        chunk = ordered[start : start + 1000]
        rows = session.execute(
            select(TracingUser.uid, TracingUser.id).where(TracingUser.uid.in_(chunk))
        )
        found.update((uid, user_id) for uid, user_id in rows)
    return found


def store_encounters(session: Session, rows: Iterable[tuple[Any, ...]]) -> int:
    """Insert encounter rows: COPY on PostgreSQL, one executemany on SQLite."""
    return copy_rows(session, Encounter.__table__, ENCOUNTER_COLUMNS, rows)  # type: ignore[arg-type]


def receive_upload(
    session: Session, content: bytes, *, now: datetime | None = None
) -> UploadReceipt:
    """Check an upload's token, classify every record, store them, audit and queue resolution.

    Refused (as `DomainError`s): oversized or malformed uploads, forged or expired tokens,
    tokens whose code was not exchanged by the uploading user, and a second upload of a code.
    """
    # Nothing made here forms reference cycles; see `collector_paused` for why it pays.
    with collector_paused():
        return _receive_upload(session, content, now)


def _receive_upload(session: Session, content: bytes, now: datetime | None) -> UploadReceipt:
    moment = now or utcnow()
    settings = get_tracing_settings()
    with library_errors("upload"):
        keyring = current_keyring().keyring
        log = parse_encounter_log(content, UploadLimits(max_bytes=settings.upload_max_bytes))
        claims = validate_upload_token(keyring, log.token, now=moment)
    code = session.scalar(
        select(UploadCode)
        .join(TracingUser, TracingUser.id == UploadCode.exchanged_by_user_id)
        .where(UploadCode.code == claims.upload_code, TracingUser.uid == claims.uid)
        .order_by(UploadCode.id.desc())
        .limit(1)
        .with_for_update(of=UploadCode)
    )
    if code is None or code.exchanged_by_user_id is None:
        raise UploadNotAuthorised(N_("The upload token names no upload code issued to this phone."))
    if code.uploaded_at is not None:
        raise UploadNotAuthorised(N_("This upload code has already been used for an upload."))
    with library_errors("records"):
        classified = classify_upload(log.records, keyring)
    counts, duplicates = classified.counts, classified.duplicate_records
    records = classified.verdicts
    upload = Upload(
        case_id=code.case_id,
        user_id=code.exchanged_by_user_id,
        upload_code_id=code.id,
        received_at=moment,
        size_bytes=len(content),
        records_received=len(records),
        duplicate_records=duplicates,
        events_received=len(log.events),
        counts=dict(counts),
    )
    session.add(upload)
    code.uploaded_at = moment
    case = get_case(session, code.case_id)
    case.resolution = "pending"
    session.flush()
    contact_uids = {v.content.uid for v in records if v.content is not None}
    rows = _encounter_rows(
        records,
        upload_id=upload.id,
        case_id=code.case_id,
        received_at=moment,
        user_ids=_user_ids(session, contact_uids),
    )
    store_encounters(session, rows)
    audit.record(
        session,
        "tracing.upload.received",
        subject_type="tracing_case",
        subject_id=code.case_id,
        details={
            "upload_id": upload.id,
            "status": "SUCCESS",
            "recordsReceived": len(records),
            "counts": dict(counts),
            "duplicates": duplicates,
            "bytes": len(content),
        },
    )
    enqueue(session, RESOLVE_JOB, {"case_id": code.case_id})
    return UploadReceipt(upload.id, code.case_id, len(records), dict(counts), duplicates)


def record_refused_upload(session: Session, *, reason: str, message: str, size: int) -> None:
    """Audit an upload that was refused (written in its own transaction by the caller)."""
    audit.record(
        session,
        "tracing.upload.refused",
        subject_type="tracing_upload",
        subject_id="-",
        details={"status": "ERROR", "code": reason, "errorMessage": message[:300], "bytes": size},
    )


def uploads_of(session: Session, case_id: int) -> list[Upload]:
    return list(
        session.scalars(select(Upload).where(Upload.case_id == case_id).order_by(Upload.id))
    )


def upload_codes_of(session: Session, case_id: int) -> list[UploadCode]:
    return list(
        session.scalars(
            select(UploadCode).where(UploadCode.case_id == case_id).order_by(UploadCode.id)
        )
    )

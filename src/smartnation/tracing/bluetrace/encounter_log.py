"""Processing an uploaded encounter log, as OpenTrace's processUploadedData does.

The phone uploads `{token, records: [...], events: [...]}`. The token names the case; every
record is enriched with `timestampString`, `isValid`, the decrypted `contactId` and its window,
and, when not valid, an `invalidReason`:

- `no_msg`: the record carries no TempID;
- `failed_decryption`: no configured key opens it (`contactId` is then the raw message);
- `expired_id`: it opens, but the record's time is outside the TempID's window;

and two reasons OpenTrace does not have, for input it would mishandle:

- `invalid_timestamp`: it opens, but the record has no usable numeric timestamp (OpenTrace
  compares `undefined` with numbers, finds neither comparison true, and marks it *valid*);
- `malformed_record`: the record is not a JSON object at all.

Server-computed fields sent by the phone are dropped before enrichment, so an upload cannot
claim its own records are valid. Records are kept, duplicates included, in upload order; a
duplicate count is reported so resolution can de-duplicate.
"""

from __future__ import annotations

import json
import math
import posixpath
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from smartnation.tracing.bluetrace.keyring import Keyring
from smartnation.tracing.bluetrace.tempid import TempIDContent, open_tempid
from smartnation.tracing.bluetrace.upload_token import (
    UploadTokenClaims,
    UploadTokenPolicy,
    validate_upload_token,
)
from smartnation.tracing.errors import TracingError, UploadRefused
from smartnation.tracing.timestamps import (
    INVALID_DATE,
    epoch_ms,
    format_opentrace_timestamp,
    is_json_number,
    is_showable_timestamp,
    js_seconds,
)

_new_tuple = tuple.__new__

# Android stores milliseconds, iOS seconds: a value over 1e10 is milliseconds.
MILLISECONDS_THRESHOLD = 10_000_000_000
# Beyond this, int / 1000 cannot become a float; no real clock is anywhere near it.
_MAX_TIMESTAMP = 2**62
# Inline fast paths of `classify_upload`: floats below this are ordinary clock readings, and
# every non-negative instant before this one (year 9999 ends) has a date OpenTrace can show.
_FLOAT_FAST_LIMIT = 1e15
_SHOWABLE_UNTIL = 253_402_300_800
SERVER_FIELDS = frozenset(
    {
        "timestampString",
        "isValid",
        "invalidReason",
        "contactId",
        "contactIdValidFrom",
        "contactIdValidTo",
    }
)


class InvalidReason(StrEnum):
    """Why a record is not a valid encounter."""

    NO_MSG = "no_msg"
    EXPIRED_ID = "expired_id"
    FAILED_DECRYPTION = "failed_decryption"
    INVALID_TIMESTAMP = "invalid_timestamp"
    MALFORMED_RECORD = "malformed_record"


VALID = "valid"
NO_MSG = InvalidReason.NO_MSG.value
EXPIRED_ID = InvalidReason.EXPIRED_ID.value
FAILED_DECRYPTION = InvalidReason.FAILED_DECRYPTION.value
INVALID_TIMESTAMP = InvalidReason.INVALID_TIMESTAMP.value


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may hold; beyond these it is refused, not processed."""

    max_bytes: int = 64 * 1024 * 1024
    max_records: int = 1_000_000
    max_events: int = 100_000


@dataclass(frozen=True)
class EncounterLog:
    """A parsed upload, not yet trusted."""

    token: object
    records: list[Any]
    events: list[Any]


@dataclass(frozen=True)
class ProcessedUpload:
    """An upload whose token checked out and whose records are classified."""

    claims: UploadTokenClaims
    records: list[dict[str, Any]]
    events: list[Any]
    counts: Mapping[str, int]
    duplicate_records: int

    @property
    def uid(self) -> str:
        return self.claims.uid

    @property
    def upload_code(self) -> str:
        return self.claims.upload_code


@dataclass(frozen=True)
class UploadOutcome:
    """OpenTrace's three outputs for an uploaded file: status, forwarded data, audit entry."""

    status: dict[str, Any]
    forwarded: dict[str, Any] | None
    audit_log: dict[str, Any]
    error: TracingError | None = field(default=None, compare=False)


def _reject_constant(name: str) -> object:
    # JSON.parse rejects NaN and Infinity; so do we.
    raise ValueError(f"{name} is not JSON")


def parse_encounter_log(
    content: bytes | str | Mapping[str, Any], limits: UploadLimits | None = None
) -> EncounterLog:
    """Parse an upload `{token, records, events}`; `UploadRefused` when malformed or too large."""
    rules = limits or UploadLimits()
    if isinstance(content, bytes | str):
        if len(content) > rules.max_bytes:
            raise UploadRefused(f"the upload is larger than {rules.max_bytes} bytes")
        try:
            document = json.loads(content, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            # RecursionError: deeply nested arrays are an attack, not a crash.
            raise UploadRefused("the upload is not valid JSON") from None
    else:
        document = content
    if not isinstance(document, Mapping):
        raise UploadRefused("the upload must be a JSON object {token, records, events}")
    records = document.get("records")
    events = document.get("events", [])
    if not isinstance(records, list):
        raise UploadRefused("the upload's records must be a list")
    if len(records) > rules.max_records:
        raise UploadRefused(f"the upload holds more than {rules.max_records} records")
    if events is None:
        events = []
    if not isinstance(events, list):
        raise UploadRefused("the upload's events must be a list")
    if len(events) > rules.max_events:
        raise UploadRefused(f"the upload holds more than {rules.max_events} events")
    return EncounterLog(document.get("token"), records, events)


def _normalised_timestamp(value: object) -> int | float | None:
    kind = type(value)
    if kind is int:
        number: int | float = value  # type: ignore[assignment]
        if abs(number) > _MAX_TIMESTAMP:
            return None
    elif kind is float and math.isfinite(value):  # type: ignore[arg-type]
        number = value  # type: ignore[assignment]
    else:
        return None
    if number > MILLISECONDS_THRESHOLD:
        # Date.now()-style milliseconds become seconds, as a JS number would.
        return js_seconds(number) if kind is int else number / 1000  # type: ignore[arg-type]
    return number


def _is_js_falsy(value: object) -> bool:
    # JavaScript falsiness: absent, null, "", 0 and false all mean "no message".
    return value is None or value is False or value == "" or (is_json_number(value) and not value)


def _lookup(
    msg: object,
    keyring: Keyring,
    cache: dict[str, TempIDContent | None] | None,
    uids: dict[bytes, str] | None = None,
) -> TempIDContent | None:
    # A phone hears the same TempID many times in 15 minutes: decrypt each one once.
    if type(msg) is not str:
        return None
    if cache is None:
        return open_tempid(keyring, msg, uids)
    if msg in cache:
        return cache[msg]
    content = cache[msg] = open_tempid(keyring, msg, uids)
    return content


def _verdict(
    record: Mapping[str, Any],
    keyring: Keyring,
    cache: dict[str, TempIDContent | None] | None,
    uids: dict[bytes, str] | None = None,
) -> tuple[int | float | None, str, TempIDContent | None]:
    """(normalised timestamp, VALID or the invalid reason, what the TempID says) of a record.

    The one place a record's classification is decided; both the OpenTrace-shaped output and
    the compact one the server stores are built from it.
    """
    timestamp = _normalised_timestamp(record.get("timestamp"))
    msg = record.get("msg")
    if _is_js_falsy(msg):
        return timestamp, NO_MSG, None
    content = _lookup(msg, keyring, cache, uids)
    if content is None:
        return timestamp, FAILED_DECRYPTION, None
    if timestamp is None:
        return timestamp, INVALID_TIMESTAMP, content
    if content.start_time <= timestamp <= content.expiry_time:
        return timestamp, VALID, content
    return timestamp, EXPIRED_ID, content


def classify_record(
    record: object,
    keyring: Keyring,
    *,
    utc_offset_minutes: int = 0,
    cache: dict[str, TempIDContent | None] | None = None,
) -> dict[str, Any]:
    """One record enriched as OpenTrace forwards it (see the module docstring)."""
    if not isinstance(record, Mapping):
        return {"isValid": False, "invalidReason": InvalidReason.MALFORMED_RECORD.value}
    timestamp, outcome, content = _verdict(record, keyring, cache)
    out = dict(record)
    if not SERVER_FIELDS.isdisjoint(out):
        for name in SERVER_FIELDS:
            out.pop(name, None)
    if timestamp is not None:
        out["timestamp"] = timestamp
        out["timestampString"] = format_opentrace_timestamp(timestamp, utc_offset_minutes)
    else:
        out["timestampString"] = INVALID_DATE
    out["isValid"] = outcome == VALID
    if outcome == NO_MSG:
        out["invalidReason"] = NO_MSG
        return out
    if content is None:
        msg = record.get("msg")
        if type(msg) is str:
            out["contactId"] = msg
        out["invalidReason"] = FAILED_DECRYPTION
        return out
    out["contactId"] = content.uid
    out["contactIdValidFrom"] = content.start_time
    out["contactIdValidTo"] = content.expiry_time
    if outcome != VALID:
        out["invalidReason"] = outcome
    return out


def _duplicate_key(record: object, timestamp: int | float | None) -> object:
    """What makes two records the same sighting: message, moment, signal and phone models."""
    if not isinstance(record, Mapping):
        key: object = ("not an object", repr(record))
    else:
        # The normalised time, so 1590000000 s and 1590000000000 ms are the same moment.
        moment = (
            timestamp
            if timestamp is not None and is_showable_timestamp(timestamp)
            else ("raw", repr(record.get("timestamp")))
        )
        key = (
            record.get("msg"),
            moment,
            record.get("rssi"),
            record.get("modelC"),
            record.get("modelP"),
        )
    try:
        hash(key)
    except TypeError:  # lists or objects where strings belong: compare their text
        return repr(key)
    return key


def classify_records(
    records: list[Any], keyring: Keyring, *, utc_offset_minutes: int = 0
) -> tuple[list[dict[str, Any]], Counter[str], int]:
    """Every record classified, the count per outcome, and how many repeat an earlier record."""
    cache: dict[str, TempIDContent | None] = {}
    classified: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    seen: set[object] = set()
    for record in records:
        out = classify_record(record, keyring, utc_offset_minutes=utc_offset_minutes, cache=cache)
        classified.append(out)
        counts[VALID if out["isValid"] else out["invalidReason"]] += 1
        shown = out.get("timestampString", INVALID_DATE) != INVALID_DATE
        seen.add(_duplicate_key(record, out["timestamp"] if shown else None))
    return classified, counts, len(records) - len(seen)


class Verdict(NamedTuple):
    """One record as the server stores it: the record (None when not a JSON object), its
    normalised timestamp, `valid` or the invalid reason, and what its TempID says."""

    record: Mapping[str, Any] | None
    timestamp: int | float | None
    outcome: str
    content: TempIDContent | None


@dataclass(frozen=True)
class ClassifiedUpload:
    """Every record's verdict in upload order, the count per outcome and the repeats."""

    verdicts: list[Verdict]
    counts: Counter[str]
    duplicate_records: int


def classify_upload(records: list[Any], keyring: Keyring) -> ClassifiedUpload:
    """Classify records exactly as `classify_records` does, without building OpenTrace's
    enriched copy of each (its date strings and dictionaries are most of the cost of an upload
    and the server does not keep them).

    The loop runs once per record of uploads of tens of thousands, so the shape phones send
    (an object with a string `msg` and a non-negative number `timestamp`) is decided inline;
    every other record goes through `_verdict` and `_duplicate_key`, which define the rules.
    """
    cache: dict[str, TempIDContent | None] = {}
    uids: dict[bytes, str] = {}
    verdicts: list[Verdict] = []
    append = verdicts.append
    counts: dict[str, int] = dict.fromkeys((VALID, *InvalidReason), 0)
    seen: set[object] = set()
    add = seen.add
    unseen = object()
    malformed = (None, None, InvalidReason.MALFORMED_RECORD.value, None)
    timestamp: int | float | None
    content: TempIDContent | None
    for record in records:
        if type(record) is dict:
            get = record.get
            msg: Any = get("msg")
            raw_time: Any = get("timestamp")
            kind = type(raw_time)
            if (
                type(msg) is str
                and msg
                and (
                    (kind is int and 0 <= raw_time <= _MAX_TIMESTAMP)
                    or (kind is float and 0.0 <= raw_time < _FLOAT_FAST_LIMIT)
                )
            ):
                seconds: int | float
                if raw_time <= MILLISECONDS_THRESHOLD:
                    seconds = raw_time
                elif kind is int:
                    whole, rest = divmod(raw_time, 1000)
                    seconds = whole if rest == 0 else raw_time / 1000
                else:
                    seconds = raw_time / 1000
                found: Any = cache.get(msg, unseen)
                if found is unseen:
                    found = cache[msg] = open_tempid(keyring, msg, uids)
                content = found
                if content is None:
                    outcome = FAILED_DECRYPTION
                elif content.start_time <= seconds <= content.expiry_time:
                    outcome = VALID
                else:
                    outcome = EXPIRED_ID
                moment = (
                    seconds
                    if seconds < _SHOWABLE_UNTIL or is_showable_timestamp(seconds)
                    else ("raw", repr(raw_time))
                )
                key: object = (msg, moment, get("rssi"), get("modelC"), get("modelP"))
                try:
                    add(key)
                except TypeError:  # lists or objects where strings belong: compare their text
                    add(repr(key))
                append(_new_tuple(Verdict, (record, seconds, outcome, content)))
                counts[outcome] += 1
                continue
        if isinstance(record, Mapping):
            timestamp, outcome, content = _verdict(record, keyring, cache, uids)
            append(_new_tuple(Verdict, (record, timestamp, outcome, content)))
        else:
            timestamp, outcome = None, malformed[2]
            append(_new_tuple(Verdict, malformed))
        counts[outcome] += 1
        add(_duplicate_key(record, timestamp))
    return ClassifiedUpload(
        verdicts,
        Counter({outcome: n for outcome, n in counts.items() if n}),
        len(records) - len(seen),
    )


def process_encounter_log(
    content: bytes | str | Mapping[str, Any],
    keyring: Keyring,
    *,
    now: datetime | None = None,
    check_token_expiry: bool = True,
    limits: UploadLimits | None = None,
    token_policy: UploadTokenPolicy | None = None,
    utc_offset_minutes: int = 0,
) -> ProcessedUpload:
    """Check an upload's token and classify its records.

    Raises `UploadRefused` for a malformed or oversized upload and `InvalidUploadToken` (or
    `UploadTokenExpired`) for a bad token; every record problem is a classification instead.
    """
    log = parse_encounter_log(content, limits)
    claims = validate_upload_token(
        keyring, log.token, now=now, check_expiry=check_token_expiry, policy=token_policy
    )
    records, counts, duplicates = classify_records(
        log.records, keyring, utc_offset_minutes=utc_offset_minutes
    )
    return ProcessedUpload(claims, records, log.events, counts, duplicates)


def process_uploaded_file(
    file_path: str,
    content: bytes | str | Mapping[str, Any],
    keyring: Keyring,
    *,
    now: datetime | None = None,
    check_token_expiry: bool = True,
    limits: UploadLimits | None = None,
    token_policy: UploadTokenPolicy | None = None,
    utc_offset_minutes: int = 0,
) -> UploadOutcome:
    """OpenTrace's `_processUploadedData`: status, forwarded data and audit entry, never raising.

    The audit entry omits OpenTrace's `errorStackTrace`: stack traces do not belong in an audit
    log, and every failure here is a typed, expected one.
    """
    file_name = posixpath.basename(file_path).removesuffix(".json")
    logged_time = js_seconds(epoch_ms(now))
    step = "1 - load file"
    uid = upload_code = ""
    try:
        log = parse_encounter_log(content, limits)
        step = "2 - validate upload token"
        claims = validate_upload_token(
            keyring, log.token, now=now, check_expiry=check_token_expiry, policy=token_policy
        )
        uid, upload_code = claims.uid, claims.upload_code
        step = "3 - post-process records"
        records, _counts, _duplicates = classify_records(
            log.records, keyring, utc_offset_minutes=utc_offset_minutes
        )
    except TracingError as error:
        return UploadOutcome(
            status={"status": "ERROR", "message": error.message},
            forwarded=None,
            audit_log={
                "fileName": file_name,
                "id": uid,
                "status": "ERROR",
                "uploadCode": upload_code,
                "step": step,
                "errorMessage": error.message,
                "loggedTime": logged_time,
            },
            error=error,
        )
    return UploadOutcome(
        status={"status": "SUCCESS", "filePath": file_path},
        forwarded={
            "filePath": file_path,
            "id": uid,
            "uploadCode": upload_code,
            "records": records,
            "events": log.events,
        },
        audit_log={
            "fileName": file_name,
            "id": uid,
            "status": "SUCCESS",
            "uploadCode": upload_code,
            "recordsReceived": len(log.records),
            "recordsSent": len(records),
            "loggedTime": logged_time,
        },
    )

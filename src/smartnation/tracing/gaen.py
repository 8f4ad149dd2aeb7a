"""Google/Apple Exposure Notification: key derivation and diagnosis-key validation.

The cryptography (Exposure Notification Cryptography Specification v1.2):

    RPIK   = HKDF-SHA256(TEK, salt = none, info = "EN-RPIK", 16 bytes)
    RPI_j  = AES-128-ECB(RPIK, "EN-RPI" || 0x00 * 6 || uint32_LE(ENIN_j))
    AEMK   = HKDF-SHA256(TEK, salt = none, info = "EN-AEMK", 16 bytes)
    AEM_j  = AES-128-CTR(AEMK, IV = RPI_j, metadata)
    ENIN   = unix seconds // 600;  a TEK lasts TEKRollingPeriod = 144 intervals (one day)

and the rules a key server applies before publishing diagnosis keys, after Google's reference
exposure-notifications-server: at most 30 keys a publish, 16-byte keys, rolling periods of 1 to
144 intervals, keys not from the future and not expired before the maximum age (14 days by
default; Google's server defaults to 15), keys either sharing a start interval (at most 3) or not
overlapping, transmission risk 0 to 8 and days since symptom onset within +-14.
"""

from __future__ import annotations

import os
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from smartnation.tracing.errors import DiagnosisKeyError
from smartnation.tracing.timestamps import epoch_ms, instant_from_ms, utcnow

KEY_LENGTH = 16
INTERVAL_SECONDS = 600
TEK_ROLLING_PERIOD = 144
RPI_PREFIX = b"EN-RPI" + bytes(6)
_ENIN = struct.Struct("<I")


def en_interval_number(instant: datetime | None = None) -> int:
    """The 10-minute interval number (ENIN) of an instant: Unix seconds // 600."""
    return epoch_ms(instant) // 1000 // INTERVAL_SECONDS


def interval_start(interval_number: int) -> datetime:
    """The instant an interval begins."""
    return instant_from_ms(interval_number * INTERVAL_SECONDS * 1000)


def generate_tek() -> bytes:
    """A new random Temporary Exposure Key."""
    return os.urandom(KEY_LENGTH)


def _check_key(key: bytes, name: str) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_LENGTH:
        raise DiagnosisKeyError(f"{name} must be {KEY_LENGTH} bytes")


def _hkdf(tek: bytes, info: bytes) -> bytes:
    _check_key(tek, "a temporary exposure key")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_LENGTH, salt=None, info=info).derive(tek)


def rpi_key(tek: bytes) -> bytes:
    """The Rolling Proximity Identifier Key of a TEK."""
    return _hkdf(tek, b"EN-RPIK")


def aem_key(tek: bytes) -> bytes:
    """The Associated Encrypted Metadata Key of a TEK."""
    return _hkdf(tek, b"EN-AEMK")


def rpi_padded_data(interval_number: int) -> bytes:
    """`"EN-RPI" || 0x00*6 || uint32_LE(ENIN)`, the block RPIs are made from."""
    if not 0 <= interval_number < 2**32:
        raise DiagnosisKeyError("an interval number must fit in 32 unsigned bits")
    return RPI_PREFIX + _ENIN.pack(interval_number)


def rolling_proximity_identifiers(rpik: bytes, interval_numbers: Iterable[int]) -> list[bytes]:
    """The RPIs for several intervals, in one ECB pass (ECB is block-independent)."""
    _check_key(rpik, "an RPI key")
    blocks = b"".join(rpi_padded_data(number) for number in interval_numbers)
    encryptor = Cipher(algorithms.AES(rpik), modes.ECB()).encryptor()  # noqa: S305 (spec'd)
    out = encryptor.update(blocks) + encryptor.finalize()
    return [out[i : i + 16] for i in range(0, len(out), 16)]


def rolling_proximity_identifier(rpik: bytes, interval_number: int) -> bytes:
    """RPI_j = AES-128-ECB(RPIK, padded data of interval j)."""
    return rolling_proximity_identifiers(rpik, [interval_number])[0]


def rpis_for_tek(
    tek: bytes, rolling_start_interval_number: int, rolling_period: int = TEK_ROLLING_PERIOD
) -> list[bytes]:
    """Every RPI a phone broadcast under one TEK: what matching diagnosis keys means."""
    numbers = range(rolling_start_interval_number, rolling_start_interval_number + rolling_period)
    return rolling_proximity_identifiers(rpi_key(tek), numbers)


def associated_encrypted_metadata(aemk: bytes, rpi: bytes, metadata: bytes) -> bytes:
    """AEM = AES-128-CTR(AEMK, IV = RPI, metadata); the same call decrypts."""
    _check_key(aemk, "an AEM key")
    _check_key(rpi, "an RPI")
    encryptor = Cipher(algorithms.AES(aemk), modes.CTR(rpi)).encryptor()
    return encryptor.update(metadata) + encryptor.finalize()


class ReportType(IntEnum):
    """Why a key was published (TemporaryExposureKey.ReportType)."""

    UNKNOWN = 0
    CONFIRMED_TEST = 1
    CONFIRMED_CLINICAL_DIAGNOSIS = 2
    SELF_REPORT = 3
    RECURSIVE = 4
    REVOKED = 5


@dataclass(frozen=True)
class DiagnosisKey:
    """A TEK a diagnosed person's phone submits, with its validity window."""

    key_data: bytes
    rolling_start_interval_number: int
    rolling_period: int = TEK_ROLLING_PERIOD
    transmission_risk_level: int = 0
    report_type: ReportType | None = None
    days_since_onset_of_symptoms: int | None = None

    @property
    def end_interval_number(self) -> int:
        """The first interval after the key stopped being broadcast."""
        return self.rolling_start_interval_number + self.rolling_period


@dataclass(frozen=True)
class PublishRules:
    """Key-server limits on one publish request."""

    max_keys: int = 30
    max_age: timedelta = timedelta(days=14)
    max_same_start_keys: int = 3
    max_transmission_risk: int = 8
    max_symptom_onset_days: int = 14
    # Apple: never distribute a key until 2 hours after the end of its window.
    embargo_after_expiry: timedelta = timedelta(hours=2)


def _key_problems(key: DiagnosisKey, min_interval: int, current: int, rules: PublishRules) -> str:
    """The first rule a key breaks, or "" when it keeps them all."""
    if not isinstance(key.key_data, bytes) or len(key.key_data) != KEY_LENGTH:
        return f"key data must be {KEY_LENGTH} bytes"
    onset = key.days_since_onset_of_symptoms
    checks = [
        (
            1 <= key.rolling_period <= TEK_ROLLING_PERIOD,
            f"rolling period {key.rolling_period} must be between 1 and {TEK_ROLLING_PERIOD}",
        ),
        (
            key.end_interval_number > min_interval,
            f"the key expired before the {rules.max_age.days}-day window",
        ),
        (
            key.rolling_start_interval_number <= current,
            f"rolling start interval {key.rolling_start_interval_number} is in the future",
        ),
        (
            0 <= key.transmission_risk_level <= rules.max_transmission_risk,
            f"transmission risk must be between 0 and {rules.max_transmission_risk}",
        ),
        (
            onset is None or abs(onset) <= rules.max_symptom_onset_days,
            f"days since symptom onset must be within +-{rules.max_symptom_onset_days}",
        ),
    ]
    return next((message for ok, message in checks if not ok), "")


def validate_diagnosis_keys(
    keys: Sequence[DiagnosisKey], *, now: datetime | None = None, rules: PublishRules | None = None
) -> list[DiagnosisKey]:
    """Check one publish request; the keys sorted by start interval, or `DiagnosisKeyError`.

    Every problem is listed on the error (`problems`), each naming the key's position.
    """
    policy = rules or PublishRules()
    if not keys:
        raise DiagnosisKeyError("a publish needs at least one key")
    if len(keys) > policy.max_keys:
        raise DiagnosisKeyError(f"too many keys: {len(keys)}, at most {policy.max_keys}")
    moment = utcnow() if now is None else now
    current = en_interval_number(moment)
    min_interval = en_interval_number(moment - policy.max_age)
    problems = [
        f"key {position}: {problem}"
        for position, key in enumerate(keys)
        if (problem := _key_problems(key, min_interval, current, policy))
    ]
    seen = Counter(key.key_data for key in keys)
    problems += [f"key data repeated {n} times" for n in seen.values() if n > 1]
    if problems:
        raise DiagnosisKeyError("; ".join(problems), problems)
    ordered = sorted(keys, key=lambda k: (k.rolling_start_interval_number, k.rolling_period))
    # Keys may share a start interval (a same-day key re-issued), otherwise must not overlap.
    previous_start = ordered[0].rolling_start_interval_number
    previous_end = ordered[0].end_interval_number
    for key in ordered[1:]:
        if key.rolling_start_interval_number == previous_start:
            previous_end = key.end_interval_number
            continue
        if key.rolling_start_interval_number < previous_end:
            raise DiagnosisKeyError(
                f"keys overlap: one starting at {key.rolling_start_interval_number} overlaps one "
                f"valid from {previous_start} to {previous_end}"
            )
        previous_start, previous_end = key.rolling_start_interval_number, key.end_interval_number
    starts = Counter(key.rolling_start_interval_number for key in ordered)
    crowded = [start for start, n in starts.items() if n > policy.max_same_start_keys]
    if crowded:
        raise DiagnosisKeyError(
            f"more than {policy.max_same_start_keys} keys share start interval {crowded[0]}"
        )
    return ordered


def earliest_release(key: DiagnosisKey, rules: PublishRules | None = None) -> datetime:
    """When a key may first be distributed: its window's end plus the embargo."""
    policy = rules or PublishRules()
    return interval_start(key.end_interval_number) + policy.embargo_after_expiry

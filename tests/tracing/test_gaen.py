"""Exposure Notification cryptography against the official vectors, and publish rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tracing_support import load_vectors

from smartnation.tracing.errors import DiagnosisKeyError
from smartnation.tracing.gaen import (
    DiagnosisKey,
    PublishRules,
    aem_key,
    associated_encrypted_metadata,
    earliest_release,
    en_interval_number,
    generate_tek,
    interval_start,
    rolling_proximity_identifier,
    rpi_key,
    rpi_padded_data,
    rpis_for_tek,
    validate_diagnosis_keys,
)


@pytest.fixture(scope="module")
def en() -> dict[str, Any]:
    return load_vectors("gaen-exposure-notification.json")


def test_official_vectors_reproduce_exactly(en: dict[str, Any]) -> None:
    tek = bytes.fromhex(en["tek_hex"])
    start = datetime.fromtimestamp(en["key_generation_unix_seconds"], UTC)
    assert en_interval_number(start) == en["rolling_start_interval_number"]
    assert rpi_key(tek).hex() == en["rpik_hex"]
    assert aem_key(tek).hex() == en["aemk_hex"]
    metadata = bytes.fromhex(en["ble_metadata_hex"])
    rpis = rpis_for_tek(tek, en["rolling_start_interval_number"], en["rolling_period"])
    assert len(rpis) == len(en["intervals"]) == en["rolling_period"]
    for interval, rpi in zip(en["intervals"], rpis, strict=True):
        number = interval["en_interval_number"]
        assert number == en["rolling_start_interval_number"] + interval["i"]
        assert rpi_padded_data(number).hex() == interval["padded_data_hex"]
        assert rpi.hex() == interval["rpi_hex"]
        assert rolling_proximity_identifier(rpi_key(tek), number) == rpi
        aem = associated_encrypted_metadata(aem_key(tek), rpi, metadata)
        assert aem.hex() == interval["aem_hex"]
        assert associated_encrypted_metadata(aem_key(tek), rpi, aem) == metadata


def test_interval_numbers() -> None:
    moment = datetime(2020, 4, 2, 0, 9, 59, tzinfo=UTC)
    assert en_interval_number(moment) == 2642976
    assert interval_start(2642976) == datetime(2020, 4, 2, tzinfo=UTC)


@given(st.binary(min_size=16, max_size=16), st.integers(min_value=0, max_value=2**32 - 145))
def test_rpis_differ_per_interval_and_metadata_roundtrips(tek: bytes, start: int) -> None:
    rpis = rpis_for_tek(tek, start, 3)
    assert len(set(rpis)) == 3
    sealed = associated_encrypted_metadata(aem_key(tek), rpis[0], b"\x40\x08\x00\x00")
    assert associated_encrypted_metadata(aem_key(tek), rpis[0], sealed) == b"\x40\x08\x00\x00"


NOW = datetime(2020, 6, 15, 12, 0, tzinfo=UTC)
TODAY = en_interval_number(NOW.replace(hour=0))


def day_key(days_ago: int, **changes: Any) -> DiagnosisKey:
    key = DiagnosisKey(generate_tek(), TODAY - 144 * days_ago, 144)
    return replace(key, **changes)


def test_a_fortnight_of_keys_is_accepted_and_sorted() -> None:
    keys = [day_key(days) for days in range(14)]
    accepted = validate_diagnosis_keys(keys, now=NOW)
    assert [k.rolling_start_interval_number for k in accepted] == sorted(
        k.rolling_start_interval_number for k in keys
    )


@pytest.mark.parametrize(
    ("keys", "fragment"),
    [
        ([], "at least one"),
        ([day_key(i % 14) for i in range(31)], "too many keys: 31"),
        ([day_key(1, key_data=b"short")], "16 bytes"),
        ([day_key(1, rolling_period=0)], "rolling period 0"),
        ([day_key(1, rolling_period=145)], "rolling period 145"),
        ([day_key(16)], "expired"),
        ([day_key(-1)], "future"),
        ([day_key(1, transmission_risk_level=9)], "transmission risk"),
        ([day_key(1, days_since_onset_of_symptoms=-15)], "symptom onset"),
    ],
)
def test_bad_keys_are_refused(keys: list[DiagnosisKey], fragment: str) -> None:
    with pytest.raises(DiagnosisKeyError) as raised:
        validate_diagnosis_keys(keys, now=NOW)
    assert fragment in raised.value.message


def test_overlap_rules() -> None:
    same = day_key(1)
    # Same start interval, shorter period: a same-day key re-issued; allowed up to 3.
    validate_diagnosis_keys(
        [same, day_key(1, rolling_period=50), day_key(1, rolling_period=20)], now=NOW
    )
    with pytest.raises(DiagnosisKeyError, match="share start interval"):
        validate_diagnosis_keys([day_key(1, rolling_period=p) for p in (10, 20, 30, 40)], now=NOW)
    shifted = replace(
        day_key(1), rolling_start_interval_number=same.rolling_start_interval_number + 6
    )
    with pytest.raises(DiagnosisKeyError, match="overlap"):
        validate_diagnosis_keys([same, shifted], now=NOW)
    with pytest.raises(DiagnosisKeyError, match="repeated"):
        validate_diagnosis_keys([same, same], now=NOW)


def test_age_boundary_is_configurable() -> None:
    key = day_key(15)
    with pytest.raises(DiagnosisKeyError):
        validate_diagnosis_keys([key], now=NOW)
    validate_diagnosis_keys([key], now=NOW, rules=PublishRules(max_age=timedelta(days=15)))


def test_embargo() -> None:
    key = day_key(0)
    assert earliest_release(key) == interval_start(TODAY + 144) + timedelta(hours=2)

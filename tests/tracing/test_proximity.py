"""Calibrated distance, exposure duration and close-contact ranking."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartnation.tracing.errors import CalibrationError
from smartnation.tracing.proximity import (
    Calibration,
    CalibrationRow,
    CloseContactRule,
    Encounter,
    default_calibration,
    encounters_from_records,
    parse_calibration_csv,
    rank_contacts,
)

TABLE = Calibration(
    [
        CalibrationRow("*", "*", -65.0, 2.0),
        CalibrationRow("*", "iPhone X", -53.84, 2.0),
        CalibrationRow("SM-G950F", "iPhone X", -58.0, 2.5),
        CalibrationRow("Pixel 4", "*", -60.0, 2.0, tx_power_dbm=0.0),
    ]
)


def test_shipped_table_has_the_measured_models_and_a_default() -> None:
    table = default_calibration()
    assert table.row_for("anything", "unknown").rssi_at_2m_dbm == pytest.approx(-64.51)
    assert table.row_for("x", "iPhone X").rssi_at_2m_dbm == -53.84
    assert table.row_for("x", "SM-G950F").rssi_at_2m_dbm == -69.13
    assert table.row_for("x", "LYA-L29").rssi_at_2m_dbm == -70.56


def test_lookup_prefers_the_most_specific_row() -> None:
    assert TABLE.row_for("SM-G950F", "iPhone X").rssi_at_2m_dbm == -58.0
    assert TABLE.row_for("LYA-L29", "iPhone X").rssi_at_2m_dbm == -53.84
    assert TABLE.row_for("Pixel 4", "Mi A1").rssi_at_2m_dbm == -60.0
    assert TABLE.row_for("Mi A1", "Mi A1").rssi_at_2m_dbm == -65.0


def test_distance_model() -> None:
    # At the calibrated RSSI the distance is the reference 2 m; 20 dB weaker is 10x further (n=2).
    assert TABLE.distance_m(-53.84, "x", "iPhone X") == pytest.approx(2.0)
    assert TABLE.distance_m(-73.84, "x", "iPhone X") == pytest.approx(20.0)
    assert TABLE.distance_m(-58.0 - 25.0, "SM-G950F", "iPhone X") == pytest.approx(20.0)
    # The same reading means different distances on different phones: why calibration matters.
    assert TABLE.distance_m(-60, "x", "iPhone X") > TABLE.distance_m(-60, "x", "Mi A1")
    # A phone reporting 6 dB more transmit power than calibrated is further than it reads.
    assert TABLE.distance_m(-60, "Pixel 4", "y", tx_power=6) == pytest.approx(2 * 10 ** (6 / 20))
    assert math.isfinite(TABLE.distance_m(-1e9))


HEADER = "transmitter_model,receiver_model,rssi_at_2m_dbm,path_loss_exponent\n"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a,b\n", "lacks columns"),
        (HEADER + "x,y,-60,2\n", "*,*"),
        (HEADER + "*,*,loud,2\n", "number"),
        (HEADER + "*,*,-60,0\n", "positive"),
        (HEADER + "*,*,-60,2\n*,*,-6,2\n", "twice"),
        (HEADER + ",*,-60,2\n", "both models"),
    ],
)  # fmt: skip
def test_bad_tables_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(CalibrationError) as raised:
        parse_calibration_csv(text)
    assert fragment in raised.value.message


def sightings(contact: str, start: float, minutes: int, rssi: float, every: float = 60):
    return [
        Encounter(contact, start + i * every, rssi, "x", "Mi A1")
        for i in range(int(minutes * 60 / every))
    ]


def test_thirty_minutes_within_two_metres_is_a_close_contact() -> None:
    near = -60.0  # ~1.1 m with the default row
    far = -85.0  # ~20 m
    log = (
        sightings("A", 0, 30, near)
        + sightings("B", 0, 29, near)
        + sightings("C", 0, 60, far)
        + sightings("D", 0, 20, near)
        + sightings("D", 7200, 20, near)
    )
    random.Random(1).shuffle(log)
    ranked = rank_contacts(log, calibration=TABLE)
    by_id = {e.contact_id: e for e in ranked}
    assert by_id["A"].is_close_contact and by_id["A"].close_seconds == 1800
    assert not by_id["B"].is_close_contact and by_id["B"].close_seconds == 29 * 60
    assert by_id["C"].close_seconds == 0 and by_id["C"].total_seconds == 3600
    assert by_id["D"].is_close_contact  # cumulative: 40 minutes in two visits
    assert by_id["D"].longest_close_run_seconds == 1200
    assert [e.contact_id for e in ranked] == ["D", "A", "B", "C"]
    strict = rank_contacts(log, calibration=TABLE, rule=CloseContactRule(cumulative=False))
    assert {e.contact_id for e in strict if e.is_close_contact} == {"A"}


def test_gaps_and_duplicates() -> None:
    log = [
        Encounter("A", 0, -60),
        Encounter("A", 0, -90),  # same instant, further: counted once, at the nearest
        Encounter("A", 30, -60),
        Encounter("A", 1000, -60),  # after a long silence: the gap is not counted
    ]
    (exposure,) = rank_contacts(log, calibration=TABLE)
    assert exposure.sightings == 3
    assert exposure.close_seconds == 30 + 60 + 60
    assert exposure.first_seen == 0 and exposure.last_seen == 1000
    (unknown,) = rank_contacts([Encounter("B", 0, None)], calibration=TABLE)
    assert unknown.close_seconds == 0 and unknown.closest_distance_m == math.inf


def test_encounters_from_processed_records() -> None:
    models = {"modelP": "p", "modelC": "c"}
    records = [
        {"isValid": True, "contactId": "A", "timestamp": 10, "rssi": -60, **models, "txPower": 7},
        {"isValid": True, "contactId": "A", "timestamp": 20, "rssi": "loud", **models},
        {"isValid": False, "contactId": "B", "timestamp": 10, "rssi": -60, "invalidReason": "x"},
    ]
    encounters = encounters_from_records(records)
    assert encounters == [
        Encounter("A", 10, -60, "p", "c", 7),
        Encounter("A", 20, None, "p", "c", None),
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from("ABC"),
            st.floats(min_value=0, max_value=1e6),
            st.none() | st.floats(min_value=-120, max_value=0),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_exposure_invariants(raw: list[tuple[str, float, float | None]]) -> None:
    ranked = rank_contacts([Encounter(c, t, r) for c, t, r in raw], calibration=TABLE)
    assert {e.contact_id for e in ranked} == {c for c, _, _ in raw}
    for exposure in ranked:
        assert 0 <= exposure.longest_close_run_seconds <= exposure.close_seconds
        assert exposure.close_seconds <= exposure.total_seconds
        assert exposure.is_close_contact == (exposure.close_seconds >= 1800)
    flags = [e.is_close_contact for e in ranked]
    assert flags == sorted(flags, reverse=True)


def test_fifty_thousand_records_resolve_into_ranked_contacts() -> None:
    """A whole case's log resolves; its speed is measured in benchmarks/, never asserted here."""
    rng = random.Random(7)
    models = ["iPhone X", "SM-G950F", "LYA-L29", "Pixel 3a XL", "Mi A1"]
    log = [
        Encounter(
            f"contact-{rng.randrange(400)}",
            rng.uniform(0, 25 * 86400),
            rng.uniform(-100, -40),
            rng.choice(models),
            rng.choice(models),
        )
        for _ in range(50_000)
    ]
    ranked = rank_contacts(log, calibration=default_calibration())
    assert len(ranked) == 400
    assert {c.contact_id for c in ranked} == {e.contact_id for e in log}
    assert [c.is_close_contact for c in ranked] == sorted(
        (c.is_close_contact for c in ranked), reverse=True
    )

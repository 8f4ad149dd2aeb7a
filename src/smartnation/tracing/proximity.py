"""From encounter records to a ranked list of close contacts.

Distance comes from the log-distance path-loss model, calibrated per (transmitter model,
receiver model) pair because received signal strength depends heavily on the phones:

    d = 2 m * 10 ** ((RSSI_at_2m - RSSI) / (10 * n))

`RSSI_at_2m` and the path-loss exponent `n` come from a calibration table (data, not code:
`data/rssi_calibration.csv`). A row names a transmitter and a receiver model, either of which
may be `*`; the most specific row wins: exact pair, then any transmitter to this receiver, then
this transmitter to any receiver, then the default `*,*` row. A row measured at a known transmit
power (`tx_power_dbm`) corrects readings from phones that report theirs (`txPower`).

In a BlueTrace record the RSSI is measured by the central (`modelC`) hearing the peripheral
(`modelP`), so the transmitter is `modelP` and the receiver `modelC`.

Duration: each sighting of a contact stands for the time until the next sighting of the same
contact when that follows within `max_gap_seconds` (a missed scan is bridged), and otherwise for
`sample_seconds`, one scan cycle (the contact left, or a phone slept: the silence is not counted).
A sighting is close when its estimated distance is within `max_distance_m`. A close contact is
one with at least `min_close_seconds` of close time (cumulative by default, or in one unbroken
run): Singapore's rule was 2 m for 30 minutes.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any

from smartnation.tracing.errors import CalibrationError
from smartnation.tracing.timestamps import is_json_number

REFERENCE_DISTANCE_M = 2.0
ANY_MODEL = "*"
_COLUMNS = ("transmitter_model", "receiver_model", "rssi_at_2m_dbm", "path_loss_exponent")


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    """Average RSSI at 2 m for a pair of phone models, and how fast it falls with distance."""

    transmitter_model: str
    receiver_model: str
    rssi_at_2m_dbm: float
    path_loss_exponent: float = 2.0
    tx_power_dbm: float | None = None


class Calibration:
    """A calibration table, looked up from the most specific row to the default row."""

    def __init__(self, rows: Iterable[CalibrationRow]) -> None:
        self._rows: dict[tuple[str, str], CalibrationRow] = {}
        for row in rows:
            if not row.path_loss_exponent > 0 or not math.isfinite(row.rssi_at_2m_dbm):
                raise CalibrationError(
                    f"row {row.transmitter_model},{row.receiver_model}: the exponent must be "
                    "positive and the RSSI finite"
                )
            key = (row.transmitter_model, row.receiver_model)
            if key in self._rows:
                raise CalibrationError(f"row {key[0]},{key[1]} appears twice")
            self._rows[key] = row
        if (ANY_MODEL, ANY_MODEL) not in self._rows:
            raise CalibrationError("the calibration table needs a default row *,*")
        self._lookup_cache: dict[tuple[str, str], CalibrationRow] = {}

    @property
    def rows(self) -> tuple[CalibrationRow, ...]:
        return tuple(self._rows.values())

    def row_for(self, transmitter_model: str, receiver_model: str) -> CalibrationRow:
        """The most specific row for a pair of models."""
        pair = (transmitter_model, receiver_model)
        found = self._lookup_cache.get(pair)
        if found is None:
            for key in (
                pair,
                (ANY_MODEL, receiver_model),
                (transmitter_model, ANY_MODEL),
                (ANY_MODEL, ANY_MODEL),
            ):
                if key in self._rows:
                    found = self._rows[key]
                    break
            assert found is not None  # the default row always matches
            self._lookup_cache[pair] = found
        return found

    def distance_m(
        self,
        rssi: float,
        transmitter_model: str = ANY_MODEL,
        receiver_model: str = ANY_MODEL,
        tx_power: float | None = None,
    ) -> float:
        """Estimated distance in metres of one reading."""
        row = self.row_for(transmitter_model, receiver_model)
        return _distance(row, rssi, tx_power)


def _distance(row: CalibrationRow, rssi: float, tx_power: float | None) -> float:
    adjusted = rssi
    if tx_power is not None and row.tx_power_dbm is not None:
        # A phone transmitting 3 dB louder than the calibrated one reads 3 dB stronger.
        adjusted -= tx_power - row.tx_power_dbm
    exponent = (row.rssi_at_2m_dbm - adjusted) / (10.0 * row.path_loss_exponent)
    return REFERENCE_DISTANCE_M * math.pow(10.0, min(exponent, 300.0))


def _optional_float(text: str | None, where: str, column: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise CalibrationError(f"{where}: {column} must be a number") from None
    if not math.isfinite(value):
        raise CalibrationError(f"{where}: {column} must be finite")
    return value


def parse_calibration_csv(text: str) -> Calibration:
    """A calibration from CSV with the columns transmitter_model, receiver_model,
    rssi_at_2m_dbm, path_loss_exponent and optionally tx_power_dbm (others are ignored)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in _COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise CalibrationError(f"the calibration table lacks columns: {', '.join(missing)}")
    rows = []
    for line, record in enumerate(reader, start=2):
        where = f"line {line}"
        transmitter = (record["transmitter_model"] or "").strip()
        receiver = (record["receiver_model"] or "").strip()
        if not transmitter or not receiver:
            raise CalibrationError(f"{where}: both models are needed (use * for any)")
        rssi = _optional_float(record["rssi_at_2m_dbm"], where, "rssi_at_2m_dbm")
        exponent = _optional_float(record["path_loss_exponent"], where, "path_loss_exponent")
        if rssi is None:
            raise CalibrationError(f"{where}: rssi_at_2m_dbm is needed")
        rows.append(
            CalibrationRow(
                transmitter,
                receiver,
                rssi,
                2.0 if exponent is None else exponent,
                _optional_float(record.get("tx_power_dbm"), where, "tx_power_dbm"),
            )
        )
    return Calibration(rows)


def load_calibration(path: Path) -> Calibration:
    """A calibration table from a CSV file."""
    return parse_calibration_csv(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def default_calibration() -> Calibration:
    """The calibration table shipped with the library."""
    text = (
        resources.files("smartnation.tracing")
        .joinpath("data", "rssi_calibration.csv")
        .read_text(encoding="utf-8")
    )
    return parse_calibration_csv(text)


@dataclass(slots=True)
class Encounter:
    """One sighting of a contact: when, how strong, between which phone models.

    Not frozen: an upload makes tens of thousands and frozen construction is several times
    slower. Nothing here mutates them.
    """

    contact_id: str
    timestamp: float
    rssi: float | None
    transmitter_model: str = ANY_MODEL
    receiver_model: str = ANY_MODEL
    tx_power: float | None = None


@dataclass(frozen=True)
class CloseContactRule:
    """What makes a close contact; Singapore's guideline by default (2 m, 30 minutes)."""

    max_distance_m: float = 2.0
    min_close_seconds: float = 30 * 60
    cumulative: bool = True
    sample_seconds: float = 60.0
    max_gap_seconds: float = 120.0


@dataclass(frozen=True, slots=True)
class ContactExposure:
    """Everything the log says about one contact, and whether the rule calls it close."""

    contact_id: str
    is_close_contact: bool
    close_seconds: float
    longest_close_run_seconds: float
    total_seconds: float
    closest_distance_m: float
    first_seen: float
    last_seen: float
    sightings: int
    close_sightings: int


def encounters_from_records(records: Iterable[Mapping[str, Any]]) -> list[Encounter]:
    """Encounters from processed BlueTrace records; only records marked valid are used."""
    encounters = []
    for record in records:
        if record.get("isValid") is not True:
            continue
        rssi, tx_power = record.get("rssi"), record.get("txPower")
        encounters.append(
            Encounter(
                contact_id=record["contactId"],
                timestamp=record["timestamp"],
                rssi=rssi if is_json_number(rssi) else None,
                transmitter_model=str(record.get("modelP") or ANY_MODEL),
                receiver_model=str(record.get("modelC") or ANY_MODEL),
                tx_power=tx_power if is_json_number(tx_power) else None,
            )
        )
    return encounters


def _exposure(
    contact_id: str, sightings: Sequence[tuple[float, float]], rule: CloseContactRule
) -> ContactExposure:
    """Exposure of one contact from its (timestamp, distance exponent) sightings, by time.

    The exponent is `log10(distance / 2 m)`: distance grows with it, so comparing exponents
    saves a power per sighting; only the nearest one is turned into metres.
    """
    close_exponent = math.log10(rule.max_distance_m / REFERENCE_DISTANCE_M)
    max_gap, sample = rule.max_gap_seconds, rule.sample_seconds
    close_seconds = longest = run = total = 0.0
    close_count = 0
    last = len(sightings) - 1
    for i, (timestamp, exponent) in enumerate(sightings):
        gap = sightings[i + 1][0] - timestamp if i < last else math.inf
        # Bridge to the next sighting when it follows soon; otherwise this one stands alone.
        covered = gap if gap <= max_gap else sample
        total += covered
        if exponent <= close_exponent:
            close_count += 1
            close_seconds += covered
            run += covered
            longest = max(longest, run)
            if gap > max_gap:
                run = 0.0
        else:
            run = 0.0
    measured = close_seconds if rule.cumulative else longest
    nearest = min(exponent for _, exponent in sightings)
    return ContactExposure(
        contact_id=contact_id,
        is_close_contact=measured >= rule.min_close_seconds,
        close_seconds=close_seconds,
        longest_close_run_seconds=longest,
        total_seconds=total,
        closest_distance_m=(
            math.inf
            if nearest == math.inf
            else REFERENCE_DISTANCE_M * math.pow(10.0, min(nearest, 300.0))
        ),
        first_seen=sightings[0][0],
        last_seen=sightings[-1][0],
        sightings=len(sightings),
        close_sightings=close_count,
    )


Reading = tuple[str, float, float | None, str | None, str | None, float | None]
"""(contact id, timestamp, RSSI, transmitter model, receiver model, transmit power): an
`Encounter` as a plain tuple, the shape rows come out of a database in. A missing model is `*`."""


def rank_contacts(
    encounters: Iterable[Encounter],
    *,
    calibration: Calibration | None = None,
    rule: CloseContactRule | None = None,
) -> list[ContactExposure]:
    """Every contact's exposure, close contacts first, then by close time and distance.

    Sightings of one contact at the same instant count once, at the nearest distance.
    """
    return rank_readings(
        (
            (e.contact_id, e.timestamp, e.rssi, e.transmitter_model, e.receiver_model, e.tx_power)
            for e in encounters
        ),
        calibration=calibration,
        rule=rule,
    )


def rank_readings(
    readings: Iterable[Reading],
    *,
    calibration: Calibration | None = None,
    rule: CloseContactRule | None = None,
) -> list[ContactExposure]:
    """`rank_contacts` of readings given as tuples (see `Reading`), without building an
    `Encounter` for each: resolution reads tens of thousands of them per case."""
    table = calibration or default_calibration()
    policy = rule or CloseContactRule()
    # Per pair of models: (RSSI at 2 m, 10 * n, calibrated transmit power), looked up once.
    pairs: dict[tuple[str | None, str | None], tuple[float, float, float | None]] = {}
    measured: list[tuple[str, float, float]] = []
    append = measured.append
    for contact_id, timestamp, rssi, transmitter, receiver, tx_power in readings:
        if rssi is None:
            append((contact_id, timestamp, math.inf))
            continue
        pair = (transmitter, receiver)
        params = pairs.get(pair)
        if params is None:
            row = table.row_for(transmitter or ANY_MODEL, receiver or ANY_MODEL)
            params = pairs[pair] = (
                row.rssi_at_2m_dbm,
                10.0 * row.path_loss_exponent,
                row.tx_power_dbm,
            )
        reference, scale, calibrated_tx = params
        if calibrated_tx is not None and tx_power is not None:
            # A phone transmitting 3 dB louder than the calibrated one reads 3 dB stronger.
            reference += tx_power - calibrated_tx
        append((contact_id, timestamp, (reference - rssi) / scale))
    measured.sort()
    exposures = []
    for contact_id, group in groupby(measured, key=itemgetter(0)):
        # Sorted by (contact, time, distance): the first of equal instants is the nearest.
        sightings: list[tuple[float, float]] = []
        for _, timestamp, exponent in group:
            if not sightings or sightings[-1][0] != timestamp:
                sightings.append((timestamp, exponent))
        exposures.append(_exposure(contact_id, sightings, policy))
    exposures.sort(
        key=lambda e: (not e.is_close_contact, -e.close_seconds, e.closest_distance_m, e.contact_id)
    )
    return exposures


__all__ = [
    "Calibration",
    "CalibrationRow",
    "CloseContactRule",
    "ContactExposure",
    "Encounter",
    "Reading",
    "default_calibration",
    "encounters_from_records",
    "load_calibration",
    "parse_calibration_csv",
    "rank_contacts",
    "rank_readings",
]

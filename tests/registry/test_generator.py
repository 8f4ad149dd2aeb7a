"""The synthetic population: deterministic, valid, and shaped like Singapore's."""

from __future__ import annotations

from collections import Counter
from datetime import date

from smartnation.core.clock import age_on
from smartnation.core.validators import is_valid_nric, parse_postal_code
from smartnation.registry import names
from smartnation.registry.generator import (
    CHUNK_SIZE,
    REFERENCE_DATE,
    RESIDENT_COLUMNS,
    building_count,
    generate_addresses,
    generate_chunk,
    generate_chunks,
    generate_residents,
)
from smartnation.registry.loader import copy_blocks

PEOPLE = 20_000


def _people(seed: int = 7, start: int = 0, count: int = PEOPLE) -> list[dict[str, object]]:
    rows = generate_residents(seed, start, count, building_count(PEOPLE))
    return [dict(zip(RESIDENT_COLUMNS, row, strict=True)) for row in rows]


def test_same_seed_same_people_and_other_seed_other_people() -> None:
    assert _people(7, 0, 500) == _people(7, 0, 500)
    assert _people(8, 0, 500) != _people(7, 0, 500)


def test_generating_from_an_offset_gives_the_same_people() -> None:
    whole = _people(3, 0, CHUNK_SIZE + 200)
    tail = _people(3, CHUNK_SIZE - 100, 300)
    assert tail == whole[CHUNK_SIZE - 100 : CHUNK_SIZE + 200]


def test_every_nric_is_valid_and_unique() -> None:
    people = _people()
    nrics = [p["nric"] for p in people]
    assert len(set(nrics)) == len(nrics)
    assert all(is_valid_nric(str(n)) for n in nrics)
    prefixes = Counter(str(n)[0] for n in nrics)
    assert set(prefixes) >= {"S", "T", "F", "G", "M"}


def test_citizens_and_prs_hold_s_or_t_and_foreigners_a_fin() -> None:
    for person in _people(count=5000):
        prefix = str(person["nric"])[0]
        if person["residential_status"] in ("C", "P"):
            born = person["date_of_birth"]
            assert isinstance(born, date)
            assert prefix == ("T" if born.year >= 2000 else "S")
        else:
            assert prefix in "FGM"


def test_population_shape_is_roughly_singapores() -> None:
    people = _people()
    status = Counter(p["residential_status"] for p in people)
    assert 0.58 < status["C"] / PEOPLE < 0.66
    assert 0.07 < status["P"] / PEOPLE < 0.11
    residents = [p for p in people if p["residential_status"] != "A"]
    race = Counter(p["race"] for p in residents)
    assert 0.70 < race["CN"] / len(residents) < 0.78
    ages = [age_on(p["date_of_birth"], REFERENCE_DATE) for p in residents]  # type: ignore[arg-type]
    seniors = sum(1 for a in ages if a >= 65) / len(ages)
    assert 0.12 < seniors < 0.22
    assert max(ages) < 100


def test_awkward_cases_are_present() -> None:
    names = [str(p["name"]) for p in _people()]
    assert any("," in n for n in names)
    assert any("'" in n for n in names)
    assert any(len(n) > 66 for n in names)
    people = _people()
    assert any(p["mobile"] is None for p in people)
    assert any(p["email"] is None for p in people)


def test_addresses_have_valid_unique_postal_codes() -> None:
    addresses = generate_addresses(1, 5000)
    codes = [a.postal_code for a in addresses]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert parse_postal_code(code) == code


def test_people_do_not_depend_on_how_they_are_chunked() -> None:
    buildings = building_count(PEOPLE)
    whole = generate_chunk(11, 0, 3000, buildings)
    parts = [generate_chunk(11, s, c, buildings) for s, c in ((0, 1), (1, 999), (1000, 2000))]
    assert list(whole.rows()) == [row for part in parts for row in part.rows()]
    assert [len(c) for c in generate_chunks(11, 0, 2500, buildings, size=1000)] == [1000, 1000, 500]


def _parse_copy_text(block: bytes) -> list[tuple[object, ...]]:
    rows = []
    for line in block.decode().splitlines():
        fields = [None if f == r"\N" else f for f in line.split("\t")]
        fields[3] = date.fromisoformat(str(fields[3]))
        rows.append(tuple(fields))
    return rows


def test_copy_text_holds_exactly_the_generated_rows() -> None:
    chunk = generate_chunk(5, 123, 5000, building_count(PEOPLE))
    parsed = _parse_copy_text(chunk.copy_text("2026-01-01T00:00:00+00:00"))
    assert [row[:-1] for row in parsed] == list(chunk.rows())
    assert {row[-1] for row in parsed} == {"2026-01-01T00:00:00+00:00"}


def test_name_parts_need_no_escaping_in_copy_text() -> None:
    # copy_text writes values as they are: none may hold COPY's special characters.
    parts = [v for name in dir(names) if name.isupper() for v in getattr(names, name)]
    assert parts
    for part in parts:
        assert not set(part) & {"\t", "\n", "\r", "\\"}, part


def test_worker_processes_make_the_same_blocks_as_this_process() -> None:
    count, buildings = CHUNK_SIZE + 700, building_count(PEOPLE)
    here = list(copy_blocks(9, 300, count, buildings, "NOW", workers=0))
    there = list(copy_blocks(9, 300, count, buildings, "NOW", workers=2))
    assert [rows for _, rows in there] == [CHUNK_SIZE, 700]
    assert here == there

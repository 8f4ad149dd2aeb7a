"""A synthetic population shaped like Singapore's, deterministic for a seed.

The same seed gives the same people, whichever chunk size or process generates them: each chunk
draws from its own generator seeded by (seed, chunk number), and NRIC/FIN digits come from a
bijection of the person's index, so numbers are unique and checksums valid without coordination.

Shape: about 62% citizens, 9% permanent residents and 29% foreigners; the resident age pyramid of
the 2020 census; Chinese, Malay, Indian and other communities in census proportions; HDB flats for
most residents, condominiums and landed homes for some, dormitories for many work-permit holders.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

from smartnation.core.validators import nric_check_letter
from smartnation.registry import names as n

# Ages are computed against a fixed date so that a seed gives the same people in any year.
REFERENCE_DATE = date(2026, 7, 1)
CHUNK_SIZE = 50_000
PEOPLE_PER_BUILDING = 40

# Resident population by five-year band (thousands), 2020 census; the last band is 90-99.
_RESIDENT_AGE_BANDS = (
    191,
    208,
    213,
    219,
    250,
    300,
    318,
    313,
    308,
    301,
    296,
    302,
    283,
    238,
    163,
    103,
    68,
    38,
    20,
)
# Non-residents are mostly of working age.
_FOREIGNER_AGE_BANDS = (20, 25, 25, 30, 160, 260, 260, 200, 160, 110, 70, 40, 20, 8, 3, 1, 1, 0, 0)
_RESIDENT_AGE_CUM = list(accumulate(_RESIDENT_AGE_BANDS))
_FOREIGNER_AGE_CUM = list(accumulate(_FOREIGNER_AGE_BANDS))

_STATUS_CUM = list(accumulate((62, 9, 29)))  # citizen, PR, foreigner
_RACE = ("CN", "MY", "IN", "XX")
_RACE_CUM = list(accumulate((740, 135, 90, 35)))  # per mille, resident population
_FOREIGN_NATIONALITY = (
    "MY",
    "CN",
    "IN",
    "PH",
    "BD",
    "ID",
    "MM",
    "GB",
    "US",
    "AU",
    "JP",
    "KR",
    "VN",
)
_FOREIGN_NATIONALITY_CUM = list(accumulate((22, 18, 16, 10, 10, 6, 5, 3, 2, 2, 2, 2, 2)))
_PR_NATIONALITY = ("MY", "CN", "IN", "ID", "GB")
_PR_BIRTH_CUM = list(accumulate((45, 30, 15, 5, 5)))
_HOUSING = ("111", "112", "113", "114", "115", "116", "131", "132", "139", "121", "122", "123")
_HOUSING_CUM = list(accumulate((2, 5, 18, 32, 18, 5, 9, 3, 3, 1, 2, 2)))
_BUILDING_KIND = {
    "111": "hdb",
    "112": "hdb",
    "113": "hdb",
    "114": "hdb",
    "115": "hdb",
    "116": "hdb",
    "131": "condo",
    "132": "condo",
    "139": "condo",
    "121": "landed",
    "122": "landed",
    "123": "landed",
    "199": "dormitory",
}
_BUILDING_KIND_CUM = list(accumulate((70, 18, 10, 2)))  # hdb, condo, landed, dormitory
_BUILDING_KINDS = ("hdb", "condo", "landed", "dormitory")
_SECTORS = tuple(f"{s:02d}" for s in range(1, 83) if s != 74)
# Multipliers coprime to the ranges they permute: indexes map to numbers that look scattered.
_NRIC_MULTIPLIER = 7_654_321
_POSTAL_MULTIPLIER = 7_919


@dataclass(frozen=True, slots=True)
class AddressRow:
    postal_code: str
    block: str
    street: str
    building: str | None
    building_type: str


def _postal_code(index: int) -> str:
    sector = _SECTORS[index % len(_SECTORS)]
    rest = (index // len(_SECTORS)) * _POSTAL_MULTIPLIER % 10_000
    return f"{sector}{rest:04d}"


def building_count(people: int) -> int:
    """How many buildings a population of this size lives in."""
    return max(8, people // PEOPLE_PER_BUILDING)


def generate_addresses(seed: int, count: int) -> list[AddressRow]:
    """The buildings people live and work in; postal codes are unique."""
    rng = random.Random(f"{seed}:addresses")
    rows = []
    for index in range(count):
        kind = (
            _BUILDING_KINDS[index % 4]
            if index < 4
            else rng.choices(_BUILDING_KINDS, cum_weights=_BUILDING_KIND_CUM)[0]
        )
        if kind == "hdb":
            block = f"{rng.randint(1, 999)}{rng.choice(('', '', '', 'A', 'B', 'C'))}"
            street = f"{rng.choice(n.STREET_NAMES)} {rng.randint(1, 12)}"
            building = None
        elif kind == "condo":
            block = str(rng.randint(1, 150))
            street = rng.choice(n.PRIVATE_STREETS)
            building = rng.choice(n.CONDO_NAMES)
        elif kind == "landed":
            block = str(rng.randint(1, 400))
            street = rng.choice(n.PRIVATE_STREETS)
            building = None
        else:
            block = str(rng.randint(1, 60))
            street = rng.choice(
                ("TOH GUAN ROAD EAST", "PUNGGOL WAY", "SUNGEI TENGAH ROAD", "TUAS VIEW")
            )
            building = rng.choice(n.DORMITORY_NAMES)
        rows.append(AddressRow(_postal_code(index), block, street, building, kind))
    return rows


class _BuildingIndex:
    """Buildings grouped by kind, so a person is housed in a place that fits their housing type."""

    def __init__(self, addresses: list[AddressRow]) -> None:
        self.by_kind: dict[str, list[str]] = {kind: [] for kind in _BUILDING_KINDS}
        for address in addresses:
            self.by_kind[address.building_type].append(address.postal_code)


def nric_for(index: int, prefix: str) -> str:
    """A unique, valid NRIC/FIN for a person's index."""
    digits = f"{index * _NRIC_MULTIPLIER % 10_000_000:07d}"
    return f"{prefix}{digits}{nric_check_letter(prefix, digits)}"


def _age(rng: random.Random, cum: list[int]) -> int:
    band = rng.choices(range(len(cum)), cum_weights=cum)[0]
    return band * 5 + rng.randint(0, 9 if band == len(cum) - 1 else 4)


def _chinese_name(rng: random.Random, sex: str) -> str:
    surname = rng.choice(n.CHINESE_SURNAMES)
    given = f"{rng.choice(n.CHINESE_SYLLABLES)} {rng.choice(n.CHINESE_SYLLABLES)}"
    roll = rng.random()
    if roll < 0.18:
        christian = rng.choice(n.CHRISTIAN_NAMES_MALE if sex == "M" else n.CHRISTIAN_NAMES_FEMALE)
        return (
            f"{surname} {given}, {christian}" if roll < 0.09 else f"{christian} {surname} {given}"
        )
    return f"{surname} {given}"


def _malay_name(rng: random.Random, sex: str) -> str:
    father = f"{rng.choice(n.MALAY_MALE)} {rng.choice(n.MALAY_MALE)}"
    if sex == "M":
        return f"{rng.choice(n.MALAY_MALE)} {rng.choice(n.MALAY_MALE)} BIN {father}"
    return f"{rng.choice(n.MALAY_FEMALE)} {rng.choice(n.MALAY_FEMALE)} BINTE {father}"


def _indian_name(rng: random.Random, sex: str) -> str:
    father = rng.choice(n.INDIAN_FATHERS)
    if sex == "M":
        return f"{rng.choice(n.INDIAN_MALE)} S/O {father}"
    return f"{rng.choice(n.INDIAN_FEMALE)} D/O {father}"


def _other_name(rng: random.Random, _sex: str) -> str:
    return f"{rng.choice(n.WESTERN_GIVEN)} {rng.choice(n.EURASIAN_SURNAMES)}"


def _foreign_name(rng: random.Random, sex: str, nationality: str) -> str:
    if nationality == "CN":
        return f"{rng.choice(n.PRC_SURNAMES)} {rng.choice(n.CHINESE_SYLLABLES)}"
    if nationality == "MY":
        return rng.choice((_chinese_name, _malay_name, _indian_name))(rng, sex)
    if nationality in ("IN", "LK"):
        return _indian_name(rng, sex)
    if nationality == "BD":
        return " ".join(rng.sample(n.BANGLADESHI_GIVEN, 3))
    if nationality == "PH":
        return f"{rng.choice(n.FILIPINO_GIVEN)} {rng.choice(n.FILIPINO_SURNAMES)}"
    if nationality == "ID":
        return _malay_name(rng, sex).split(" BIN")[0]
    return _other_name(rng, sex)


_RESIDENT_NAMERS = {"CN": _chinese_name, "MY": _malay_name, "IN": _indian_name, "XX": _other_name}


def _very_long(name: str) -> str:
    # Some people's full names run past what a card prints; systems must not cut them off.
    first = name.split(" ", maxsplit=1)[0]
    return f"{name} ALSO KNOWN AS {first} ABDUL RAHMAN BIN MOHAMED ISKANDAR SHAH"


def _email_for(rng: random.Random, name: str, index: int) -> str:
    local = "".join(
        ch for ch in name.split(",", maxsplit=1)[0].lower() if ch.isalnum() or ch == " "
    )
    local = ".".join(local.split()[:2]) or "resident"
    return f"{local}{index % 997}@{rng.choice(('example.sg', 'example.com', 'mail.example.org'))}"


def generate_residents(
    seed: int, start: int, count: int, buildings: int
) -> Iterator[tuple[object, ...]]:
    """People `start` to `start + count`, as rows in the column order of `RESIDENT_COLUMNS`.

    Call it with any `start` that is a multiple of CHUNK_SIZE and the result is the same as if
    the whole population were generated at once.
    """
    addresses = _BuildingIndex(generate_addresses(seed, buildings))
    hdb = addresses.by_kind["hdb"] or [a for k in _BUILDING_KINDS for a in addresses.by_kind[k]]
    condo = addresses.by_kind["condo"] or hdb
    landed = addresses.by_kind["landed"] or hdb
    dormitory = addresses.by_kind["dormitory"] or hdb
    ref_ordinal = REFERENCE_DATE.toordinal()
    end = start + count
    chunk = start // CHUNK_SIZE
    while start < end:
        rng = random.Random(f"{seed}:people:{chunk}")
        chunk_end = min(end, (chunk + 1) * CHUNK_SIZE)
        # Skip the draws of the people before `start` in this chunk, for determinism.
        for index in range(chunk * CHUNK_SIZE, chunk_end):
            row = _person(rng, index, ref_ordinal, hdb, condo, landed, dormitory)
            if index >= start:
                yield row
        start = chunk_end
        chunk += 1


def _person(
    rng: random.Random,
    index: int,
    ref_ordinal: int,
    hdb: list[str],
    condo: list[str],
    landed: list[str],
    dormitory: list[str],
) -> tuple[object, ...]:
    rand = rng.random
    status = ("C", "P", "A")[rng.choices((0, 1, 2), cum_weights=_STATUS_CUM)[0]]
    sex = "M" if rand() < 0.49 else "F"
    if status == "A":
        age = max(_age(rng, _FOREIGNER_AGE_CUM), 0)
        nationality = _FOREIGN_NATIONALITY[
            rng.choices(range(len(_FOREIGN_NATIONALITY)), cum_weights=_FOREIGN_NATIONALITY_CUM)[0]
        ]
        birth_country = nationality
        race = {"CN": "CN", "MY": "MY", "IN": "IN", "ID": "MY"}.get(nationality, "XX")
        name = _foreign_name(rng, sex, nationality)
        arrival_year = REFERENCE_DATE.year - rng.randint(0, max(0, min(age - 18, 30)))
        prefix = "F" if arrival_year < 2000 else ("G" if arrival_year < 2022 else "M")
        work_permit = age >= 20 and nationality in ("BD", "IN", "MM", "CN") and rand() < 0.55
        housing = "199" if work_permit else ("131" if rand() < 0.5 else "114")
    else:
        age = _age(rng, _RESIDENT_AGE_CUM)
        race = _RACE[rng.choices((0, 1, 2, 3), cum_weights=_RACE_CUM)[0]]
        if status == "C":
            nationality, birth_country = "SG", ("SG" if rand() < 0.9 else "MY")
        else:
            nationality = _PR_NATIONALITY[rng.choices(range(5), cum_weights=_PR_BIRTH_CUM)[0]]
            birth_country = nationality
        name = _RESIDENT_NAMERS[race](rng, sex)
        prefix = ""  # S or T by the year of birth, below
        housing = _HOUSING[rng.choices(range(len(_HOUSING)), cum_weights=_HOUSING_CUM)[0]]
    dob = date.fromordinal(ref_ordinal - age * 365 - age // 4 - rng.randint(0, 364))
    if not prefix:
        prefix = "T" if dob.year >= 2000 else "S"
    roll = rand()
    if roll < 0.0005:
        name = _very_long(name)
    kind = _BUILDING_KIND[housing]
    pool = {"hdb": hdb, "condo": condo, "landed": landed, "dormitory": dormitory}[kind]
    postal = pool[int(rand() * len(pool))]
    if kind in ("hdb", "condo", "dormitory"):
        floor, unit = f"{rng.randint(1, 30):02d}", f"{rng.randint(1, 400):03d}"
    else:
        floor, unit = None, None
    # Most adults have a mobile; many of the oldest and youngest do not.
    has_phone = rand() < (0.25 if age < 12 else 0.72 if age >= 75 else 0.97)
    mobile = f"+65{rng.choice('89')}{rng.randint(0, 9_999_999):07d}" if has_phone else None
    email = (
        _email_for(rng, name, index)
        if age >= 13 and rand() < (0.45 if age >= 75 else 0.85)
        else None
    )
    if age < 21:
        marital = "1"
    else:
        marital_roll = rand()
        marital = (
            "1"
            if marital_roll < 0.3
            else "2"
            if marital_roll < 0.88
            else ("3" if age > 60 and marital_roll < 0.96 else "5")
        )
    nric = nric_for(index, prefix)
    return (
        nric,
        name,
        sex,
        dob,
        race,
        nationality,
        birth_country,
        status,
        postal,
        floor,
        unit,
        mobile,
        email,
        marital,
        housing,
    )


RESIDENT_COLUMNS = (
    "nric",
    "name",
    "sex",
    "date_of_birth",
    "race",
    "nationality",
    "birth_country",
    "residential_status",
    "postal_code",
    "floor",
    "unit",
    "mobile",
    "email",
    "marital_status",
    "housing_type",
)


def dob_bounds() -> tuple[date, date]:
    """The oldest and youngest birth dates the generator can produce."""
    return REFERENCE_DATE - timedelta(days=100 * 366), REFERENCE_DATE

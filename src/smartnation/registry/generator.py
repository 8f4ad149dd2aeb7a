"""A synthetic population shaped like Singapore's, deterministic for a seed.

Every person draws a fixed number of uniform numbers from one PCG64 stream per seed, in the order
of their index, so person `i` is the same whichever chunk, process or offset generates them: a
chunk starting at `start` simply advances the stream by `start * DRAWS_PER_PERSON` first. People
are made a chunk at a time with NumPy (columns, not rows), which is what makes loading the whole
nation fast; NRIC/FIN digits come from a bijection of the person's index, so numbers are unique and
checksums valid without coordination.

Shape: about 62% citizens, 9% permanent residents and 29% foreigners; the resident age pyramid of
the 2020 census; Chinese, Malay, Indian and other communities in census proportions; HDB flats for
most residents, condominiums and landed homes for some, dormitories for many work-permit holders.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate, permutations
from typing import Any, BinaryIO, cast

import numpy as np
import numpy.typing as npt

from smartnation.core.validators import nric_check_letter
from smartnation.registry import names as n

# Ages are computed against a fixed date so that a seed gives the same people in any year.
REFERENCE_DATE = date(2026, 7, 1)
CHUNK_SIZE = 50_000
PEOPLE_PER_BUILDING = 40

# Resident population by five-year band (thousands), 2020 census; the last band is 90-99.
_RESIDENT_AGE_BANDS: tuple[int, ...] = (191, 208, 213, 219, 250, 300, 318, 313, 308, 301)
_RESIDENT_AGE_BANDS += (296, 302, 283, 238, 163, 103, 68, 38, 20)
# Non-residents are mostly of working age.
_FOREIGNER_AGE_BANDS = (20, 25, 25, 30, 160, 260, 260, 200, 160, 110, 70, 40, 20, 8, 3, 1, 1, 0, 0)

_RACE = ("CN", "MY", "IN", "XX")
_RACE_PER_MILLE = (740, 135, 90, 35)  # resident population
_FOREIGN_NATIONALITY: tuple[str, ...] = (
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
)
_FOREIGN_NATIONALITY += ("VN",)
_FOREIGN_NATIONALITY_WEIGHTS = (22, 18, 16, 10, 10, 6, 5, 3, 2, 2, 2, 2, 2)
_PR_NATIONALITY = ("MY", "CN", "IN", "ID", "GB")
_PR_NATIONALITY_WEIGHTS = (45, 30, 15, 5, 5)
_HOUSING = ("111", "112", "113", "114", "115", "116", "131", "132", "139", "121", "122", "123")
_HOUSING_WEIGHTS = (2, 5, 18, 32, 18, 5, 9, 3, 3, 1, 2, 2)
_BUILDING_KINDS = ("hdb", "condo", "landed", "dormitory")
_BUILDING_KIND_CUM = list(accumulate((70, 18, 10, 2)))
# Which kind of building each housing type is found in (index into _BUILDING_KINDS; HDB if absent).
_KIND_BY_HOUSING = {"131": 1, "132": 1, "139": 1, "121": 2, "122": 2, "123": 2, "199": 3}
_SECTORS = tuple(f"{s:02d}" for s in range(1, 83) if s != 74)
# Multipliers coprime to the ranges they permute: indexes map to numbers that look scattered.
_NRIC_MULTIPLIER = 7_654_321
_POSTAL_MULTIPLIER = 7_919
_NRIC_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)

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

# The uniform numbers each person draws, by what they decide. Adding a draw changes every person
# of every seed, so new draws go at the end.
(
    _U_STATUS,
    _U_SEX,
    _U_AGE_BAND,
    _U_AGE_YEAR,
    _U_COMMUNITY,
    _U_ORIGIN,
    _U_ARRIVAL,
    _U_PERMIT,
    _U_HOUSING,
    _U_BIRTHDAY,
    _U_LONG_NAME,
    _U_BUILDING,
    _U_FLOOR,
    _U_UNIT,
    _U_HAS_PHONE,
    _U_PHONE,
    _U_HAS_EMAIL,
    _U_EMAIL_DOMAIN,
    _U_MARITAL,
    _U_NAME_1,
    _U_NAME_2,
    _U_NAME_3,
    _U_NAME_4,
    _U_NAME_5,
) = range(24)
DRAWS_PER_PERSON = 24

Strings = npt.NDArray[np.object_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


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


@lru_cache(maxsize=4)
def _building_pools(seed: int, buildings: int) -> tuple[Strings, ...]:
    """Postal codes by kind of building, so a person lives in a place that fits their housing."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in _BUILDING_KINDS}
    for address in generate_addresses(seed, buildings):
        by_kind[address.building_type].append(address.postal_code)
    hdb = by_kind["hdb"] or [code for codes in by_kind.values() for code in codes]
    return tuple(_strings(by_kind[kind] or hdb) for kind in _BUILDING_KINDS)


def nric_for(index: int, prefix: str) -> str:
    """A unique, valid NRIC/FIN for a person's index."""
    digits = f"{index * _NRIC_MULTIPLIER % 10_000_000:07d}"
    return f"{prefix}{digits}{nric_check_letter(prefix, digits)}"


def _strings(values: Any) -> Strings:
    """A one-dimensional array of Python strings (NumPy would otherwise make fixed-width ones)."""
    items = list(values)
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


def _pick(table: Strings, u: Floats) -> Strings:
    """table[floor(u * len(table))]: a uniform choice for each person."""
    return table[(u * len(table)).astype(np.int64)]


def _category(weights: tuple[int, ...], u: Floats) -> Ints:
    cumulative = np.cumsum(weights)
    return np.searchsorted(cumulative, u * cumulative[-1], side="right")  # type: ignore[no-any-return]


def _check_letter_tables() -> dict[str, Strings]:
    # The check letter depends only on the weighted digit sum modulo 11: find digits for each
    # remainder and ask the validator, so the letters come from the one implementation.
    sums: dict[int, str] = {}
    for number in range(100):
        digits = f"{number:07d}"
        sums.setdefault(
            sum(w * int(d) for w, d in zip(_NRIC_WEIGHTS, digits, strict=True)) % 11, digits
        )
    return {
        prefix: _strings(nric_check_letter(prefix, sums[r]) for r in range(11))
        for prefix in "STFGM"
    }


_CHECK_LETTERS = np.stack(list(_check_letter_tables().values()))  # [prefix, remainder]
_PREFIXES = _strings("STFGM")
_SEXES = _strings("FM")
_TWO_DIGITS = _strings(f"{i:02d}" for i in range(31))
_THREE_DIGITS = _strings(f"{i:03d}" for i in range(1000))
_FOUR_DIGITS = _strings(f"{i:04d}" for i in range(10_000))
_MOBILE_START = _strings(("+658", "+659"))
_EMAIL_NUMBER = _strings(str(i) for i in range(997))
_EMAIL_DOMAINS = _strings(("@example.sg", "@example.com", "@mail.example.org"))
_COUNTRIES = _strings(dict.fromkeys(("SG", *_FOREIGN_NATIONALITY, *_PR_NATIONALITY)))
_COUNTRY_INDEX = {code: i for i, code in enumerate(_COUNTRIES.tolist())}
_PR_COUNTRY = np.array([_COUNTRY_INDEX[c] for c in _PR_NATIONALITY])
_FOREIGN_COUNTRY = np.array([_COUNTRY_INDEX[c] for c in _FOREIGN_NATIONALITY])
_HOUSING_CODES = _strings((*_HOUSING, "199"))
_HOUSING_INDEX = {code: i for i, code in enumerate(_HOUSING_CODES.tolist())}
_KIND_OF_HOUSING = np.array([_KIND_BY_HOUSING.get(code, 0) for code in _HOUSING_CODES.tolist()])
_DOB_BASE = REFERENCE_DATE.toordinal() - 101 * 366
_DOB_ISO = _strings(
    date.fromordinal(o).isoformat() for o in range(_DOB_BASE, _DOB_BASE + 102 * 366)
)
_YEAR_2000 = date(2000, 1, 1).toordinal()


def _email_token(part: str) -> str:
    return "".join(ch for ch in part.lower() if ch.isalnum())


class _Names:
    """Name parts as arrays, with the lower-case tokens emails are made of."""

    def __init__(self, values: tuple[str, ...]) -> None:
        self.upper = _strings(values)
        self.token = _strings(_email_token(v) for v in values)

    def pick(self, u: Floats) -> tuple[Strings, Strings]:
        index = (u * len(self.upper)).astype(np.int64)
        return self.upper[index], self.token[index]


_CN_SURNAME = _Names(n.CHINESE_SURNAMES)
_CN_SYLLABLE = _Names(n.CHINESE_SYLLABLES)
_CHRISTIAN = (_Names(n.CHRISTIAN_NAMES_FEMALE), _Names(n.CHRISTIAN_NAMES_MALE))
_MALAY = (_Names(n.MALAY_FEMALE), _Names(n.MALAY_MALE))
_MALAY_MALE = _MALAY[1]
_INDIAN = (_Names(n.INDIAN_FEMALE), _Names(n.INDIAN_MALE))
_INDIAN_FATHER = _Names(n.INDIAN_FATHERS)
_WESTERN = _Names(n.WESTERN_GIVEN)
_EURASIAN = _Names(n.EURASIAN_SURNAMES)
_PRC_SURNAME = _Names(n.PRC_SURNAMES)
_BANGLADESHI_PARTS = list(permutations(n.BANGLADESHI_GIVEN, 3))  # three different names
_BANGLADESHI_FULL = _strings(" ".join(parts) for parts in _BANGLADESHI_PARTS)
_BANGLADESHI_FIRST = _strings(_email_token(parts[0]) for parts in _BANGLADESHI_PARTS)
_BANGLADESHI_SECOND = _strings(_email_token(parts[1]) for parts in _BANGLADESHI_PARTS)
_FILIPINO_GIVEN = _Names(n.FILIPINO_GIVEN)
_FILIPINO_SURNAME = _Names(n.FILIPINO_SURNAMES)
_LONG_NAME_TAIL = " ALSO KNOWN AS {} ABDUL RAHMAN BIN MOHAMED ISKANDAR SHAH"


def _by_sex(tables: tuple[_Names, _Names], male: npt.NDArray[np.bool_], u: Floats) -> Any:
    female_upper, female_token = tables[0].pick(u)
    male_upper, male_token = tables[1].pick(u)
    return np.where(male, male_upper, female_upper), np.where(male, male_token, female_token)


def _names(style: Ints, male: npt.NDArray[np.bool_], u: Floats) -> tuple[Strings, Strings]:
    """Names in the style of each person's community, and the two tokens of their email."""
    count = len(style)
    name = np.empty(count, dtype=object)
    first = np.empty(count, dtype=object)
    second = np.empty(count, dtype=object)

    def fill(kind: int, build: Any) -> None:
        where = style == kind
        if where.any():
            name[where], first[where], second[where] = build(male[where], u[where])

    def chinese(is_male: Any, v: Floats) -> Any:
        surname, surname_token = _CN_SURNAME.pick(v[:, 0])
        one, one_token = _CN_SYLLABLE.pick(v[:, 1])
        full = surname + " " + one + " " + _CN_SYLLABLE.pick(v[:, 2])[0]
        first, second = surname_token, one_token
        # Some carry a Christian name too: after the Chinese name with a comma, or before it.
        roll = v[:, 4]
        after, before = roll < 0.09, (roll >= 0.09) & (roll < 0.18)
        christian, christian_token = _by_sex(_CHRISTIAN, is_male, v[:, 3])
        full[after] = full[after] + ", " + christian[after]
        full[before] = christian[before] + " " + full[before]
        first = np.where(before, christian_token, first)
        second = np.where(before, surname_token, second)
        return full, first, second

    def malay(is_male: Any, v: Floats) -> Any:
        one, one_token = _by_sex(_MALAY, is_male, v[:, 0])
        two, two_token = _by_sex(_MALAY, is_male, v[:, 1])
        father = _MALAY_MALE.pick(v[:, 2])[0] + " " + _MALAY_MALE.pick(v[:, 3])[0]
        full = one + " " + two + np.where(is_male, " BIN ", " BINTE ") + father
        return full, one_token, two_token

    def indonesian(is_male: Any, v: Floats) -> Any:
        one, one_token = _by_sex(_MALAY, is_male, v[:, 0])
        two, two_token = _by_sex(_MALAY, is_male, v[:, 1])
        return one + " " + two, one_token, two_token

    def indian(is_male: Any, v: Floats) -> Any:
        given, given_token = _by_sex(_INDIAN, is_male, v[:, 0])
        father, father_token = _INDIAN_FATHER.pick(v[:, 1])
        return given + np.where(is_male, " S/O ", " D/O ") + father, given_token, father_token

    def western(_is_male: Any, v: Floats) -> Any:
        given, given_token = _WESTERN.pick(v[:, 0])
        surname, surname_token = _EURASIAN.pick(v[:, 1])
        return given + " " + surname, given_token, surname_token

    def prc(_is_male: Any, v: Floats) -> Any:
        surname, surname_token = _PRC_SURNAME.pick(v[:, 0])
        given, given_token = _CN_SYLLABLE.pick(v[:, 1])
        return surname + " " + given, surname_token, given_token

    def bangladeshi(_is_male: Any, v: Floats) -> Any:
        index = (v[:, 0] * len(_BANGLADESHI_FULL)).astype(np.int64)
        return _BANGLADESHI_FULL[index], _BANGLADESHI_FIRST[index], _BANGLADESHI_SECOND[index]

    def filipino(_is_male: Any, v: Floats) -> Any:
        given, given_token = _FILIPINO_GIVEN.pick(v[:, 0])
        surname, surname_token = _FILIPINO_SURNAME.pick(v[:, 1])
        return given + " " + surname, given_token, surname_token

    for kind, build in enumerate(
        (chinese, malay, indian, western, prc, bangladeshi, filipino, indonesian)
    ):
        fill(kind, build)
    return name, cast(Strings, first + "." + second)


# Name styles: the resident communities first (in _RACE order), then foreign ones; the race each
# style is recorded with; the name style of each foreign nationality.
_STYLES = ("CN", "MY", "IN", "XX", "PRC", "BD", "PH", "ID")
_RACE_OF_STYLE = np.array([0, 1, 2, 3, 0, 3, 3, 1])
_STYLE_OF_FOREIGN = np.array(
    [
        _STYLES.index({"CN": "PRC", "MY": "MY", "IN": "IN"}.get(c, c if c in _STYLES else "XX"))
        for c in _FOREIGN_NATIONALITY
    ]
)
# Nationalities many work-permit holders (who live in dormitories) come from.
_PERMIT_ORIGIN = np.isin(_FOREIGN_NATIONALITY, ("BD", "IN", "MM", "CN"))


@dataclass(frozen=True, slots=True)
class PeopleChunk:
    """People `start` to `start + len(nric)` as columns; missing values are None."""

    start: int
    nric: Strings
    name: Strings
    sex: Strings
    dob_ordinal: Ints
    race: Strings
    nationality: Strings
    birth_country: Strings
    residential_status: Strings
    postal_code: Strings
    floor: Strings
    unit: Strings
    mobile: Strings
    email: Strings
    marital_status: Strings
    housing_type: Strings

    def __len__(self) -> int:
        return len(self.nric)

    def rows(self) -> Iterator[tuple[object, ...]]:
        """The people as tuples in the column order of RESIDENT_COLUMNS."""
        dobs = [date.fromordinal(o) for o in self.dob_ordinal.tolist()]
        return zip(
            self.nric.tolist(),
            self.name.tolist(),
            self.sex.tolist(),
            dobs,
            self.race.tolist(),
            self.nationality.tolist(),
            self.birth_country.tolist(),
            self.residential_status.tolist(),
            self.postal_code.tolist(),
            self.floor.tolist(),
            self.unit.tolist(),
            self.mobile.tolist(),
            self.email.tolist(),
            self.marital_status.tolist(),
            self.housing_type.tolist(),
            strict=True,
        )

    def copy_text(self, *constants: str) -> bytes:
        """The people in PostgreSQL's COPY text format, with constant trailing columns.

        No generated value contains a tab, newline or backslash (the name tables are checked by a
        test), so values need no escaping; missing values are `\\N`.
        """
        columns: list[Any] = []
        for values in (
            self.nric,
            self.name,
            self.sex,
            _DOB_ISO[self.dob_ordinal - _DOB_BASE],
            self.race,
            self.nationality,
            self.birth_country,
            self.residential_status,
            self.postal_code,
            self.floor,
            self.unit,
            self.mobile,
            self.email,
            self.marital_status,
            self.housing_type,
        ):
            column = values.tolist()
            if None in column:
                column = [r"\N" if value is None else value for value in column]
            columns.append(column)
        for constant in constants:
            columns.append([constant] * len(self))
        text = "\n".join(map("\t".join, zip(*columns, strict=True)))
        return (text + "\n").encode() if text else b""


def _draws(seed: int, start: int, count: int) -> Floats:
    """The uniform numbers of people `start` to `start + count`: one row per person."""
    bit_generator = np.random.PCG64(np.random.SeedSequence([seed, 0x5EED_0F_5]))
    bit_generator.advance(start * DRAWS_PER_PERSON)
    return np.random.Generator(bit_generator).random((count, DRAWS_PER_PERSON))


def generate_chunk(seed: int, start: int, count: int, buildings: int) -> PeopleChunk:
    """People `start` to `start + count` as columns: the same people for any start and count."""
    u = _draws(seed, start, count)
    index = np.arange(start, start + count, dtype=np.int64)
    pools = _building_pools(seed, buildings)

    status = _category((62, 9, 29), u[:, _U_STATUS])  # citizen, PR, foreigner
    foreign = status == 2
    male = u[:, _U_SEX] < 0.49
    band_u, year_u = u[:, _U_AGE_BAND], u[:, _U_AGE_YEAR]
    band = np.where(
        foreign, _category(_FOREIGNER_AGE_BANDS, band_u), _category(_RESIDENT_AGE_BANDS, band_u)
    )
    last_band = np.where(foreign, len(_FOREIGNER_AGE_BANDS), len(_RESIDENT_AGE_BANDS)) - 1
    age = band * 5 + (year_u * np.where(band == last_band, 10, 5)).astype(np.int64)

    # Residents: community, nationality (a country code index) and housing.
    race = _category(_RACE_PER_MILLE, u[:, _U_COMMUNITY])
    style = race.copy()  # name styles 0-3 are the resident communities
    pr_nationality = _PR_COUNTRY[_category(_PR_NATIONALITY_WEIGHTS, u[:, _U_ORIGIN])]
    citizen = status == 0
    nationality = np.where(citizen, _COUNTRY_INDEX["SG"], pr_nationality)
    birth_country = np.where(
        citizen,
        np.where(u[:, _U_ORIGIN] < 0.9, _COUNTRY_INDEX["SG"], _COUNTRY_INDEX["MY"]),
        pr_nationality,
    )
    housing = _category(_HOUSING_WEIGHTS, u[:, _U_HOUSING])
    dob = REFERENCE_DATE.toordinal() - age * 365 - age // 4 - (u[:, _U_BIRTHDAY] * 365).astype(int)
    prefix = np.where(dob >= _YEAR_2000, 1, 0)  # S, T

    # Foreigners: nationality, community, names, passes and where they live.
    if foreign.any():
        origin = _category(_FOREIGN_NATIONALITY_WEIGHTS, u[foreign, _U_COMMUNITY])
        nationality[foreign] = birth_country[foreign] = _FOREIGN_COUNTRY[origin]
        foreign_style = _STYLE_OF_FOREIGN[origin]
        # Malaysians come from all three communities.
        malaysian = origin == _FOREIGN_NATIONALITY.index("MY")
        foreign_style[malaysian] = (u[foreign, _U_ORIGIN][malaysian] * 3).astype(np.int64)
        style[foreign] = foreign_style
        race[foreign] = _RACE_OF_STYLE[foreign_style]
        foreign_age = age[foreign]
        stay = np.clip(np.minimum(foreign_age - 18, 30), 0, None) + 1
        arrival = REFERENCE_DATE.year - (u[foreign, _U_ARRIVAL] * stay).astype(np.int64)
        permit = (foreign_age >= 20) & _PERMIT_ORIGIN[origin] & (u[foreign, _U_PERMIT] < 0.55)
        housing[foreign] = np.where(
            permit,
            _HOUSING_INDEX["199"],
            np.where(u[foreign, _U_HOUSING] < 0.5, _HOUSING_INDEX["131"], _HOUSING_INDEX["114"]),
        )
        prefix[foreign] = np.where(arrival < 2000, 2, np.where(arrival < 2022, 3, 4))  # F, G, M

    name, email_local = _names(style, male, u[:, _U_NAME_1 : _U_NAME_5 + 1])
    for i in np.flatnonzero(u[:, _U_LONG_NAME] < 0.0005).tolist():
        # Some people's full names run past what a card prints; systems must not cut them off.
        name[i] = name[i] + _LONG_NAME_TAIL.format(name[i].split(" ", 1)[0])

    kind = _KIND_OF_HOUSING[housing]
    postal_code = np.empty(count, dtype=object)
    for kind_index, pool in enumerate(pools):
        where = kind == kind_index
        postal_code[where] = _pick(pool, u[where, _U_BUILDING])
    landed = kind == _BUILDING_KINDS.index("landed")  # houses have no floor and unit
    floor = _pick(_TWO_DIGITS[1:], u[:, _U_FLOOR])
    unit = _pick(_THREE_DIGITS[1:401], u[:, _U_UNIT])
    floor[landed] = unit[landed] = None

    # Most adults have a mobile; many of the oldest and youngest do not.
    phone_share = np.where(age < 12, 0.25, np.where(age >= 75, 0.72, 0.97))
    number = (u[:, _U_PHONE] * 20_000_000).astype(np.int64)  # 8 or 9, then seven digits
    mobile = (
        _MOBILE_START[number // 10_000_000]
        + _THREE_DIGITS[number // 10_000 % 1_000]
        + _FOUR_DIGITS[number % 10_000]
    )
    mobile[u[:, _U_HAS_PHONE] >= phone_share] = None
    email_share = np.where(age < 13, 0.0, np.where(age >= 75, 0.45, 0.85))
    has_email = u[:, _U_HAS_EMAIL] < email_share
    email = np.full(count, None, dtype=object)
    email[has_email] = (
        email_local[has_email]
        + _EMAIL_NUMBER[index[has_email] % 997]
        + _pick(_EMAIL_DOMAINS, u[has_email, _U_EMAIL_DOMAIN])
    )

    marital_u = u[:, _U_MARITAL]
    marital = np.where(
        marital_u < 0.3,
        0,
        np.where(marital_u < 0.88, 1, np.where((age > 60) & (marital_u < 0.96), 2, 3)),
    )
    marital[age < 21] = 0

    digits = index * _NRIC_MULTIPLIER % 10_000_000
    weighted = np.zeros(count, dtype=np.int64)
    rest = digits.copy()
    for weight in reversed(_NRIC_WEIGHTS):
        weighted += weight * (rest % 10)
        rest //= 10
    nric = (
        _PREFIXES[prefix]
        + _THREE_DIGITS[digits // 10_000]
        + _FOUR_DIGITS[digits % 10_000]
        + _CHECK_LETTERS[prefix, weighted % 11]
    )

    return PeopleChunk(
        start=start,
        nric=nric,
        name=name,
        sex=_SEXES[male.astype(np.int64)],
        dob_ordinal=dob,
        race=_strings(_RACE)[race],
        nationality=_COUNTRIES[nationality],
        birth_country=_COUNTRIES[birth_country],
        residential_status=_strings("CPA")[status],
        postal_code=postal_code,
        floor=floor,
        unit=unit,
        mobile=mobile,
        email=email,
        marital_status=_strings("1235")[marital],
        housing_type=_HOUSING_CODES[housing],
    )


def generate_chunks(
    seed: int, start: int, count: int, buildings: int, size: int = CHUNK_SIZE
) -> Iterator[PeopleChunk]:
    """People `start` to `start + count`, a chunk of at most `size` at a time."""
    end = start + count
    while start < end:
        step = min(size, end - start)
        yield generate_chunk(seed, start, step, buildings)
        start += step


def generate_residents(
    seed: int, start: int, count: int, buildings: int
) -> Iterator[tuple[object, ...]]:
    """People `start` to `start + count`, as rows in the column order of `RESIDENT_COLUMNS`.

    Any `start` gives the same people as generating the whole population at once.
    """
    for chunk in generate_chunks(seed, start, count, buildings):
        yield from chunk.rows()


def dob_bounds() -> tuple[date, date]:
    """The oldest and youngest birth dates the generator can produce."""
    return REFERENCE_DATE - timedelta(days=100 * 366), REFERENCE_DATE


def write_copy_blocks(argv: list[str], output: BinaryIO) -> None:
    """Generate every `stride`-th chunk of a population, from chunk `offset`, in COPY text.

    Each block is written as its length (8 bytes, big-endian) and the block; the loader runs this
    in worker processes (`python -m smartnation.registry.generator SEED START COUNT BUILDINGS NOW
    STRIDE OFFSET`) and reads their blocks in turn.
    """
    seed, start, count, buildings = (int(value) for value in argv[:4])
    now, stride, offset = argv[4], int(argv[5]), int(argv[6])
    end = start + count
    for number, chunk_start in enumerate(range(start, end, CHUNK_SIZE)):
        if number % stride == offset:
            chunk = generate_chunk(seed, chunk_start, min(CHUNK_SIZE, end - chunk_start), buildings)
            block = chunk.copy_text(now, now)
            output.write(len(block).to_bytes(8, "big"))
            output.write(block)
            output.flush()


if __name__ == "__main__":
    write_copy_blocks(sys.argv[1:], sys.stdout.buffer)

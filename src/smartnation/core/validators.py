"""Validators for the identifiers every service takes in: NRIC/FIN, UEN, postal codes, phones.

Each `parse_*` function returns the canonical form or raises `InvalidInput` naming the field and
the reason, so the same message reaches an API client and a person filling a form.
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.sg import uen as stdnum_uen

from smartnation.core.errors import FieldProblem, InvalidInput
from smartnation.core.i18n import N_

_NRIC_SHAPE = re.compile(r"^[STFGM][0-9]{7}[A-Z]$")
_NRIC_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)
# Check letters by prefix. S/T are citizens and PRs (T born from 2000); F/G foreigners; M the
# series issued to foreigners from 2022.
_CHECK_LETTERS = {"S": "JZIHGFEDCBA", "T": "JZIHGFEDCBA", "F": "XWUTRQPNMLK", "G": "XWUTRQPNMLK"}
_OFFSETS = {"S": 0, "F": 0, "T": 4, "G": 4}
_M_CHECK_LETTERS = "KLJNPQRTUWX"

# Postal sectors are the first two digits of a postal code: 01 to 82, and 74 is not used.
_POSTAL_SECTORS = frozenset(f"{n:02d}" for n in range(1, 83)) - {"74"}


def nric_check_letter(prefix: str, digits: str) -> str:
    """The check letter for an NRIC/FIN prefix and its seven digits."""
    total = sum(w * int(d) for w, d in zip(_NRIC_WEIGHTS, digits, strict=True))
    if prefix == "M":
        return _M_CHECK_LETTERS[(11 - (total + 3) % 11) - 1]
    return _CHECK_LETTERS[prefix][(total + _OFFSETS[prefix]) % 11]


def is_valid_nric(value: str) -> bool:
    """Whether a string is a well-formed NRIC/FIN with a correct check letter."""
    value = value.strip().upper()
    if not _NRIC_SHAPE.match(value):
        return False
    return nric_check_letter(value[0], value[1:8]) == value[8]


def parse_nric(value: str, field: str = "nric") -> str:
    """An NRIC or FIN in canonical upper case, or `InvalidInput` saying what is wrong."""
    cleaned = (value or "").strip().upper()
    if not cleaned:
        raise InvalidInput(FieldProblem(field, N_("An NRIC or FIN is required."), "required"))
    if not _NRIC_SHAPE.match(cleaned):
        raise InvalidInput(
            FieldProblem(
                field,
                N_(
                    "An NRIC or FIN has 9 characters: S, T, F, G or M, seven digits, and a "
                    "letter (for example S1234567D)."
                ),
                "format",
            )
        )
    if nric_check_letter(cleaned[0], cleaned[1:8]) != cleaned[8]:
        raise InvalidInput(
            FieldProblem(
                field, N_("The last letter does not match the NRIC/FIN number."), "checksum"
            )
        )
    return cleaned


def mask_nric(nric: str) -> str:
    """The masked form shown on certificates and pages: the first letter and last four kept."""
    return nric[0] + "XXXX" + nric[5:]


def parse_uen(value: str, field: str = "uen") -> str:
    """A Unique Entity Number in canonical form, checked in all three of its formats."""
    cleaned = (value or "").strip().upper()
    if not cleaned:
        raise InvalidInput(FieldProblem(field, N_("A UEN is required."), "required"))
    try:
        return str(stdnum_uen.validate(cleaned))
    except InvalidChecksum:
        raise InvalidInput(
            FieldProblem(field, N_("The check letter does not match the UEN."), "checksum")
        ) from None
    except ValidationError:
        raise InvalidInput(
            FieldProblem(
                field,
                N_("A UEN has 9 or 10 characters, such as 53312345C, 197401143C or T09LL0001B."),
                "format",
            )
        ) from None


def parse_postal_code(value: str, field: str = "postal_code") -> str:
    """A six-digit Singapore postal code whose first two digits name a real postal sector."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(FieldProblem(field, N_("A postal code is required."), "required"))
    if not (len(cleaned) == 6 and cleaned.isascii() and cleaned.isdigit()):
        raise InvalidInput(FieldProblem(field, N_("A postal code has exactly 6 digits."), "format"))
    if cleaned[:2] not in _POSTAL_SECTORS:
        raise InvalidInput(
            FieldProblem(field, f"No postal sector starts with {cleaned[:2]}.", "unknown_sector")
        )
    return cleaned


def parse_phone(value: str, field: str = "phone", *, mobile_only: bool = False) -> str:
    """A phone number in E.164 (`+6591234567`); Singapore is assumed when no country is given."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(FieldProblem(field, N_("A phone number is required."), "required"))
    try:
        number = phonenumbers.parse(cleaned, "SG")
    except phonenumbers.NumberParseException:
        raise InvalidInput(
            FieldProblem(field, N_("This is not a phone number we can read."), "format")
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            FieldProblem(
                field, N_("This phone number does not exist in its country's plan."), "invalid"
            )
        )
    if mobile_only and phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise InvalidInput(
            FieldProblem(field, N_("A mobile number is needed to receive SMS."), "not_mobile")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

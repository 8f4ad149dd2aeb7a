"""NRIC/FIN, UEN, postal code and phone validation: every refusal names the field and the reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartnation.core.errors import InvalidInput
from smartnation.core.validators import (
    is_valid_nric,
    mask_nric,
    nric_check_letter,
    parse_nric,
    parse_phone,
    parse_postal_code,
    parse_uen,
)


@pytest.mark.parametrize(
    "nric", ["S1234567D", "T0123456G", "F1234567N", "G1234567X", "M1234567K", "s1234567d "]
)
def test_valid_nrics_are_accepted_in_canonical_form(nric: str) -> None:
    assert parse_nric(nric) == nric.strip().upper()


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("S1234567A", "checksum"),
        ("S123456D", "format"),
        ("X1234567D", "format"),
        ("S12345678", "format"),
        ("", "required"),
        ("S１２３４５６７D", "format"),  # full-width digits are not NRIC digits
    ],
)
def test_invalid_nrics_name_the_field_and_reason(value: str, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_nric(value, field="applicant_nric")
    problem = raised.value.problems[0]
    assert problem.field == "applicant_nric"
    assert problem.code == code
    assert problem.message


@given(st.sampled_from("STFGM"), st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_every_computed_check_letter_validates(prefix: str, digits: str) -> None:
    nric = prefix + digits + nric_check_letter(prefix, digits)
    assert is_valid_nric(nric)
    assert parse_nric(nric) == nric


@given(st.sampled_from("STFGM"), st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_exactly_one_check_letter_is_valid(prefix: str, digits: str) -> None:
    valid = [
        letter for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if is_valid_nric(prefix + digits + letter)
    ]
    assert len(valid) == 1


@given(st.text(max_size=30))
def test_any_text_is_either_an_nric_or_a_clear_refusal(value: str) -> None:
    try:
        parsed = parse_nric(value)
    except InvalidInput as error:
        assert error.problems[0].field == "nric"
    else:
        assert is_valid_nric(parsed)


def test_masking_keeps_first_letter_and_last_four() -> None:
    assert mask_nric("S1234567D") == "SXXXX567D"


@pytest.mark.parametrize(
    "uen", ["53312345C", "00192200M", "197401143C", "S16FC0121D", "T01FC6132D"]
)
def test_valid_uens_in_all_three_formats(uen: str) -> None:
    assert parse_uen(uen) == uen


@pytest.mark.parametrize(
    ("uen", "code"), [("197401143D", "checksum"), ("12", "format"), ("", "required")]
)
def test_invalid_uens(uen: str, code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_uen(uen)
    assert raised.value.problems[0].code == code


@pytest.mark.parametrize("code", ["018956", "520123", "828761"])
def test_valid_postal_codes(code: str) -> None:
    assert parse_postal_code(code) == code


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("748123", "unknown_sector"),
        ("991234", "unknown_sector"),
        ("12345", "format"),
        ("12a456", "format"),
    ],
)
def test_invalid_postal_codes(code: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_postal_code(code, field="postal")
    assert raised.value.problems[0].field == "postal"
    assert raised.value.problems[0].code == reason


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("91234567", "+6591234567"),
        ("+65 8123 4567", "+6581234567"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_phones_become_e164(raw: str, e164: str) -> None:
    assert parse_phone(raw) == e164


@pytest.mark.parametrize("raw", ["12345", "hello", "+65 1234 5678"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_phone(raw, "mobile")
    assert raised.value.problems[0].field == "mobile"


def test_landline_refused_where_a_mobile_is_needed() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_phone("62345678", "mobile", mobile_only=True)
    assert raised.value.problems[0].code == "not_mobile"

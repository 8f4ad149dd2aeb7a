import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartnation.healthcerts.openattestation.jsvalues import (
    js_number_from_string,
    js_number_to_string,
    json_stringify,
    utf8,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1, "1"),
        (-1.5, "-1.5"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000, "123456789012345680000"),
        (1e-7, "1e-7"),
        (1e-6, "0.000001"),
        (0.1, "0.1"),
        (1.5e-10, "1.5e-10"),
        (2.5e300, "2.5e+300"),
        (12345678901234567890, "12345678901234567000"),
        (math.inf, "Infinity"),
        (123.456, "123.456"),
        (5e-324, "5e-324"),
    ],
)
def test_numbers_print_as_javascript(value: float, expected: str) -> None:
    assert js_number_to_string(value) == expected


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_text_round_trips(value: float) -> None:
    assert float(js_number_to_string(value)) == value or value == 0


def test_json_stringify_escapes_like_javascript() -> None:
    assert json_stringify({"a": 'é\n\u0001"\\'}) == '{"a":"é\\n\\u0001\\"\\\\"}'
    assert json_stringify([1e21, True, None]) == "[1e+21,true,null]"
    assert utf8('"\ud800"') == b'"\\ud800"'


@pytest.mark.parametrize(
    ("text", "expected"), [("5", 5), ("1e+21", 1e21), ("", 0), ("0x10", 16), (" 7 ", 7)]
)
def test_number_parsing_as_javascript(text: str, expected: float) -> None:
    assert js_number_from_string(text) == expected


def test_unparseable_number_is_nan() -> None:
    assert math.isnan(js_number_from_string("abc"))

"""JavaScript value semantics that OpenAttestation hashes depend on.

The reference implementation salts values with `String(v)` and hashes `JSON.stringify` output, so
numbers must print exactly as ECMAScript `Number#toString` does and strings must be escaped exactly
as `JSON.stringify` escapes them, or documents wrapped here would not verify there (and back).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_encode_json_string = json.encoder.encode_basestring
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def js_number_to_string(value: float | int) -> str:
    """Print a number as ECMAScript `Number.prototype.toString()` (radix 10) does."""
    if isinstance(value, int):
        try:
            value = float(value)  # JSON.parse turns every number into a double
        except OverflowError:
            return "Infinity" if value > 0 else "-Infinity"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"  # covers -0, which JavaScript prints as "0"
    if value < 0:
        return "-" + js_number_to_string(-value)
    # repr() gives the shortest digits that round-trip, as ECMAScript requires; only the layout
    # of those digits differs between the two languages.
    mantissa, _, exponent_text = repr(value).partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    integer_part, _, fraction_part = mantissa.partition(".")
    if fraction_part == "0":
        fraction_part = ""
    digits = (integer_part + fraction_part).lstrip("0")
    # position of the decimal point relative to the first significant digit
    point = len(integer_part) + exponent
    if integer_part == "0":
        leading_zeros = len(fraction_part) - len(fraction_part.lstrip("0"))
        point = exponent - leading_zeros
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    n = point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    if k == 1:
        return f"{digits}e{sign}{abs(e)}"
    return f"{digits[0]}.{digits[1:]}e{sign}{abs(e)}"


def js_string(value: Any) -> str:
    """JavaScript `String(v)` for the JSON primitives (`null` is handled by the caller)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return js_number_to_string(value)
    raise TypeError(f"not a JSON primitive: {type(value).__name__}")


def js_typeof(value: Any) -> str:
    """JavaScript `typeof` for JSON primitives."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    raise TypeError(f"not a JSON primitive: {type(value).__name__}")


def _escape_lone_surrogates(text: str) -> str:
    # JSON.stringify (ES2019) writes a lone surrogate as a \\uXXXX escape rather than as text.
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_string(text: str) -> str:
    """`JSON.stringify(text)` for a string."""
    encoded: str = _encode_json_string(text)
    return encoded


def json_stringify(value: Any) -> str:
    """`JSON.stringify(value)` for parsed JSON (dicts keep their order)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return js_number_to_string(value)
    if isinstance(value, dict):
        items = ",".join(f"{json_string(str(k))}:{json_stringify(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ",".join(json_stringify(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def utf8(text: str) -> bytes:
    """Encode JSON text as UTF-8 the way JavaScript hashing libraries see it."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _escape_lone_surrogates(text).encode("utf-8")


def js_number_from_string(text: str) -> float | int:
    """JavaScript `Number(text)` for the strings a salted value can carry."""
    stripped = text.strip(" \t\n\r\v\f\u00a0\ufeff\u2028\u2029")
    if stripped == "":
        return 0
    lowered = stripped.lower()
    try:
        if lowered.startswith(("0x", "0o", "0b")):
            return int(stripped[2:], {"x": 16, "o": 8, "b": 2}[lowered[1]])
        if stripped in ("Infinity", "+Infinity"):
            return math.inf
        if stripped == "-Infinity":
            return -math.inf
        if lowered in ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "nan"):
            return math.nan
        if "_" in stripped:
            return math.nan
        number = float(stripped)
    except ValueError:
        return math.nan
    if number.is_integer() and abs(number) < 2**53:
        return int(number)
    return number

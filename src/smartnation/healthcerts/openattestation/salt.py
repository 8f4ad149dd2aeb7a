"""Salting, unsalting and flattening of OpenAttestation v2 `data`.

Every primitive becomes `"<uuid v4>:<typeof>:<String(value)>"`; leaves are the flattened paths
(`a.0.b`) of the salted data, exactly as the reference `flatten` (flatley with a filter refusing
keys that contain `.`) produces them.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from typing import Any

from .errors import KeyWithPeriodError
from .jsvalues import js_number_from_string, js_string, js_typeof

_UUID_V4 = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
_UUID_LENGTH_WITH_COLON = 37
# the characters JavaScript String.prototype.trim removes
_JS_TRIM = (
    " \t\n\r\v\f\u00a0\ufeff\u2028\u2029\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
)


_VERSION_NIBBLE = bytes((b & 0x0F) | 0x40 for b in range(256))
_VARIANT_BITS = bytes((b & 0x3F) | 0x80 for b in range(256))


# where the 32 hex digits of a uuid go in its 36-character text (the rest are dashes)
_UUID_HEX_POSITIONS = [i for i in range(36) if i not in (8, 13, 18, 23)]


def _uuid4_batch(count: int) -> list[str]:
    raw = bytearray(os.urandom(16 * count))
    # set the version (4) and variant (10xx) bits of every uuid at once
    raw[6::16] = bytes(raw[6::16]).translate(_VERSION_NIBBLE)
    raw[8::16] = bytes(raw[8::16]).translate(_VARIANT_BITS)
    digits = raw.hex().encode()
    # lay every uuid out with its dashes in 32 strided copies, whatever the count
    text = bytearray(b"-" * (36 * count))
    for source, target in enumerate(_UUID_HEX_POSITIONS):
        text[target::36] = digits[source::32]
    joined = text.decode()
    return [joined[i : i + 36] for i in range(0, 36 * count, 36)]


def _uuid4_batches(batch: int) -> Iterator[list[str]]:
    while True:
        yield _uuid4_batch(batch)


def uuid4_strings(batch: int = 4096) -> Iterator[str]:
    """An endless supply of random lowercase uuid v4 strings, made in bulk for speed."""
    return itertools.chain.from_iterable(_uuid4_batches(batch))


def typed_string(value: Any) -> str:
    """`<typeof>:<String(value)>`, the part of a salted value after the uuid."""
    if value is None:
        return "null:null"
    return f"{js_typeof(value)}:{js_string(value)}"


def salt_value(value: Any, salt: str) -> str:
    """Salt one primitive with the given uuid."""
    return f"{salt}:{typed_string(value)}"


def salt_data(data: Any, salts: Iterator[str] | None = None) -> Any:
    """Salt every primitive of `data`; empty objects and arrays stay as they are."""
    supply = salts if salts is not None else uuid4_strings(256)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(child) for key, child in node.items()}
        if isinstance(node, list):
            return [walk(child) for child in node]
        return f"{next(supply)}:{typed_string(node)}"

    return walk(data)


def _typed_string_to_primitive(text: str) -> Any:
    kind, _, value = text.partition(":")
    if kind == "number":
        return js_number_from_string(value)
    if kind == "string":
        return value
    if kind == "boolean":
        return value == "true"
    if kind == "null":
        return None
    if kind == "undefined":
        return _UNDEFINED
    raise ValueError(f"Parsing error, type annotation not found in string: {text}")


class _Undefined:
    """JavaScript `undefined`: a key holding it disappears when serialised."""

    def __repr__(self) -> str:
        return "undefined"


_UNDEFINED = _Undefined()


def unsalt_value(value: Any) -> Any:
    """The original primitive of one salted value; other values are returned unchanged.

    Like the reference, the text after the uuid is trimmed before it is parsed.
    """
    if isinstance(value, str) and value:
        head = value.split(":", 1)[0]
        if len(head) == 36 and _UUID_V4.fullmatch(head):
            return _typed_string_to_primitive(value[_UUID_LENGTH_WITH_COLON:].strip(_JS_TRIM))
    return value


def unsalt_data(data: Any) -> Any:
    """Unsalt every value of salted `data` (the reference `getData`)."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, child in data.items():
            value = unsalt_data(child)
            if value is not _UNDEFINED:
                out[key] = value
        return out
    if isinstance(data, list):
        return [None if (v := unsalt_data(child)) is _UNDEFINED else v for child in data]
    return unsalt_value(data)


def _is_array_index(key: str) -> bool:
    # ECMAScript orders "array index" keys (canonical integers below 2**32 - 1) first.
    return (
        key.isdigit() and key.isascii() and (key == "0" or key[0] != "0") and int(key) < 2**32 - 1
    )


def js_key_order(obj: dict[str, Any]) -> list[str]:
    """The keys of `obj` in the order JavaScript's `Object.keys` would list them."""
    keys = list(obj)
    indices = [k for k in keys if _is_array_index(k)]
    if not indices:
        return keys
    others = [k for k in keys if not _is_array_index(k)]
    return sorted(indices, key=int) + others


def flatten(data: Any) -> dict[str, Any]:
    """Flatten like the reference: `.`-joined paths to primitives and to empty `{}`/`[]`.

    Raises KeyWithPeriodError for a key containing `.`, as the reference does. Paths are joined
    only after a non-empty prefix, so a top-level `""` key adds no segment (a reference quirk).
    """
    output: dict[str, Any] = {}

    def step(node: Any, prev: str) -> None:
        if isinstance(node, dict):
            keys: list[str] = js_key_order(node)
            items = [(k, node[k]) for k in keys]
        else:
            items = [(str(i), v) for i, v in enumerate(node)]
        for key, value in items:
            if "." in key:
                raise KeyWithPeriodError(key)
            new_key = f"{prev}.{key}" if prev else key
            if isinstance(value, dict | list) and value:
                step(value, new_key)
            else:
                output[new_key] = value  # a repeated path overwrites, as in JavaScript

    if isinstance(data, dict | list):
        step(data, "")
    return output

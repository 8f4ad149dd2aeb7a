"""Selective disclosure: move fields of a wrapped document into `privacy.obfuscatedData`.

The reference leaves two shapes that no longer verify once serialised, and both are refused here:
removing every child of an object leaves a new `{}` leaf, and removing an array element leaves a
hole that JSON writes as `null`, a new leaf too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

from .digest import leaf_hash
from .errors import ObfuscationError
from .salt import flatten

_BRACKET_INDEX = re.compile(r"\[(\d+)\]")


def parse_field_path(path: str) -> list[str]:
    """`a.b[0].c` -> `["a", "b", "0", "c"]` (the lodash path forms documents use)."""
    normalised = _BRACKET_INDEX.sub(r".\1", path.strip())
    segments = [s for s in normalised.split(".")]
    if not path.strip() or any(s == "" for s in segments):
        raise ObfuscationError(f"not a field path: {path!r}")
    return segments


def _lookup(node: Any, segments: list[str]) -> tuple[bool, Any, Any]:
    """(found, parent, value) for a path."""
    parent: Any = None
    for segment in segments:
        parent = node
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return False, None, None
    return True, parent, node


def obfuscate_data(data: dict[str, Any], fields: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """Remove `fields` from (salted) `data`; return the new data and the removed leaf hashes."""
    remaining = copy.deepcopy(data)
    picked: dict[str, Any] = {}
    removals: list[list[str]] = []
    for path in fields:
        segments = parse_field_path(path)
        found, parent, value = _lookup(remaining, segments)
        if not found:
            continue  # like the reference, a field that is not there changes nothing
        if isinstance(parent, list):
            raise ObfuscationError(
                f"cannot obfuscate {path}: removing an array element leaves a null in its place "
                "and the document would no longer verify; obfuscate the whole array or a field "
                "inside the element"
            )
        target = picked
        for segment in segments[:-1]:
            target = target.setdefault(segment, {})
        target[segments[-1]] = value
        removals.append(segments)
    hashes = [leaf_hash(key, value) for key, value in flatten(picked).items()]
    for segments in removals:
        found, parent, _ = _lookup(remaining, segments)
        if found:
            del parent[segments[-1]]
    for segments in removals:
        for depth in range(len(segments) - 1, 0, -1):
            found, _, ancestor = _lookup(remaining, segments[:depth])
            if found and isinstance(ancestor, dict | list) and not ancestor:
                raise ObfuscationError(
                    f"cannot obfuscate {'.'.join(segments)}: it would leave "
                    f"{'.'.join(segments[:depth])} empty, which becomes a new field and the "
                    "document would no longer verify; obfuscate the enclosing object instead"
                )
    return remaining, hashes


def obfuscate_document(document: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """A copy of a wrapped document with `fields` obfuscated; the hash still verifies."""
    data, hashes = obfuscate_data(document["data"], fields)
    privacy = document.get("privacy") if isinstance(document.get("privacy"), dict) else {}
    existing = (privacy or {}).get("obfuscatedData") or []
    result = dict(document)
    result["data"] = data
    result["privacy"] = {**(privacy or {}), "obfuscatedData": [*existing, *hashes]}
    return result

"""The target hash of an OpenAttestation v2 document: its leaves, sorted, hashed as a JSON list."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .errors import OpenAttestationError
from .hashing import keccak256_hex
from .jsvalues import json_string, json_stringify, utf8
from .salt import flatten
from .speedups import native

_PLAIN = re.compile(r"[0-9a-zA-Z]*")


def leaf_hash(flat_key: str, value: Any) -> str:
    """keccak256(JSON.stringify({flat_key: value})) as lowercase hex."""
    if isinstance(value, str):
        text = "{" + json_string(flat_key) + ":" + json_string(value) + "}"
    else:
        text = "{" + json_string(flat_key) + ":" + json_stringify(value) + "}"
    return keccak256_hex(utf8(text))


def data_leaf_hashes(data: Any) -> list[str]:
    """The leaf hashes of (salted) `data`, in flattening order."""
    return [leaf_hash(key, value) for key, value in flatten(data).items()]


def combine_leaf_hashes(hashes: Iterable[str]) -> str:
    """keccak256(JSON.stringify(sorted(hashes))), the document's target hash."""
    ordered = sorted(hashes)
    if ordered and _PLAIN.fullmatch("".join(ordered)):  # hex hashes need no escaping
        return keccak256_hex(('["' + '","'.join(ordered) + '"]').encode())
    return keccak256_hex(utf8("[" + ",".join(json_string(h) for h in ordered) + "]"))


def digest_document(document: dict[str, Any]) -> str:
    """Recompute a wrapped document's target hash from `data` and `privacy.obfuscatedData`."""
    privacy = document.get("privacy")
    obfuscated: Any = []
    if isinstance(privacy, dict) and "obfuscatedData" in privacy:
        obfuscated = privacy["obfuscatedData"]
    if not isinstance(obfuscated, list) or not all(isinstance(h, str) for h in obfuscated):
        raise OpenAttestationError("privacy.obfuscatedData must be a list of hashes")
    data = document.get("data")
    if native is not None:
        # None: a layout the compiled walk leaves to the Python route below (same result)
        target_hash: str | None = native.target_hash(data, obfuscated, json_stringify)
        if target_hash is not None:
            return target_hash
    return combine_leaf_hashes([*obfuscated, *data_leaf_hashes(data)])


def digest_documents(documents: Sequence[dict[str, Any]]) -> list[str | None]:
    """The target hashes of many wrapped documents, computed together where the compiled
    speedups can; None for each document the caller must pass to `digest_document` itself."""
    if native is None:
        return [None] * len(documents)
    datas: list[Any] = []
    hidden: list[Any] = []
    for document in documents:
        privacy = document.get("privacy")
        obfuscated = privacy.get("obfuscatedData", []) if isinstance(privacy, dict) else []
        datas.append(document.get("data"))
        hidden.append(obfuscated)  # anything but a list of lowercase hashes comes back as None
    return native.target_hashes(datas, hidden, json_stringify)

"""Wrapping raw documents into OpenAttestation v2 documents, one at a time or as a batch.

Salting and leaf hashing happen in one walk over the data: each primitive gets its uuid, its
salted string and its leaf hash without building the flattened map first, which is where the time
goes for large batches.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from smartnation.core.memory import collector_paused

from .digest import combine_leaf_hashes, digest_document
from .errors import KeyWithPeriodError, SchemaValidationError
from .hashing import _keccak_256
from .jsvalues import js_number_to_string, json_string, utf8
from .merkle import build_batch
from .salt import salt_data, unsalt_data, uuid4_strings
from .schema import SCHEMA_V2_ID, oa_schema_errors
from .speedups import native

SIGNATURE_TYPE = "SHA3MerkleProof"


class _NeedsExactFlatten(Exception):
    """The data uses a key layout where the reference's path joining collapses paths."""


_escaped_keys: dict[str, str] = {}


def _escaped_key(key: str) -> str:
    escaped = _escaped_keys.get(key)
    if escaped is None:
        if "." in key:
            raise KeyWithPeriodError(key)
        escaped = json_string(key)[1:-1]
        if len(_escaped_keys) < 100_000:
            _escaped_keys[key] = escaped
    return escaped


def _salt_and_hash(data: dict[str, Any], salts: Iterator[str]) -> tuple[dict[str, Any], list[str]]:
    """Salt `data` and compute its leaf hashes in a single pass.

    Leaf text is assembled directly as `{"<path>":"<salted>"}`; the path segments are escaped
    once (keys repeat across a batch) and uuids and type names never need escaping.
    """
    hashes: list[str] = []
    append = hashes.append
    keccak = _keccak_256
    encode = json_string
    next_salt = salts.__next__

    def leaf(path: str, value: Any) -> Any:
        kind = type(value)
        if kind is str:
            salted = next_salt() + ":string:" + value
        elif kind is bool:
            salted = next_salt() + (":boolean:true" if value else ":boolean:false")
        elif value is None:
            salted = next_salt() + ":null:null"
        elif kind is int or kind is float:
            salted = next_salt() + ":number:" + js_number_to_string(value)
        elif isinstance(value, dict | list):
            if value:
                return walk(value, path)
            text = '{"' + path + ('":{}}' if isinstance(value, dict) else '":[]}')
            append(keccak(utf8(text)).hexdigest())
            return {} if isinstance(value, dict) else []
        elif isinstance(value, str | int | float):
            return leaf(path, value.__class__.__mro__[-2](value))  # subclass of a JSON type
        else:
            raise TypeError(f"not JSON data: {type(value).__name__}")
        text = '{"' + path + '":' + encode(salted) + "}"
        try:
            append(keccak(text.encode()).hexdigest())
        except UnicodeEncodeError:
            append(keccak(utf8(text)).hexdigest())
        return salted

    escaped_keys = _escaped_keys

    def walk_dict(node: dict[str, Any], prefix: str) -> dict[str, Any]:
        # strings are most leaves: they are salted and hashed inline, without a call per value
        salted_node: dict[str, Any] = {}
        for k, v in node.items():
            escaped = escaped_keys.get(k)
            if escaped is None:
                escaped = _escaped_key(k)
            if type(v) is str:
                salted = next_salt() + ":string:" + v
                salted_node[k] = salted
                text = '{"' + prefix + escaped + '":' + encode(salted) + "}"
                try:
                    append(keccak(text.encode()).hexdigest())
                except UnicodeEncodeError:
                    append(keccak(utf8(text)).hexdigest())
            else:
                salted_node[k] = leaf(prefix + escaped, v)
        return salted_node

    def walk(node: Any, prefix: str) -> Any:
        if type(node) is dict or isinstance(node, dict):
            if prefix:
                return walk_dict(node, prefix + ".")
            # the reference joins a path only after a non-empty prefix, so a "" key holding
            # an object would merge paths; that rare layout takes the exact (slower) route
            for k, v in node.items():
                if k == "" and isinstance(v, dict | list) and v:
                    raise _NeedsExactFlatten
            return {k: leaf(_escaped_key(k), v) for k, v in node.items()}
        if prefix:
            return [leaf(f"{prefix}.{i}", v) for i, v in enumerate(node)]
        return [leaf(str(i), v) for i, v in enumerate(node)]

    salted_data = walk(data, "")
    return salted_data, hashes


_SCHEMA_PROPERTIES = (
    "id",
    "$template",
    "documentUrl",
    "issuers",
    "recipient",
    "network",
    "attachments",
)


_schema_memo: dict[str, tuple[str, ...]] = {}


def _schema_errors_of_compiled(raw: dict[str, Any], salted: dict[str, Any]) -> list[str]:
    # The errors are a function of the raw projection (unsalting a salted value is), so a batch
    # that repeats its issuers and template is checked once. Only data the compiled walk
    # accepted comes here: plain JSON with string keys, which json.dumps tells apart exactly.
    projection = {k: v for k, v in raw.items() if k in _SCHEMA_PROPERTIES}
    key = json.dumps(projection, sort_keys=True)
    known = _schema_memo.get(key)
    if known is None:
        known = tuple(_schema_errors_of_salted(salted))
        if len(_schema_memo) >= 4096:
            _schema_memo.clear()
        _schema_memo[key] = known
    return list(known)


def _schema_errors_of_salted(salted: dict[str, Any]) -> list[str]:
    # The reference validates getData(salted data), i.e. after a salt/unsalt round trip (which
    # trims trailing whitespace); only the properties the schema constrains need unsalting.
    projection = {k: v for k, v in salted.items() if k in _SCHEMA_PROPERTIES}
    return oa_schema_errors(unsalt_data(projection), strict=True)


def _salt_and_hash_python(
    data: dict[str, Any], supply: Iterator[str]
) -> tuple[dict[str, Any], str]:
    try:
        salted, hashes = _salt_and_hash(data, supply)
        return salted, combine_leaf_hashes(hashes)
    except _NeedsExactFlatten:
        salted = salt_data(data, supply)
        return salted, digest_document({"data": salted})


def wrap_data(
    data: dict[str, Any], *, salts: Iterator[str] | None = None, validate: bool = True
) -> tuple[dict[str, Any], str]:
    """Salt one raw document and return `(salted data, target hash)`.

    Raises SchemaValidationError for data that is not an OA 2.0 document and
    KeyWithPeriodError for a key containing `.`.
    """
    if not isinstance(data, dict):
        raise SchemaValidationError("Invalid document", ["document - must be an object"])
    done = None
    if salts is None and native is not None:
        # the compiled walk draws its salts from os.urandom itself; None means "take the Python
        # route" (a key with ".", a non-JSON value, the "" key quirk), which also raises the errors
        done = native.salt_and_hash(data, js_number_to_string, os.urandom)
    if done is not None:
        salted, target_hash = done
    else:
        salted, target_hash = _salt_and_hash_python(data, salts or uuid4_strings(256))
    if validate:
        errors = _schema_errors_of_salted(salted)
        if errors:
            raise SchemaValidationError("Invalid document", errors)
    return salted, target_hash


def _envelope(
    salted: dict[str, Any], target_hash: str, proof: list[str], root: str, schema_id: str | None
) -> dict[str, Any]:
    document: dict[str, Any] = {"version": SCHEMA_V2_ID}
    if schema_id:
        document["schema"] = schema_id
    document["data"] = salted
    document["signature"] = {
        "type": SIGNATURE_TYPE,
        "targetHash": target_hash,
        "proof": proof,
        "merkleRoot": root,
    }
    return document


def wrap_document(data: dict[str, Any], *, external_schema_id: str | None = None) -> dict[str, Any]:
    """Wrap one raw document on its own (merkleRoot == targetHash, empty proof)."""
    salted, target_hash = wrap_data(data)
    return _envelope(salted, target_hash, [], target_hash, external_schema_id)


def wrap_documents(
    documents: Sequence[dict[str, Any]],
    *,
    external_schema_id: str | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Wrap raw documents as one batch sharing a Merkle root, in the order given.

    `workers` > 1 salts and hashes in that many forked processes (where `fork` exists; the
    documents are inherited, only the salted results travel back). The default is one process.
    `progress` is called with the number of documents finished since the last call.
    """
    if not documents:
        raise ValueError("a batch needs at least one document")
    pool_size = workers if workers is not None else _default_workers(len(documents))
    results: list[tuple[dict[str, Any], str]] = []
    # A batch allocates millions of acyclic containers; with the cyclic garbage collector on,
    # every few thousand allocations (the proofs, the envelopes) would walk all of them again,
    # which took as long as the hashing at 10,000 documents. It is paused until the batch is made.
    with collector_paused():
        _wrap_into(results, documents, pool_size, progress)
        batch = build_batch([target for _, target in results])
        return [
            _envelope(salted, target, batch.proofs[i], batch.root, external_schema_id)
            for i, (salted, target) in enumerate(results)
        ]


# Set in the parent just before forking, so workers read the documents without pickling them.
_FORKED: dict[str, Sequence[dict[str, Any]]] = {"documents": ()}


def _default_workers(count: int) -> int:
    # Measured on the shared two-core machines, worker processes lost to one process even at
    # 20,000 documents (the cores were already busy); callers that own idle cores pass `workers`.
    return 1


def _wrap_part(part: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
    """wrap_data for each document, the compiled walk taking several documents per call."""
    if native is None:
        salts = uuid4_strings()  # the Python route shares one bulk supply per batch
        return [wrap_data(d, salts=salts) for d in part]
    results: list[tuple[dict[str, Any], str]] = []
    for document, done in zip(
        part, native.salt_and_hash_many(part, js_number_to_string, os.urandom), strict=True
    ):
        if done is None:  # the Python route, which also raises the errors
            results.append(wrap_data(document))
            continue
        errors = _schema_errors_of_compiled(document, done[0])
        if errors:
            raise SchemaValidationError("Invalid document", errors)
        results.append(done)
    return results


def _wrap_range(bounds: tuple[int, int]) -> list[tuple[dict[str, Any], str]]:
    return _wrap_part(_FORKED["documents"][bounds[0] : bounds[1]])


def _wrap_into(
    results: list[tuple[dict[str, Any], str]],
    documents: Sequence[dict[str, Any]],
    pool_size: int,
    progress: Callable[[int], None] | None,
) -> None:
    count = len(documents)
    if pool_size > 1 and count > 1 and "fork" in multiprocessing.get_all_start_methods():
        chunk_size = max(1, min(2000, -(-count // (pool_size * 4))))
        ranges = [(i, min(i + chunk_size, count)) for i in range(0, count, chunk_size)]
        _FORKED["documents"] = documents
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=pool_size, mp_context=context) as pool:
                for done in pool.map(_wrap_range, ranges):
                    results.extend(done)
                    if progress:
                        progress(len(done))
        finally:
            _FORKED["documents"] = ()
    else:
        step = 96
        for start in range(0, count, step):
            part = documents[start : start + step]
            results.extend(_wrap_part(part))
            if progress:
                progress(len(part))

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartnation.healthcerts.openattestation.digest import digest_document
from smartnation.healthcerts.openattestation.errors import KeyWithPeriodError
from smartnation.healthcerts.openattestation.hashing import keccak256
from smartnation.healthcerts.openattestation.merkle import build_batch, check_proof
from smartnation.healthcerts.openattestation.salt import (
    flatten,
    salt_data,
    unsalt_data,
    unsalt_value,
    uuid4_strings,
)
from smartnation.healthcerts.openattestation.wrap import wrap_data

keys = st.text(min_size=1, max_size=8).filter(lambda k: "." not in k)
primitives = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20).map(lambda s: s.rstrip())
)
json_data = st.recursive(
    primitives,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)


def test_uuids_are_v4() -> None:
    supply = uuid4_strings(8)
    for _ in range(50):
        text = next(supply)
        assert len(text) == 36 and text[14] == "4" and text[19] in "89ab"


@given(st.dictionaries(keys, json_data, max_size=5))
def test_salt_unsalt_round_trip(data: dict[str, Any]) -> None:
    restored = unsalt_data(salt_data(data))
    assert restored == data


@settings(max_examples=200)
@given(st.dictionaries(keys, json_data, max_size=5))
def test_single_pass_wrap_equals_flatten_digest(data: dict[str, Any]) -> None:
    salted, target = wrap_data(data, validate=False)
    assert digest_document({"data": salted}) == target


def test_flatten_paths_and_empty_containers() -> None:
    assert flatten({"a": [{"b": 1}, {}], "c": [], "d": {"e": None}}) == {
        "a.0.b": 1,
        "a.1": {},
        "c": [],
        "d.e": None,
    }


def test_flatten_refuses_keys_with_periods() -> None:
    with pytest.raises(KeyWithPeriodError):
        flatten({"a": {"b.c": 1}})
    with pytest.raises(KeyWithPeriodError):
        wrap_data({"a.b": 1}, validate=False)


def test_empty_key_quirk_matches_reference_flatten() -> None:
    # "" adds no path segment: {"": {"a": 1}, "a": 2} collapses to one leaf "a"
    data = {"": {"a": 1}, "a": 2}
    salted, target = wrap_data(data, validate=False)
    assert digest_document({"data": salted}) == target
    assert list(flatten(salted)) == ["a"]


def test_unsalt_trims_and_ignores_unsalted_strings() -> None:
    assert unsalt_value("8a0c3a8e-2f5d-4b3b-9c1e-1d2e3f4a5b6c:string:abc  ") == "abc"
    assert unsalt_value("plain") == "plain"
    assert unsalt_value("8a0c3a8e-2f5d-4b3b-9c1e-1d2e3f4a5b6c:number:1e+21") == 1e21


def _naive_proofs(hashes: list[str]) -> tuple[str, list[list[str]]]:
    """The reference algorithm, quadratic and literal."""
    leaves = sorted(bytes.fromhex(h) for h in hashes)
    layers = [leaves]
    while len(layers[-1]) > 1:
        layer = layers[-1]
        nxt = []
        for i in range(0, len(layer), 2):
            if i + 1 < len(layer):
                a, b = sorted([layer[i], layer[i + 1]])
                nxt.append(keccak256(a + b))
            else:
                nxt.append(layer[i])
        layers.append(nxt)
    proofs = []
    for h in hashes:
        index = leaves.index(bytes.fromhex(h))
        proof = []
        for layer in layers:
            pair = index - 1 if index % 2 else index + 1
            if pair < len(layer):
                proof.append(layer[pair].hex())
            index //= 2
        proofs.append(proof)
    return layers[-1][0].hex(), proofs


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=40))
def test_batch_proofs_match_reference_algorithm(leaves: list[bytes]) -> None:
    hashes = [leaf.hex() for leaf in leaves]
    batch = build_batch(hashes)
    root, proofs = _naive_proofs(hashes)
    assert batch.root == root
    assert batch.proofs == proofs
    for leaf, proof in zip(leaves, batch.proofs, strict=True):
        assert check_proof([bytes.fromhex(p) for p in proof], bytes.fromhex(root), leaf)


def test_wrapping_in_forked_workers_gives_one_verifiable_batch() -> None:
    import uuid

    from smartnation.healthcerts.openattestation import document_integrity_holds, wrap_documents
    from smartnation.healthcerts.openattestation.salt import uuid4_strings

    from .conftest import raw_document

    documents = [raw_document(id=f"doc-{i}") for i in range(9)]
    wrapped = wrap_documents(documents, workers=2)
    assert len({w["signature"]["merkleRoot"] for w in wrapped}) == 1
    assert all(document_integrity_holds(w) for w in wrapped)
    salts = uuid4_strings(64)
    for _ in range(200):
        text = next(salts)
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4

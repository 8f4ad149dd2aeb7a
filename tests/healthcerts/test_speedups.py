"""The compiled leaf hashing agrees byte for byte with the pure Python route it stands in for."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sysconfig
from typing import Any

import pytest
import sha3
from hypothesis import given, settings
from hypothesis import strategies as st

from smartnation.healthcerts.openattestation.digest import combine_leaf_hashes, data_leaf_hashes
from smartnation.healthcerts.openattestation.errors import KeyWithPeriodError
from smartnation.healthcerts.openattestation.jsvalues import js_number_to_string, json_stringify
from smartnation.healthcerts.openattestation.salt import _UUID_V4, unsalt_data
from smartnation.healthcerts.openattestation.speedups import Native, native
from smartnation.healthcerts.openattestation.wrap import _salt_and_hash_python, wrap_data


def _compiler_present() -> bool:
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(compiler) is not None


def _native() -> Native:
    if native is None:
        if os.environ.get("SMARTNATION_OA_PURE_PYTHON") == "1" or not _compiler_present():
            pytest.skip("C speedups switched off or no C compiler on this machine")
        pytest.fail("a C compiler is present but _speedups.c was not compiled: run `uv sync`")
    return native


def test_speedups_are_built_where_a_compiler_exists() -> None:
    _native()


# every character class JSON escaping treats differently: quotes, backslashes, controls, DEL,
# two- three- and four-byte UTF-8, and lone surrogates (which JSON.stringify escapes)
awkward_text = st.text(
    alphabet=st.sampled_from(['"', "\\", "\n", "\x00", "\x1f", "\x7f", "é", "ÿ", "中", "😀"])
    | st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
    | st.characters(),
    max_size=12,
)
keys = awkward_text.filter(lambda k: "." not in k)
primitives = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | awkward_text
)
json_data = st.recursive(
    primitives,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=25,
)
hex_hash = st.binary(min_size=32, max_size=32).map(bytes.hex)


def _python_target_hash(data: Any, obfuscated: list[str]) -> str:
    return combine_leaf_hashes([*obfuscated, *data_leaf_hashes(data)])


@pytest.mark.parametrize("length", [*range(0, 300), 1000, 5000])
def test_keccak256_matches_pysha3(length: int) -> None:
    message = os.urandom(length)
    assert _native().keccak256(message) == sha3.keccak_256(message).digest()


@settings(max_examples=300, deadline=None)
@given(json_data, st.lists(hex_hash, max_size=3))
def test_target_hash_matches_python(data: Any, obfuscated: list[str]) -> None:
    if isinstance(data, dict) and isinstance(data.get(""), dict | list) and data[""]:
        data = {"x": data}  # the top-level "" quirk is left to Python (tested below)
    expected = _python_target_hash(data, obfuscated)
    assert _native().target_hash(data, obfuscated, json_stringify) == expected


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, json_data, min_size=1, max_size=5))
def test_salt_and_hash_matches_python(data: dict[str, Any]) -> None:
    data.pop("", None)
    if not data:
        data = {"a": 1}
    done = _native().salt_and_hash(data, js_number_to_string, os.urandom)
    assert done is not None
    salted, target = done
    assert target == _python_target_hash(salted, [])
    salts = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for child in node.values():
                collect(child)
        elif isinstance(node, list):
            for child in node:
                collect(child)
        else:
            assert isinstance(node, str) and _UUID_V4.fullmatch(node[:36])
            salts.append(node[:36])

    collect(salted)
    assert len(set(salts)) == len(salts)
    assert unsalt_data(salted) == unsalt_data(_salt_and_hash_python(data, iter(salts))[0])


def test_obfuscated_hashes_that_are_not_lowercase_hex_take_the_python_route() -> None:
    data = {"a": "x"}
    for odd in (["AB" * 32], ["not a hash"], ["ab" * 31]):
        assert _native().target_hash(data, odd, json_stringify) is None
        assert _python_target_hash(data, odd)  # and Python still answers


def test_unusual_layouts_take_the_python_route() -> None:
    class Text(str):
        pass

    for data in ({"a.b": 1}, {"": {"a": 1}}, {"a": Text("x")}, {"a": (1, 2)}):
        assert _native().salt_and_hash(data, js_number_to_string, os.urandom) is None
        assert _native().target_hash(data, [], json_stringify) is None
    with pytest.raises(KeyWithPeriodError):
        wrap_data({"a": {"b.c": 1}}, validate=False)
    salted, target = wrap_data({"": {"a": 1}, "b": [{"c": Text("x")}]}, validate=False)
    assert unsalt_data(salted) == {"": {"a": 1}, "b": [{"c": "x"}]}
    assert target == _python_target_hash(salted, [])


def _first_salt(queue: Any) -> None:
    salted, _ = native.salt_and_hash({"a": "x"}, js_number_to_string, os.urandom)  # type: ignore[union-attr,misc]
    queue.put(salted["a"][:36])


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork")
def test_forked_children_do_not_reuse_the_parents_salts() -> None:
    _native().salt_and_hash({"warm": "up"}, js_number_to_string, os.urandom)  # fills the pool
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_first_salt, args=(queue,))
    child.start()
    child_salt = queue.get(timeout=60)
    child.join(timeout=60)
    done = _native().salt_and_hash({"a": "x"}, js_number_to_string, os.urandom)
    assert done is not None
    assert done[0]["a"][:36] != child_salt


def test_keccak256_many_matches_pysha3_across_lane_counts() -> None:
    messages = [os.urandom(n) for n in (*range(0, 300, 7), 135, 136, 137, 271, 272, 273, 4000)]
    for count in range(len(messages) + 1):
        expected = [sha3.keccak_256(m).digest() for m in messages[:count]]
        assert _native().keccak256_many(messages[:count]) == expected


def test_batch_wrap_and_batch_integrity_agree_with_one_at_a_time() -> None:
    from smartnation.healthcerts.openattestation import (
        document_integrity_holds,
        documents_integrity_hold,
        wrap_documents,
    )
    from smartnation.healthcerts.openattestation.obfuscate import obfuscate_document

    from .conftest import raw_document

    documents = [raw_document(name=f"person {i}", note="x" * i) for i in range(19)]
    documents[3] = raw_document(**{"": {"merged": "paths"}})  # the Python route, in the batch
    wrapped = wrap_documents(documents)
    assert unsalt_data(wrapped[3]["data"])[""] == {"merged": "paths"}
    hidden = obfuscate_document(wrapped[5], ["name"])
    tampered = {**wrapped[6], "data": {**wrapped[6]["data"], "name": wrapped[7]["data"]["name"]}}
    odd = {**wrapped[8], "privacy": {"obfuscatedData": ["NOT-HEX"]}}
    broken = {**wrapped[9], "privacy": {"obfuscatedData": "not a list"}}
    candidates = [*wrapped, hidden, tampered, odd, broken]
    expected = [document_integrity_holds(d) for d in candidates]
    assert expected[:19] == [True] * 19 and expected[19:] == [True, False, False, False]
    assert documents_integrity_hold(candidates) == expected

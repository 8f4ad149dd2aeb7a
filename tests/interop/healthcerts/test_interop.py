"""Our documents verify in the reference packages and theirs in ours, fragment for fragment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smartnation.healthcerts.openattestation import (
    TableTxtResolver,
    VerificationContext,
    is_valid,
    load_private_key,
    sign_document,
    verify_document,
    wrap_documents,
)
from smartnation.healthcerts.openattestation.encryption import decrypt_string, encrypt_string
from smartnation.healthcerts.openattestation.obfuscate import obfuscate_document

from .conftest import ADDRESS, DNS_TABLE, FIXTURES, PRIVATE_KEY, raw_document, run_node

pytestmark = pytest.mark.interop
KEY_ID = f"did:ethr:{ADDRESS}#controller"


def _awkward(i: int) -> dict[str, Any]:
    return raw_document(
        id=f"cert-{i}",
        recipient={"name": "陈美玲 Ñandú ✓ 😀", "note": 'tab\there "quoted" \\ \u0001 trailing  '},
        numbers=[1e21, 1e-7, -0.0, 0.1, 123456789012345680000, 5e-324, 2**53 + 1, -1.5e-10, i],
        flags=[True, False, None],
        empty={"object": {}, "array": []},
        nested=[[{"deep": [1, {"x": "y"}]}]],
    )


def _ours(documents: list[dict[str, Any]], dns: dict[str, Any]) -> list[list[dict[str, Any]]]:
    context = VerificationContext(dns=TableTxtResolver(dns))
    return [[f.to_json() for f in verify_document(d, context)] for d in documents]


def _comparable(fragment: dict[str, Any]) -> dict[str, Any]:
    # Error messages quote the underlying network library and legitimately differ.
    if fragment["status"] == "ERROR":
        return {**fragment, "reason": {**fragment["reason"], "message": "<error>"}}
    return fragment


def _assert_same(ours: list[list[dict[str, Any]]], theirs: list[dict[str, Any]]) -> None:
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        assert [_comparable(f) for f in mine] == [_comparable(f) for f in reference["fragments"]]


@pytest.mark.parametrize("count", [1, 3, 7])
def test_our_signed_batches_verify_in_reference(node_project: Path, count: int) -> None:
    key = load_private_key(PRIVATE_KEY)
    wrapped = wrap_documents([_awkward(i) for i in range(count)])
    signed = [sign_document(d, key, KEY_ID) for d in wrapped]
    theirs = run_node(node_project, "verify.mjs", {"documents": signed, "dnsRecords": DNS_TABLE})
    assert all(r["isValid"] and r["verifySignature"] for r in theirs)
    _assert_same(_ours(signed, DNS_TABLE), theirs)


def test_our_obfuscated_documents_verify_in_reference(node_project: Path) -> None:
    key = load_private_key(PRIVATE_KEY)
    signed = [
        sign_document(d, key, KEY_ID) for d in wrap_documents([_awkward(i) for i in range(3)])
    ]
    hidden = [obfuscate_document(d, ["recipient.note", "numbers", "empty.object"]) for d in signed]
    theirs = run_node(node_project, "verify.mjs", {"documents": hidden, "dnsRecords": DNS_TABLE})
    assert all(r["isValid"] for r in theirs)
    _assert_same(_ours(hidden, DNS_TABLE), theirs)


@pytest.mark.parametrize("count", [1, 3, 7])
def test_reference_documents_verify_in_ours(node_project: Path, count: int) -> None:
    raw = json.loads(json.dumps([_awkward(i) for i in range(count)]))
    payload = {"documents": raw, "sign": {"privateKey": PRIVATE_KEY, "publicKey": KEY_ID}}
    theirs_signed = run_node(node_project, "wrap.mjs", payload)
    obfuscated = run_node(node_project, "wrap.mjs", {**payload, "obfuscate": ["recipient.note"]})
    documents = theirs_signed + obfuscated
    theirs = run_node(node_project, "verify.mjs", {"documents": documents, "dnsRecords": DNS_TABLE})
    ours = _ours(documents, DNS_TABLE)
    _assert_same(ours, theirs)
    context = VerificationContext(dns=TableTxtResolver(DNS_TABLE))
    assert all(is_valid(verify_document(d, context)) for d in documents)


def test_signatures_are_identical_to_reference(node_project: Path) -> None:
    raw = [_awkward(0)]
    theirs = run_node(
        node_project,
        "wrap.mjs",
        {"documents": raw, "sign": {"privateKey": PRIVATE_KEY, "publicKey": KEY_ID}},
    )[0]
    unsigned = {k: v for k, v in theirs.items() if k != "proof"}
    ours = sign_document(unsigned, load_private_key(PRIVATE_KEY), KEY_ID)
    assert ours["proof"][0]["signature"] == theirs["proof"][0]["signature"]


def test_every_fixture_gives_reference_fragments(node_project: Path) -> None:
    if not (FIXTURES / "manifest.json").exists():
        pytest.skip("fixtures not present")
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    documents = []
    for entry in manifest["fixtures"]:
        if "fragments_offline" in entry.get("expected", {}):
            documents.append(json.loads((FIXTURES / entry["file"]).read_text()))
    dns = json.loads((FIXTURES / "dns_records.json").read_text())
    dns = {k: v for k, v in dns.items() if not k.startswith("_")}
    theirs = run_node(node_project, "verify.mjs", {"documents": documents, "dnsRecords": dns})
    _assert_same(_ours(documents, dns), theirs)


def test_encryption_interoperates(node_project: Path) -> None:
    text = json.dumps({"name": "陈美玲", "n": 1})
    ours = encrypt_string(text)
    decrypted = run_node(
        node_project,
        "encryption.mjs",
        {
            "decrypt": {
                "cipherText": ours.cipher_text,
                "iv": ours.iv,
                "tag": ours.tag,
                "key": ours.key,
                "type": ours.type,
            }
        },
    )
    assert decrypted["text"] == text
    theirs = run_node(node_project, "encryption.mjs", {"encrypt": {"text": text}})
    assert (
        decrypt_string(
            theirs["cipherText"], theirs["iv"], theirs["tag"], theirs["key"], theirs["type"]
        )
        == text
    )

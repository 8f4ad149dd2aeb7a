"""OpenAttestation 2.0 schema checks and the document-shape guards the verifiers rely on."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
from jsonschema.protocols import Validator

from ..schemas import load_schema
from .salt import unsalt_data

SCHEMA_V2_ID = "https://schema.openattestation.com/2.0/schema.json"
PROOF_TYPE = "OpenAttestationSignature2018"
PROOF_PURPOSE = "assertionMethod"


@cache
def _validator(strict: bool) -> Validator:
    name = "openattestation-2.0-strict.json" if strict else "openattestation-2.0-non-strict.json"
    schema = load_schema(name)
    validator: Validator = jsonschema.Draft7Validator(schema)
    return validator


@cache
def _top_level_properties(strict: bool) -> frozenset[str]:
    schema = load_schema(
        "openattestation-2.0-strict.json" if strict else "openattestation-2.0-non-strict.json"
    )
    return frozenset(schema["properties"])


def _format_error(error: jsonschema.ValidationError) -> str:
    path = "".join(f"/{p}" for p in error.absolute_path) or "document"
    return f"{path} - {error.message}"


_memo: dict[tuple[bool, str], tuple[str, ...]] = {}
_MEMO_LIMIT = 4096


def oa_schema_errors(raw_data: Any, *, strict: bool = True) -> list[str]:
    """Errors of unsalted `raw_data` against the OA 2.0 schema (empty when valid)."""
    if isinstance(raw_data, dict):
        # The schema only constrains a few top-level properties and allows any other, so the rest
        # of the document (the bulky FHIR bundle) cannot change the outcome; batches usually repeat
        # the same issuers and template, so the outcome is remembered.
        wanted = _top_level_properties(strict)
        projection = {k: v for k, v in raw_data.items() if k in wanted}
        try:
            memo_key = (strict, json.dumps(projection, sort_keys=True))
        except (TypeError, ValueError):
            memo_key = None
        if memo_key is not None and memo_key in _memo:
            return list(_memo[memo_key])
        errors = [_format_error(e) for e in _validator(strict).iter_errors(projection)]
        if memo_key is not None:
            if len(_memo) >= _MEMO_LIMIT:
                _memo.clear()
            _memo[memo_key] = tuple(errors)
        return errors
    return [_format_error(e) for e in _validator(strict).iter_errors(raw_data)]


def get_data(document: dict[str, Any]) -> Any:
    """The unsalted `data` of a wrapped document."""
    return unsalt_data(document.get("data"))


def _wrapped_shape_errors(document: Any) -> list[str]:
    if not document or not isinstance(document, dict):
        return ["The document must be an object"]
    data = document.get("data")
    projection: Any = data
    if isinstance(data, dict):
        wanted = _top_level_properties(False)
        projection = {k: v for k, v in data.items() if k in wanted}
    errors = oa_schema_errors(unsalt_data(projection), strict=False)
    if errors:
        return ["The document does not match OpenAttestation schema 2.0", *errors]
    signature = document.get("signature")
    if not (
        isinstance(signature, dict)
        and signature.get("type") == "SHA3MerkleProof"
        and isinstance(signature.get("targetHash"), str)
        and isinstance(signature.get("merkleRoot"), str)
        and isinstance(signature.get("proof"), list)
        and all(isinstance(p, str) for p in signature["proof"])
    ):
        return ["signature must be {type: SHA3MerkleProof, targetHash, merkleRoot, proof: [..]}"]
    return []


def wrapped_v2_errors(document: Any) -> list[str]:
    """Why `document` is not a wrapped OA v2 document (empty when it is)."""
    return _wrapped_shape_errors(document)


def is_wrapped_v2(document: Any) -> bool:
    """The reference `utils.isWrappedV2Document` (non-strict)."""
    return not _wrapped_shape_errors(document)


def _is_proof(proof: Any) -> bool:
    return (
        isinstance(proof, dict)
        and proof.get("type") == PROOF_TYPE
        and isinstance(proof.get("created"), str)
        and proof.get("proofPurpose") == PROOF_PURPOSE
        and isinstance(proof.get("verificationMethod"), str)
        and isinstance(proof.get("signature"), str)
    )


def is_signed_wrapped_v2(document: Any) -> bool:
    """The reference `utils.isSignedWrappedV2Document` (non-strict)."""
    if not is_wrapped_v2(document):
        return False
    proofs = document.get("proof")
    return isinstance(proofs, list) and len(proofs) > 0 and all(_is_proof(p) for p in proofs)

"""Offline verification of OpenAttestation v2 documents, fragment for fragment like oa-verify.

`verify_document` runs the seven verifiers of oa-verify 9.x (its six defaults plus
OpenAttestationDidIdentityProof) and returns their fragments; `is_valid` combines them.
DNS answers come from a `TxtResolver`, OCSP answers from an injectable fetcher, and checks that
need an Ethereum node are reported as ERROR (or INVALID for malformed arguments), never VALID.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import fragments as names
from .did import RECOVERY_METHOD_TYPE, arrayify_hex, find_verification_method, recover_signer
from .digest import digest_document, digest_documents
from .dns import DnsLookupError, TxtResolver, dns_did_records, document_store_records
from .errors import OpenAttestationError
from .ethereum import OFFLINE_MESSAGE, is_bytes32, is_plain_address, is_uint256
from .fragments import (
    DidCode,
    DidSignedCode,
    DnsDidCode,
    DnsproveCode,
    DnsTxtCode,
    DocumentStoreCode,
    Fragment,
    FragmentType,
    HashCode,
    Reason,
    SignatureCode,
    TokenRegistryCode,
    VerifierFailure,
)
from .merkle import check_proof, intermediate_hashes, parse_hash
from .ocsp import OCSP_REVOCATION_REASONS, OcspFetcher, OcspFetchError, unreachable_ocsp_fetcher
from .schema import get_data, is_signed_wrapped_v2, is_wrapped_v2


@dataclass
class VerificationContext:
    """Where the verifiers get outside answers from."""

    dns: TxtResolver
    ocsp_fetcher: OcspFetcher = unreachable_ocsp_fetcher
    ethereum_chain_id: str = "1"


@dataclass
class _Document:
    raw: Any
    wrapped: bool = field(init=False)
    signed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.wrapped = is_wrapped_v2(self.raw)
        self.signed = self.wrapped and is_signed_wrapped_v2(self.raw)

    @cached_property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = get_data(self.raw)
        return data

    @property
    def issuers(self) -> list[dict[str, Any]]:
        issuers: list[dict[str, Any]] = self.data["issuers"]
        return issuers

    @property
    def signature(self) -> dict[str, Any]:
        signature: dict[str, Any] = self.raw["signature"]
        return signature

    @property
    def proofs(self) -> list[dict[str, Any]]:
        proofs: list[dict[str, Any]] = self.raw.get("proof") or []
        return proofs


def _js(value: Any) -> str:
    """`${value}` in a JavaScript template string, for messages."""
    if value is None:
        return "undefined"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _identity_type(issuer: dict[str, Any]) -> Any:
    proof = issuer.get("identityProof")
    return proof.get("type") if isinstance(proof, dict) else None


@dataclass(frozen=True)
class _Verifier:
    name: str
    type: FragmentType
    skip_reason: Reason
    unexpected: Reason  # code used when a check fails in an unforeseen way
    test: Callable[[_Document], bool]
    verify: Callable[[_Document, VerificationContext], Fragment]

    def run(self, document: _Document, context: VerificationContext) -> Fragment:
        if not self.test(document):
            return Fragment(self.name, self.type, "SKIPPED", self.skip_reason)
        try:
            return self.verify(document, context)
        except VerifierFailure as failure:
            reason = failure.reason
            if not reason.code:
                # oa-verify treats a coded error whose code is 0 as an unexpected error
                reason = Reason(self.unexpected.code, self.unexpected.code_string, reason.message)
            return Fragment(self.name, self.type, "ERROR", reason)
        except Exception as exc:  # every other failure becomes an ERROR fragment, as in oa-verify
            reason = Reason(self.unexpected.code, self.unexpected.code_string, str(exc))
            return Fragment(self.name, self.type, "ERROR", reason)


# --- OpenAttestationHash -------------------------------------------------------------------


def _proof_holds(signature: dict[str, Any], digest: str) -> bool:
    if digest != signature["targetHash"]:
        return False
    root = parse_hash(signature["merkleRoot"])
    target = parse_hash(signature["targetHash"])
    proof = [parse_hash(p) for p in signature["proof"]]
    if root is None or target is None or any(p is None for p in proof):
        return False
    return check_proof([p for p in proof if p is not None], root, target)


def document_integrity_holds(document: dict[str, Any]) -> bool:
    """Target hash recomputed from the data, and the Merkle proof leads to the root.

    Hashes must be exactly 64 hex digits: the reference accepts a root with trailing junk
    (Node's hex decoder stops at the first bad character); this does not.
    """
    signature = document["signature"]
    try:
        digest = digest_document(document)
    except OpenAttestationError as exc:
        if "obfuscatedData" in str(exc):
            return False
        raise
    return _proof_holds(signature, digest)


def documents_integrity_hold(documents: Sequence[dict[str, Any]]) -> list[bool]:
    """`document_integrity_holds` for many documents; faster than one at a time.

    With the compiled speedups, the documents' target hashes are computed side by side.
    """
    digests = digest_documents(documents)
    return [
        document_integrity_holds(document)
        if digest is None
        else _proof_holds(document["signature"], digest)
        for document, digest in zip(documents, digests, strict=True)
    ]


def _verify_hash(document: _Document, context: VerificationContext) -> Fragment:
    if document_integrity_holds(document.raw):
        return Fragment(names.HASH, "DOCUMENT_INTEGRITY", "VALID", data=True)
    reason = Reason.of(HashCode.DOCUMENT_TAMPERED, "Document has been tampered with")
    return Fragment(names.HASH, "DOCUMENT_INTEGRITY", "INVALID", reason, data=False)


# --- Ethereum-dependent status checks --------------------------------------------------------


def _has_key(document: _Document, *keys: str) -> bool:
    return document.wrapped and any(k in issuer for issuer in document.issuers for k in keys)


def _verify_token_registry(document: _Document, context: VerificationContext) -> Fragment:
    issuers = document.issuers
    if len(issuers) != 1:
        raise VerifierFailure(
            Reason.of(TokenRegistryCode.INVALID_ISSUERS, "Only one issuer is allowed for tokens")
        )
    registry = issuers[0].get("tokenRegistry")
    if not registry:
        raise VerifierFailure(
            Reason.of(TokenRegistryCode.UNDEFINED_TOKEN_REGISTRY, "Token registry is undefined")
        )
    root = "0x" + document.signature["merkleRoot"]
    if is_plain_address(registry) and not is_uint256(root):
        reason = Reason.of(TokenRegistryCode.DOCUMENT_NOT_MINTED, "Invalid contract arguments")
        return Fragment(names.TOKEN_REGISTRY_STATUS, "DOCUMENT_STATUS", "INVALID", reason)
    raise OpenAttestationError(OFFLINE_MESSAGE.format(what="token registry", address=_js(registry)))


def _verify_document_store(document: _Document, context: VerificationContext) -> Fragment:
    stores = []
    for issuer in document.issuers:
        store = issuer.get("documentStore") or issuer.get("certificateStore")
        if not store:
            raise VerifierFailure(
                Reason.of(
                    DocumentStoreCode.INVALID_ISSUERS,
                    f"Document store address not found in issuer {_js(issuer.get('name'))}",
                )
            )
        stores.append(store)
    root = "0x" + document.signature["merkleRoot"]
    if all(is_plain_address(s) for s in stores) and not is_bytes32(root):
        reason = Reason.of(DocumentStoreCode.DOCUMENT_NOT_ISSUED, "Invalid call arguments")
        return Fragment(names.DOCUMENT_STORE_STATUS, "DOCUMENT_STATUS", "INVALID", reason)
    raise OpenAttestationError(
        OFFLINE_MESSAGE.format(what="document store", address=_js(stores[0]))
    )


# --- OpenAttestationDidSignedDocumentStatus ----------------------------------------------------


def _ocsp_status(document: _Document, location: str, context: VerificationContext) -> Reason | None:
    """None when not revoked, else the revocation reason; raises for unusable answers."""
    signature = document.signature
    merkle_root = "0x" + signature["merkleRoot"]
    target = parse_hash(signature["targetHash"])
    proof = [parse_hash(p) for p in signature["proof"]]
    if target is None or any(p is None for p in proof):
        raise OpenAttestationError("targetHash and proof must be 32-byte hex to query OCSP")
    for node in intermediate_hashes(signature["targetHash"], list(signature["proof"])):
        try:
            answer = context.ocsp_fetcher(f"{location}/{node}")
        except OcspFetchError as exc:
            raise VerifierFailure(
                Reason.of(
                    DidSignedCode.OCSP_RESPONSE_INVALID,
                    f"Invalid or unexpected response from OCSP Responder - {exc}",
                )
            ) from exc
        if (
            isinstance(answer, dict)
            and answer.get("revoked") is False
            and isinstance(answer.get("documentHash"), str)
        ):
            continue
        reason_code = answer.get("reasonCode") if isinstance(answer, dict) else None
        if (
            isinstance(answer, dict)
            and answer.get("revoked") is True
            and isinstance(answer.get("documentHash"), str)
            and isinstance(reason_code, int | float)
            and not isinstance(reason_code, bool)
            and reason_code in OCSP_REVOCATION_REASONS
        ):
            code = int(reason_code)
            return Reason(
                code,
                OCSP_REVOCATION_REASONS[code],
                f"Document {merkle_root} has been revoked under OCSP Responder: {location}",
            )
        raise VerifierFailure(
            Reason.of(
                DidSignedCode.OCSP_RESPONSE_INVALID,
                "Invalid or unexpected response from OCSP Responder",
            )
        )
    return None


def _revocation_store_status(document: _Document, location: str) -> Reason | None:
    signature = document.signature
    hashes = [signature["merkleRoot"], signature["targetHash"], *signature["proof"]]
    if is_plain_address(location) and not all(is_bytes32("0x" + h) for h in hashes):
        return Reason.of(DocumentStoreCode.DOCUMENT_REVOKED, "Invalid call arguments")
    raise OpenAttestationError(OFFLINE_MESSAGE.format(what="revocation store", address=location))


def _signature_reason(document: _Document, did: str, key: str, signature: Any) -> Reason | None:
    """None when `signature` over the merkle root is by `key` of `did`, else the reason."""
    method = find_verification_method(did, key)
    if method is None:
        raise VerifierFailure(
            Reason.of(
                SignatureCode.KEY_NOT_IN_DID,
                f"No public key found on DID document for the DID {did} and key {key}",
            )
        )
    if method.type != RECOVERY_METHOD_TYPE:
        raise VerifierFailure(
            Reason.of(
                SignatureCode.UNSUPPORTED_KEY_TYPE,
                f"Signature type {method.type} is currently not support",
            )
        )
    if not method.blockchain_account_id:
        return Reason.of(
            SignatureCode.KEY_MISSING, f"ethereumAddress not found on public key {key}"
        )
    address = method.blockchain_account_id.split(":")[-1]
    message = arrayify_hex("0x" + document.signature["merkleRoot"])
    if recover_signer(message, signature) != address.lower():
        return Reason.of(
            SignatureCode.WRONG_SIGNATURE, f"merkle root is not signed correctly by {address}"
        )
    return None


def _corresponding_proof(document: _Document, key: str) -> dict[str, Any] | None:
    return next(
        (p for p in document.proofs if p["verificationMethod"].lower() == key.lower()), None
    )


def _verify_did_signed(document: _Document, context: VerificationContext) -> Fragment:
    issuers = document.issuers
    for issuer in issuers:
        if _identity_type(issuer) not in ("DID", "DNS-DID"):
            raise VerifierFailure(
                Reason.of(
                    DidSignedCode.INVALID_ISSUERS,
                    "All issuers must use DID or DNS-DID identityProof type.",
                )
            )
    revocations = [issuer.get("revocation") for issuer in issuers]
    if any(not isinstance(r, dict) or r.get("type") is None for r in revocations):
        raise VerifierFailure(
            Reason.of(DidSignedCode.MISSING_REVOCATION, "revocation block not found for an issuer")
        )
    revoked: list[Reason] = []
    for revocation in revocations:
        assert isinstance(revocation, dict)
        kind, location = revocation.get("type"), revocation.get("location")
        if kind == "NONE":
            continue
        if kind not in ("REVOCATION_STORE", "OCSP_RESPONDER"):
            raise VerifierFailure(
                Reason.of(
                    DidSignedCode.UNRECOGNIZED_REVOCATION_TYPE,
                    "unrecognized revocation type for an issuer",
                )
            )
        if not isinstance(location, str):
            raise VerifierFailure(
                Reason.of(
                    DidSignedCode.REVOCATION_LOCATION_MISSING,
                    "missing revocation location for an issuer",
                )
            )
        status = (
            _ocsp_status(document, location, context)
            if kind == "OCSP_RESPONDER"
            else _revocation_store_status(document, location)
        )
        if status is not None:
            revoked.append(status)
    not_issued: list[Reason] = []
    for issuer in issuers:
        proof = issuer.get("identityProof") or {}
        key, did = proof.get("key"), issuer.get("id")
        if not did:
            raise VerifierFailure(Reason.of(DidSignedCode.DID_MISSING, "id is missing in issuer"))
        if not key:
            raise VerifierFailure(
                Reason.of(DidSignedCode.MALFORMED_IDENTITY_PROOF, "Key is not present")
            )
        corresponding = _corresponding_proof(document, key)
        if corresponding is None:
            raise VerifierFailure(
                Reason.of(DidSignedCode.CORRESPONDING_PROOF_MISSING, f"Proof not found for {key}")
            )
        reason = _signature_reason(document, did, key, corresponding["signature"])
        if reason is not None:
            not_issued.append(reason)
    if not not_issued and not revoked:
        return Fragment(names.DID_SIGNED_STATUS, "DOCUMENT_STATUS", "VALID")
    first = not_issued[0] if not_issued else revoked[0]
    return Fragment(names.DID_SIGNED_STATUS, "DOCUMENT_STATUS", "INVALID", first)


# --- issuer identity -------------------------------------------------------------------------


def _txt_records(context: VerificationContext, location: str) -> list[str]:
    try:
        return context.dns.txt_records(location)
    except DnsLookupError as exc:
        raise VerifierFailure(
            Reason.of(DnsproveCode.IDNS_QUERY_ERROR_GENERAL, "Unable to query DNS")
        ) from exc


def _verify_dns_txt(document: _Document, context: VerificationContext) -> Fragment:
    statuses: list[Reason | None] = []
    for issuer in document.issuers:
        if _identity_type(issuer) != "DNS-TXT":
            statuses.append(
                Reason.of(
                    DnsTxtCode.INVALID_ISSUERS, "Issuer is not using DNS-TXT identityProof type"
                )
            )
            continue
        location = issuer["identityProof"].get("location")
        address = (
            issuer.get("documentStore")
            or issuer.get("tokenRegistry")
            or issuer.get("certificateStore")
        )
        if not location:
            raise VerifierFailure(
                Reason.of(DnsTxtCode.INVALID_ISSUERS, "Location not found in identity proof")
            )
        if not address:
            raise VerifierFailure(
                Reason.of(
                    DnsTxtCode.INVALID_ISSUERS, "Smart contract address not found in identity proof"
                )
            )
        records = document_store_records(_txt_records(context, location))
        matched = any(
            r.address.lower() == str(address).lower() and r.net_id == context.ethereum_chain_id
            for r in records
        )
        statuses.append(
            None
            if matched
            else Reason.of(
                DnsTxtCode.MATCHING_RECORD_NOT_FOUND, f"Matching DNS record not found for {address}"
            )
        )
    failure = next((s for s in statuses if s is not None), None)
    if failure is None:
        return Fragment(names.DNS_TXT_IDENTITY, "ISSUER_IDENTITY", "VALID")
    return Fragment(names.DNS_TXT_IDENTITY, "ISSUER_IDENTITY", "INVALID", failure)


def _verify_dns_did(document: _Document, context: VerificationContext) -> Fragment:
    results = []
    for issuer in document.issuers:
        proof = issuer.get("identityProof")
        if not proof:
            raise VerifierFailure(
                Reason.of(DnsDidCode.MALFORMED_IDENTITY_PROOF, "Identity proof missing")
            )
        if proof.get("type") != "DNS-DID":
            raise VerifierFailure(
                Reason.of(
                    DnsDidCode.INVALID_ISSUERS, "Issuer is not using DID-DNS identityProof type"
                )
            )
        location, key = proof.get("location"), proof.get("key")
        if not location:
            raise VerifierFailure(
                Reason.of(
                    DnsDidCode.MALFORMED_IDENTITY_PROOF, "location is not present in identity proof"
                )
            )
        if not key:
            raise VerifierFailure(
                Reason.of(
                    DnsDidCode.MALFORMED_IDENTITY_PROOF, "key is not present in identity proof"
                )
            )
        records = dns_did_records(_txt_records(context, location))
        found = any(r.public_key.lower() == str(key).lower() for r in records)
        results.append(
            {"location": location, "key": key, "status": "VALID" if found else "INVALID"}
        )
    if all(r["status"] == "VALID" for r in results):
        return Fragment(names.DNS_DID_IDENTITY, "ISSUER_IDENTITY", "VALID", data=results)
    reason = Reason.of(DnsDidCode.INVALID_IDENTITY, "Could not find identity at location")
    return Fragment(names.DNS_DID_IDENTITY, "ISSUER_IDENTITY", "INVALID", reason, data=results)


def _verify_did_identity(document: _Document, context: VerificationContext) -> Fragment:
    if not document.signed:
        raise VerifierFailure(Reason.of(DidCode.UNSIGNED, "Document is not signed"))
    reasons: list[Reason | None] = []
    for issuer in document.issuers:
        if _identity_type(issuer) != "DID":
            raise VerifierFailure(
                Reason.of(DidCode.INVALID_ISSUERS, "Issuer is not using DID identityProof type")
            )
        did, key = issuer.get("id"), issuer["identityProof"].get("key")
        if not did:
            raise VerifierFailure(Reason.of(DidCode.DID_MISSING, "id is missing in issuer"))
        if not key:
            raise VerifierFailure(Reason.of(DidCode.MALFORMED_IDENTITY_PROOF, "Key is not present"))
        corresponding = _corresponding_proof(document, key)
        if corresponding is None:
            raise VerifierFailure(
                Reason.of(DidCode.MALFORMED_IDENTITY_PROOF, f"No proof for {key}")
            )
        reasons.append(_signature_reason(document, did, key, corresponding["signature"]))
    failure = next((r for r in reasons if r is not None), None)
    if failure is None:
        return Fragment(names.DID_IDENTITY, "ISSUER_IDENTITY", "VALID")
    return Fragment(names.DID_IDENTITY, "ISSUER_IDENTITY", "INVALID", failure)


VERIFIERS: tuple[_Verifier, ...] = (
    _Verifier(
        names.HASH,
        "DOCUMENT_INTEGRITY",
        Reason.of(HashCode.SKIPPED, "Document does not have merkle root, target hash or data."),
        Reason.of(HashCode.UNEXPECTED_ERROR, ""),
        lambda d: d.wrapped,
        _verify_hash,
    ),
    _Verifier(
        names.TOKEN_REGISTRY_STATUS,
        "DOCUMENT_STATUS",
        Reason.of(
            TokenRegistryCode.SKIPPED,
            'Document issuers doesn\'t have "tokenRegistry" property or TOKEN_REGISTRY method',
        ),
        Reason.of(TokenRegistryCode.UNEXPECTED_ERROR, ""),
        lambda d: _has_key(d, "tokenRegistry"),
        _verify_token_registry,
    ),
    _Verifier(
        names.DOCUMENT_STORE_STATUS,
        "DOCUMENT_STATUS",
        Reason.of(
            DocumentStoreCode.SKIPPED,
            'Document issuers doesn\'t have "documentStore" or "certificateStore" property or '
            "DOCUMENT_STORE method",
        ),
        Reason.of(DocumentStoreCode.UNEXPECTED_ERROR, ""),
        lambda d: _has_key(d, "documentStore", "certificateStore"),
        _verify_document_store,
    ),
    _Verifier(
        names.DID_SIGNED_STATUS,
        "DOCUMENT_STATUS",
        Reason.of(DidSignedCode.SKIPPED, "Document was not signed by DID directly"),
        Reason.of(DidSignedCode.UNEXPECTED_ERROR, ""),
        lambda d: d.signed,
        _verify_did_signed,
    ),
    _Verifier(
        names.DNS_TXT_IDENTITY,
        "ISSUER_IDENTITY",
        Reason.of(
            DnsTxtCode.SKIPPED,
            'Document issuers doesn\'t have "documentStore" / "tokenRegistry" property or doesn\'t '
            "use DNS-TXT type",
        ),
        Reason.of(DnsTxtCode.UNEXPECTED_ERROR, ""),
        lambda d: (
            d.wrapped
            and any(
                (i.get("documentStore") or i.get("tokenRegistry") or i.get("certificateStore"))
                and _identity_type(i) == "DNS-TXT"
                for i in d.issuers
            )
        ),
        _verify_dns_txt,
    ),
    _Verifier(
        names.DNS_DID_IDENTITY,
        "ISSUER_IDENTITY",
        Reason.of(DnsDidCode.SKIPPED, "Document was not issued using DNS-DID"),
        Reason.of(DnsDidCode.UNEXPECTED_ERROR, ""),
        lambda d: d.signed and any(_identity_type(i) == "DNS-DID" for i in d.issuers),
        _verify_dns_did,
    ),
    _Verifier(
        names.DID_IDENTITY,
        "ISSUER_IDENTITY",
        Reason.of(
            DidCode.SKIPPED,
            "Document is not using DID as top level identifier or has not been wrapped",
        ),
        Reason.of(DidCode.UNEXPECTED_ERROR, ""),
        lambda d: d.wrapped and any(_identity_type(i) == "DID" for i in d.issuers),
        _verify_did_identity,
    ),
)


def verify_document(document: Any, context: VerificationContext) -> list[Fragment]:
    """Run every verifier on a parsed document and return their fragments in oa-verify order."""
    parsed = _Document(document)
    return [verifier.run(parsed, context) for verifier in VERIFIERS]

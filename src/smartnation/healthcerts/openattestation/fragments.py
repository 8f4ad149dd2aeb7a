"""Verification fragments with the names, types, statuses and reason codes of oa-verify 9.x."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal

FragmentType = Literal["DOCUMENT_INTEGRITY", "DOCUMENT_STATUS", "ISSUER_IDENTITY"]
FragmentStatus = Literal["VALID", "INVALID", "ERROR", "SKIPPED"]
FRAGMENT_TYPES: tuple[FragmentType, ...] = (
    "DOCUMENT_STATUS",
    "DOCUMENT_INTEGRITY",
    "ISSUER_IDENTITY",
)

HASH = "OpenAttestationHash"
TOKEN_REGISTRY_STATUS = "OpenAttestationEthereumTokenRegistryStatus"  # noqa: S105
DOCUMENT_STORE_STATUS = "OpenAttestationEthereumDocumentStoreStatus"
DID_SIGNED_STATUS = "OpenAttestationDidSignedDocumentStatus"
DNS_TXT_IDENTITY = "OpenAttestationDnsTxtIdentityProof"
DNS_DID_IDENTITY = "OpenAttestationDnsDidIdentityProof"
DID_IDENTITY = "OpenAttestationDidIdentityProof"


class HashCode(IntEnum):
    DOCUMENT_TAMPERED = 0
    UNEXPECTED_ERROR = 1
    SKIPPED = 2


class DocumentStoreCode(IntEnum):
    UNEXPECTED_ERROR = 0
    DOCUMENT_NOT_ISSUED = 1
    CONTRACT_ADDRESS_INVALID = 2
    ETHERS_UNHANDLED_ERROR = 3
    SKIPPED = 4
    DOCUMENT_REVOKED = 5
    INVALID_ARGUMENT = 6
    CONTRACT_NOT_FOUND = 404
    INVALID_ISSUERS = 7
    INVALID_VALIDATION_METHOD = 8
    UNRECOGNIZED_DOCUMENT = 9
    SERVER_ERROR = 500


class TokenRegistryCode(IntEnum):
    UNEXPECTED_ERROR = 0
    DOCUMENT_NOT_MINTED = 1
    CONTRACT_ADDRESS_INVALID = 2
    ETHERS_UNHANDLED_ERROR = 3
    SKIPPED = 4
    INVALID_ISSUERS = 5
    INVALID_ARGUMENT = 6
    UNDEFINED_TOKEN_REGISTRY = 7
    INVALID_VALIDATION_METHOD = 8
    UNRECOGNIZED_DOCUMENT = 9
    SERVER_ERROR = 500


class DnsTxtCode(IntEnum):
    UNEXPECTED_ERROR = 0
    INVALID_IDENTITY = 1
    SKIPPED = 2
    INVALID_ISSUERS = 3
    MATCHING_RECORD_NOT_FOUND = 4
    UNRECOGNIZED_DOCUMENT = 5
    UNSUPPORTED = 6


class DidSignedCode(IntEnum):
    SKIPPED = 0
    UNEXPECTED_ERROR = 1
    MISSING_REVOCATION = 2
    UNSIGNED = 3
    INVALID_ISSUERS = 4
    MALFORMED_IDENTITY_PROOF = 5
    CORRESPONDING_PROOF_MISSING = 6
    DID_MISSING = 7
    UNRECOGNIZED_DOCUMENT = 8
    UNRECOGNIZED_REVOCATION_TYPE = 9
    REVOCATION_LOCATION_MISSING = 10
    OCSP_RESPONSE_INVALID = 11


class DidCode(IntEnum):
    SKIPPED = 0
    UNEXPECTED_ERROR = 1
    INVALID_ISSUERS = 2
    MALFORMED_IDENTITY_PROOF = 3
    DID_MISSING = 4
    UNSIGNED = 5
    UNRECOGNIZED_DOCUMENT = 6


class DnsDidCode(IntEnum):
    SKIPPED = 0
    UNEXPECTED_ERROR = 1
    MALFORMED_IDENTITY_PROOF = 2
    INVALID_ISSUERS = 3
    UNSIGNED = 4
    UNRECOGNIZED_DOCUMENT = 5
    INVALID_IDENTITY = 6


class SignatureCode(IntEnum):
    UNEXPECTED_ERROR = 0
    KEY_MISSING = 1
    DID_MISSING = 3
    KEY_NOT_IN_DID = 4
    UNSUPPORTED_KEY_TYPE = 6
    WRONG_SIGNATURE = 7


class DnsproveCode(IntEnum):
    IDNS_QUERY_ERROR_GENERAL = 0


@dataclass(frozen=True)
class Reason:
    """Why a fragment is not VALID."""

    code: int
    code_string: str
    message: str

    @classmethod
    def of(cls, code: IntEnum, message: str) -> Reason:
        return cls(int(code), code.name, message)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "codeString": self.code_string, "message": self.message}


@dataclass(frozen=True)
class Fragment:
    """The outcome of one verifier."""

    name: str
    type: FragmentType
    status: FragmentStatus
    reason: Reason | None = None
    data: Any = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "status": self.status}
        if self.reason is not None:
            out["reason"] = self.reason.to_json()
        return out

    @property
    def summary(self) -> str:
        """`STATUS` or `STATUS:CODE_STRING`, the form the fixture manifest uses."""
        if self.status == "VALID" or self.reason is None:
            return self.status
        return f"{self.status}:{self.reason.code_string}"


class VerifierFailure(Exception):
    """Raised inside a verifier to end it with an ERROR fragment carrying this reason."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.message)
        self.reason = reason


def is_valid(fragments: list[Fragment], types: tuple[FragmentType, ...] = FRAGMENT_TYPES) -> bool:
    """oa-verify `isValid`: each type has a VALID fragment and the rest are VALID or SKIPPED."""
    if not fragments:
        raise ValueError("Please provide at least one verification fragment to check")
    for fragment_type in types:
        of_type = [f for f in fragments if f.type == fragment_type]
        if not any(f.status == "VALID" for f in of_type):
            return False
        if not all(f.status in ("VALID", "SKIPPED") for f in of_type):
            return False
    return True

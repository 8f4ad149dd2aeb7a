"""DID signing of wrapped documents (OpenAttestationSignature2018, EIP-191 over the root)."""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import coincurve

from .did import address_of_public_key, ethereum_message_hash
from .errors import SigningError
from .merkle import parse_hash
from .schema import PROOF_PURPOSE, PROOF_TYPE, is_signed_wrapped_v2, is_wrapped_v2

_PRIVATE_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")


def load_private_key(text: str) -> coincurve.PrivateKey:
    """A secp256k1 private key from 64 hex digits (with or without `0x`)."""
    stripped = text.strip()
    if not _PRIVATE_KEY.fullmatch(stripped):
        raise SigningError("the private key must be 64 hexadecimal digits (optionally 0x-prefixed)")
    try:
        return coincurve.PrivateKey(bytes.fromhex(stripped.removeprefix("0x")))
    except ValueError as exc:
        raise SigningError(f"not a valid secp256k1 private key: {exc}") from exc


def sign_merkle_root(merkle_root: str, private_key: coincurve.PrivateKey) -> str:
    """`0x` r||s||v personal_sign signature over the 32 bytes of `merkle_root` (RFC 6979)."""
    root = parse_hash(merkle_root)
    if root is None:
        raise SigningError(f"merkleRoot is not 32 bytes of hex: {merkle_root!r}")
    signature = private_key.sign_recoverable(ethereum_message_hash(root), hasher=None)
    return "0x" + signature[:64].hex() + f"{signature[64] + 27:02x}"


def _iso_now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def sign_document(
    document: dict[str, Any],
    private_key: coincurve.PrivateKey,
    verification_method: str,
    *,
    created: str | None = None,
) -> dict[str, Any]:
    """Return a copy of a wrapped document with an OpenAttestationSignature2018 proof added.

    `verification_method` is the public key id, e.g. `did:ethr:0xADDR#controller`; it must name
    the address of `private_key`.
    """
    if not is_wrapped_v2(document):
        raise SigningError("only wrapped OpenAttestation v2 documents can be signed")
    address = address_of_public_key(private_key.public_key)
    if address.lower() not in verification_method.lower():
        raise SigningError(
            f"Private key is wrong for {verification_method} (key address {address})"
        )
    signature = sign_merkle_root(document["signature"]["merkleRoot"], private_key)
    signed = copy.copy(document)
    # like the reference, earlier proofs are kept only when they form a valid signed document
    existing = document["proof"] if is_signed_wrapped_v2(document) else []
    signed["proof"] = [
        *existing,
        {
            "type": PROOF_TYPE,
            "created": created or _iso_now(),
            "proofPurpose": PROOF_PURPOSE,
            "verificationMethod": verification_method,
            "signature": signature,
        },
    ]
    return signed

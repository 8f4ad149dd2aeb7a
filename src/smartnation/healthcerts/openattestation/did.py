"""Offline `did:ethr` resolution and Ethereum signed-message recovery.

With no ERC-1056 registry changes (the only state knowable offline) `did:ethr:0xADDR` resolves to
its default document: one verification method `DID#controller` of type
`EcdsaSecp256k1RecoveryMethod2020` whose `blockchainAccountId` is `eip155:<chainId>:0xADDR`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import coincurve

from .hashing import keccak256

RECOVERY_METHOD_TYPE = "EcdsaSecp256k1RecoveryMethod2020"
_ETHR_DID = re.compile(
    r"did:ethr:(?:(?P<network>[a-zA-Z0-9]+):)?(?P<id>0x[0-9a-fA-F]{40}|0x0[23][0-9a-fA-F]{64})"
)
_MAINNET_NAMES = {None, "mainnet", "0x1"}
_HEX = re.compile(r"(0x)?([0-9a-fA-F]{2})*")


@dataclass(frozen=True)
class VerificationMethod:
    """One key of a DID document."""

    id: str
    type: str
    controller: str
    blockchain_account_id: str | None


def address_of_public_key(public_key: coincurve.PublicKey) -> str:
    """Ethereum address (lowercase, `0x`) of a secp256k1 public key."""
    return "0x" + keccak256(public_key.format(compressed=False)[1:])[-20:].hex()


def resolve_ethr_did(did: str) -> list[VerificationMethod] | None:
    """The verification methods of a mainnet `did:ethr` default document, or None."""
    match = _ETHR_DID.fullmatch(did)
    if not match or match.group("network") not in _MAINNET_NAMES:
        return None
    identifier = match.group("id")
    if len(identifier) == 42:
        address = identifier
    else:
        address = address_of_public_key(coincurve.PublicKey(bytes.fromhex(identifier[2:])))
    return [
        VerificationMethod(
            id=f"{did}#controller",
            type=RECOVERY_METHOD_TYPE,
            controller=did,
            blockchain_account_id=f"eip155:1:{address}",
        )
    ]


def find_verification_method(did: str, key: str) -> VerificationMethod | None:
    """The method of `did`'s document whose id equals `key` (case-insensitively)."""
    methods = resolve_ethr_did(did)
    if methods is None:
        return None
    return next((m for m in methods if m.id.lower() == key.lower()), None)


class SignatureFormatError(ValueError):
    """A signature or message that ethers would refuse to parse."""


def arrayify_hex(text: str) -> bytes:
    """ethers `arrayify` for a `0x` hex string: even length, hex digits only."""
    if not isinstance(text, str) or not text.startswith("0x") or len(text) % 2:
        raise SignatureFormatError(f"invalid arrayify value (value={text!r})")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise SignatureFormatError(f"invalid arrayify value (value={text!r})") from None


def ethereum_message_hash(message: bytes) -> bytes:
    """EIP-191 personal_sign hash of `message`."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def recover_signer(message: bytes, signature: str) -> str:
    """Address (lowercase) that produced an EIP-191 `signature` over `message`, as ethers does."""
    raw = arrayify_hex(signature)
    if len(raw) == 64:  # EIP-2098 compact form: the top bit of s carries the recovery bit
        r, vs = raw[:32], bytearray(raw[32:])
        recovery = vs[0] >> 7
        vs[0] &= 0x7F
        s = bytes(vs)
    elif len(raw) == 65:
        r, s, v = raw[:32], raw[32:64], raw[64]
        if v < 27:
            if v in (0, 1):
                v += 27
            else:
                raise SignatureFormatError("signature invalid v byte")
        recovery = 1 - (v % 2)
    else:
        raise SignatureFormatError("invalid signature string")
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            r + s + bytes([recovery]), ethereum_message_hash(message), hasher=None
        )
    except Exception as exc:  # libsecp256k1 rejects r or s out of range
        raise SignatureFormatError(f"cannot recover a key from the signature: {exc}") from exc
    return address_of_public_key(public_key)

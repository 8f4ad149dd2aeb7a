"""What can be said offline about checks that need an Ethereum node.

Document stores, token registries and REVOCATION_STORE revocation need a JSON-RPC node. Offline,
the reference verifier still refuses malformed call arguments before any network request
(INVALID), and otherwise fails with a network error (ERROR); these helpers reproduce that split so
such checks are never reported VALID here.
"""

from __future__ import annotations

import re

from .hashing import keccak256

_ADDRESS = re.compile(r"(0x)?[0-9a-fA-F]{40}")
_BYTES32 = re.compile(r"0x[0-9a-fA-F]{64}")
_UINT = re.compile(r"0x[0-9a-fA-F]+", re.IGNORECASE)

OFFLINE_MESSAGE = "Ethereum RPC is not available; cannot read {what} at {address}"


def checksum_address(address: str) -> str:
    """EIP-55 mixed-case form of a 40-hex-digit address."""
    lower = address.lower().removeprefix("0x")
    digest = keccak256(lower.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(lower))


def is_plain_address(text: object) -> bool:
    """An address ethers accepts without ENS: 40 hex digits, checksum valid when mixed-case."""
    if not isinstance(text, str) or not _ADDRESS.fullmatch(text):
        return False
    digits = text.removeprefix("0x")
    if digits.lower() == digits or digits.upper() == digits:
        return True
    return checksum_address(text) == ("0x" + digits if not text.startswith("0x") else text)


def is_bytes32(text: str) -> bool:
    """ethers would encode `text` as a bytes32 argument."""
    return bool(_BYTES32.fullmatch(text))


def is_uint256(text: str) -> bool:
    """ethers would encode `text` as a uint256 argument."""
    return bool(_UINT.fullmatch(text)) and int(text, 16) < 2**256

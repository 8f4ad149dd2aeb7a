"""Keccak-256 (the original Keccak padding used by Ethereum, not NIST SHA3-256)."""

from __future__ import annotations

import sha3  # safe-pysha3: a C implementation, about six times faster per call than pycryptodome

_keccak_256 = sha3.keccak_256


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 digest of `data`."""
    digest: bytes = _keccak_256(data).digest()
    return digest


def keccak256_hex(data: bytes) -> str:
    """Lowercase hex Keccak-256 of `data`, without a `0x` prefix."""
    digest: str = _keccak_256(data).hexdigest()
    return digest

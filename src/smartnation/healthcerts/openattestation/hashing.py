"""Keccak-256 (the original Keccak padding used by Ethereum, not NIST SHA3-256)."""

from __future__ import annotations

import sha3  # safe-pysha3: a C Keccak, used where the compiled speedups are not built

from .speedups import native


def _pysha3_keccak256(data: bytes) -> bytes:
    digest: bytes = sha3.keccak_256(data).digest()
    return digest


_keccak256 = native.keccak256 if native is not None else _pysha3_keccak256
# the hash object itself, for the pure Python wrapping loop (hexdigest without a wrapper call)
_keccak_256 = sha3.keccak_256


def keccak256(data: bytes) -> bytes:
    """The 32-byte Keccak-256 digest of `data`."""
    return _keccak256(data)


def keccak256_hex(data: bytes) -> str:
    """Lowercase hex Keccak-256 of `data`, without a `0x` prefix."""
    return _keccak256(data).hex()

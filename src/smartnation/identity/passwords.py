"""Password hashes: Argon2id, computed by libsodium (PyNaCl).

The parameters are OWASP's m=12 MiB, t=3, p=1, one of the settings it lists as equally strong
(docs/identity-protocol.md). libsodium picks its AVX2 (or AVX-512) Argon2 at run time where the
processor has it, and its portable one elsewhere, so one wheel is fast on every machine: about
half the CPU a hash of argon2-cffi's portable build, which a national login's peaks are mostly
made of. The hashes are the standard PHC strings (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)
that argon2-cffi and the reference implementation read and write: hashes made by either verify
here, with whatever parameters they carry (more lanes included), and are re-hashed with these
at the holder's next login.
"""

from __future__ import annotations

from typing import Final

from nacl import pwhash
from nacl.exceptions import CryptoError

TIME_COST: Final = 3
MEMORY_KIB: Final = 12 * 1024
PARALLELISM: Final = 1  # libsodium's Argon2id computes one lane; one login stays on one core
# Every hash made with the parameters in use starts with this.
CURRENT_PREFIX: Final = f"$argon2id$v=19$m={MEMORY_KIB},t={TIME_COST},p={PARALLELISM}$"


def _bytes(password: str) -> bytes:
    # A lone surrogate cannot come from a form, but must not raise in a login either.
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    """A new Argon2id hash of `password`, with a fresh random salt."""
    encoded = pwhash.argon2id.str(_bytes(password), opslimit=TIME_COST, memlimit=MEMORY_KIB * 1024)
    return encoded.decode("ascii")


def password_matches(stored: str, password: str) -> bool:
    """Whether `password` is the one `stored` was made from. A malformed or foreign stored value
    is a mismatch, never an error."""
    try:
        return bool(pwhash.argon2id.verify(stored.encode("ascii"), _bytes(password)))
    except (CryptoError, ValueError):  # a stored value that is not ASCII is a ValueError too
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than those in use."""
    return not stored.startswith(CURRENT_PREFIX)

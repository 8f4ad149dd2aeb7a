"""The BlueTrace key ring: AES-256 keys from configuration, the first current, all accepted.

Configuration is one environment variable, `SMARTNATION_TRACING_KEYS`, holding comma-separated
standard base64 keys of 32 bytes each. New TempIDs and tokens are sealed with the first key;
decryption tries every key in order, so a rotation is: put the new key first, keep the old one
after it until the TempIDs it sealed have expired and their uploads are processed (25 days),
then drop it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smartnation.core.config import is_development
from smartnation.tracing.errors import KeyConfigurationError

KEY_SIZE = 32
Decrypt = Callable[[bytes, bytes, bytes | None], bytes]
KEYS_ENV_VAR = "SMARTNATION_TRACING_KEYS"
ENVIRONMENT_ENV_VAR = "SMARTNATION_ENVIRONMENT"

# A fixed, public key so the embedded demo runs with nothing configured. Anyone can derive it,
# so it protects nothing: production must set SMARTNATION_TRACING_KEYS (and refuses without it).
DEVELOPMENT_KEY = hashlib.sha256(
    b"smartnation tracing development key - NOT FOR PRODUCTION"
).digest()


@dataclass(frozen=True, repr=False)
class Keyring:
    """AES-256-GCM keys, newest first. The first seals; every one is tried to open."""

    keys: tuple[bytes, ...]
    _ciphers: tuple[AESGCM, ...] = field(init=False, compare=False)
    _decryptors: tuple[Decrypt, ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigurationError("a key ring needs at least one key")
        for position, key in enumerate(self.keys, start=1):
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise KeyConfigurationError(f"key {position} must be {KEY_SIZE} bytes for AES-256")
        # Building an AESGCM object costs a key schedule; doing it once makes decryption cheap.
        object.__setattr__(self, "_ciphers", tuple(AESGCM(key) for key in self.keys))
        object.__setattr__(self, "_decryptors", tuple(c.decrypt for c in self._ciphers))

    @classmethod
    def of(cls, keys: Iterable[bytes]) -> Keyring:
        """A key ring from raw 32-byte keys, newest first."""
        return cls(tuple(keys))

    @property
    def current_cipher(self) -> AESGCM:
        """The cipher that seals new TempIDs, tokens and stored codes."""
        return self._ciphers[0]

    @property
    def ciphers(self) -> tuple[AESGCM, ...]:
        """Every accepted cipher, newest first: the order decryption tries them in."""
        return self._ciphers

    @property
    def decryptors(self) -> tuple[Decrypt, ...]:
        """The ciphers' bound `decrypt` methods, newest first (saves a lookup per record)."""
        return self._decryptors

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        # Never print key material: key rings end up in logs and tracebacks.
        return f"Keyring({len(self.keys)} key{'s' if len(self.keys) != 1 else ''})"


@dataclass(frozen=True)
class ConfiguredKeyring:
    """The key ring the environment gives, and whether it is the public development key."""

    keyring: Keyring
    is_development: bool


def parse_keyring(text: str) -> Keyring:
    """Parse comma-separated base64 32-byte keys, first current, into a key ring.

    Errors name the position of the faulty key but never echo key material.
    """
    if not isinstance(text, str) or not text.strip():
        raise KeyConfigurationError(
            f"{KEYS_ENV_VAR} is empty: give one or more comma-separated base64 32-byte keys"
        )
    items = [item.strip() for item in text.split(",")]
    keys: list[bytes] = []
    for position, item in enumerate(items, start=1):
        where = f"key {position} of {len(items)}"
        if not item:
            raise KeyConfigurationError(f"{where} is empty (a stray comma?)")
        try:
            key = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError):
            raise KeyConfigurationError(f"{where} is not valid standard base64") from None
        if len(key) != KEY_SIZE:
            raise KeyConfigurationError(
                f"{where} decodes to {len(key)} bytes; each key must be {KEY_SIZE} bytes "
                "(generate one with `smartnation tracing keygen`)"
            )
        if key in keys:
            raise KeyConfigurationError(f"{where} repeats key {keys.index(key) + 1}")
        keys.append(key)
    return Keyring(tuple(keys))


def development_keyring() -> Keyring:
    """The public development key ring used when nothing is configured outside production."""
    return Keyring((DEVELOPMENT_KEY,))


def keyring_from_environment(environ: Mapping[str, str] | None = None) -> ConfiguredKeyring:
    """Read `SMARTNATION_TRACING_KEYS`; fall back to the development key only in development.

    In any other `SMARTNATION_ENVIRONMENT` (production, staging, ...) a missing variable is an
    error, so a real deployment can never silently run on the public key.
    """
    env = os.environ if environ is None else environ
    configured = env.get(KEYS_ENV_VAR, "")
    if configured.strip():
        return ConfiguredKeyring(parse_keyring(configured), is_development=False)
    if not is_development(env.get(ENVIRONMENT_ENV_VAR)):
        raise KeyConfigurationError(
            f"{KEYS_ENV_VAR} is not set; production needs its own keys "
            "(comma-separated base64 32-byte keys, the first current)"
        )
    return ConfiguredKeyring(development_keyring(), is_development=True)


def generate_key() -> str:
    """A new random key, base64-encoded, ready to put in `SMARTNATION_TRACING_KEYS`."""
    return base64.b64encode(os.urandom(KEY_SIZE)).decode("ascii")

"""Second-factor secrets sealed at rest: authenticator-app (TOTP) keys are stored encrypted with
AES-256-GCM under a key from settings, so a copy of the database alone cannot make codes.

A sealed value is ``v1:`` and the base64url of nonce (12 bytes), ciphertext and tag. The
account's id is authenticated with it, so a sealed key copied onto another account's factor does
not open. Migration ``0402`` sealed the keys stored before.
"""

from __future__ import annotations

import base64
import functools
import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from smartnation.core.config import is_development

PREFIX: Final = "v1:"
# Public on purpose: the demo runs with nothing set. Production sets its own key
# (`python -c "import secrets; print(secrets.token_urlsafe(32))"`).
DEVELOPMENT_KEY: Final = "c21hcnRuYXRpb24tZGVtby10b3RwLXNlYWxpbmctazE"


class SealingSettings(BaseSettings):
    """The key that seals second-factor secrets (base64url of 32 bytes)."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_IDENTITY_")

    totp_key: SecretStr = SecretStr(DEVELOPMENT_KEY)


class SealedSecretInvalid(ValueError):
    """A sealed value that does not open with this key for this account."""


class DevelopmentKeyRefused(RuntimeError):
    """Outside development the platform will not run on the public development key."""


def require_own_key(environment: str, key_text: str | None = None) -> None:
    """Refuse to start outside development (any ``SMARTNATION_ENVIRONMENT`` but
    ``development``, as the provider's own development switches read it) while the sealing key
    is the public development key: anyone could open the secrets a copy of the database holds.
    """
    key = _configured_key() if key_text is None else key_text
    if not is_development(environment) and key == DEVELOPMENT_KEY:
        raise DevelopmentKeyRefused(
            f"SMARTNATION_IDENTITY_TOTP_KEY is the public development key, which the "
            f"{environment!r} environment refuses: set it to a key of your own (base64url of "
            '32 bytes: python -c "import secrets; print(secrets.token_urlsafe(32))"). If '
            "authenticator apps were set up under the development key, re-seal their secrets "
            "(open with the old key, seal with the new) before changing it."
        )


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.cache
def _aead(key_text: str) -> AESGCM:
    key = _decode(key_text)
    if len(key) != 32:
        raise ValueError("SMARTNATION_IDENTITY_TOTP_KEY must be the base64url of 32 bytes")
    return AESGCM(key)


@functools.cache
def _configured_key() -> str:
    """The configured key, read from the environment once per process (as settings are)."""
    return SealingSettings().totp_key.get_secret_value()


def _cipher() -> AESGCM:
    return _aead(_configured_key())


def _associated(account_id: int) -> bytes:
    return f"identity_factor.totp_secret:{account_id}".encode()


def seal(secret: str, account_id: int, *, cipher: AESGCM | None = None) -> str:
    """The TOTP key, encrypted and bound to its account."""
    nonce = os.urandom(12)
    sealed = (cipher or _cipher()).encrypt(nonce, secret.encode(), _associated(account_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")


def unseal(value: str, account_id: int, *, cipher: AESGCM | None = None) -> str:
    """The TOTP key back; SealedSecretInvalid if it was not sealed for this account and key."""
    if not value.startswith(PREFIX):
        raise SealedSecretInvalid("not a sealed value")
    try:
        raw = _decode(value.removeprefix(PREFIX))
        opened = (cipher or _cipher()).decrypt(raw[:12], raw[12:], _associated(account_id))
    except (InvalidTag, ValueError) as error:
        raise SealedSecretInvalid("the sealed value does not open") from error
    return opened.decode()


def cipher_for(key_text: str) -> AESGCM:
    """An AES-GCM cipher for an explicit key (the migration passes the configured one)."""
    return _aead(key_text)

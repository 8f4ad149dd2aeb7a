"""OPEN-ATTESTATION-TYPE-1 encryption of documents, as `@govtechsg/oa-encryption` does it.

AES-256-GCM with a 12-byte iv and 16-byte tag over base64(utf8(json text)); `cipherText`, `iv` and
`tag` are base64, the key is 64 hex digits. Notarise stores the encrypted document and puts the key
only in the fragment of the QR link, so the storage server never sees it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import DecryptionError

ENCRYPTION_TYPE = "OPEN-ATTESTATION-TYPE-1"
_KEY_HEX = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class EncryptedDocument:
    """The stored form `{cipherText, iv, tag, type}` plus the key kept by the holder."""

    cipher_text: str
    iv: str
    tag: str
    key: str
    type: str = ENCRYPTION_TYPE

    def stored_json(self) -> dict[str, str]:
        """What goes to storage: everything but the key."""
        return {"cipherText": self.cipher_text, "iv": self.iv, "tag": self.tag, "type": self.type}


def generate_key() -> str:
    """A fresh random 256-bit key as hex."""
    return os.urandom(32).hex()


def encrypt_string(text: str, key: str | None = None) -> EncryptedDocument:
    """Encrypt a string (normally a document's JSON text)."""
    key_hex = key or generate_key()
    if not _KEY_HEX.fullmatch(key_hex):
        raise DecryptionError("the key must be 64 hexadecimal digits")
    iv = os.urandom(12)
    encoded = base64.b64encode(text.encode("utf-8"))
    sealed = AESGCM(bytes.fromhex(key_hex)).encrypt(iv, encoded, None)
    return EncryptedDocument(
        cipher_text=base64.b64encode(sealed[:-16]).decode(),
        iv=base64.b64encode(iv).decode(),
        tag=base64.b64encode(sealed[-16:]).decode(),
        key=key_hex.lower(),
    )


def encrypt_document(document: dict[str, Any], key: str | None = None) -> EncryptedDocument:
    """Encrypt a document as `JSON.stringify(document)`."""
    return encrypt_string(json.dumps(document, ensure_ascii=False, separators=(",", ":")), key)


def decrypt_string(cipher_text: str, iv: str, tag: str, key: str, type: str) -> str:
    """Decrypt to the original string; DecryptionError for a wrong key or altered data."""
    if type != ENCRYPTION_TYPE:
        raise DecryptionError(f"Expecting version {ENCRYPTION_TYPE} but got {type}")
    if not isinstance(key, str) or not _KEY_HEX.fullmatch(key):
        raise DecryptionError("the key must be 64 hexadecimal digits")
    try:
        sealed = base64.b64decode(cipher_text, validate=True) + base64.b64decode(tag, validate=True)
        nonce = base64.b64decode(iv, validate=True)
        encoded = AESGCM(bytes.fromhex(key)).decrypt(nonce, sealed, None)
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError("Error decrypting message") from exc


def decrypt_document(stored: dict[str, Any], key: str) -> dict[str, Any]:
    """Decrypt a stored `{cipherText, iv, tag, type}` and parse the document inside."""
    try:
        text = decrypt_string(
            stored["cipherText"], stored["iv"], stored["tag"], key, stored["type"]
        )
    except (KeyError, TypeError) as exc:
        raise DecryptionError("an encrypted document needs cipherText, iv, tag and type") from exc
    try:
        document: dict[str, Any] = json.loads(text)
    except ValueError as exc:
        raise DecryptionError("the decrypted text is not JSON") from exc
    return document

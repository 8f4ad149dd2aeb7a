"""Upload codes and upload tokens, as OpenTrace's getUploadToken and validateToken do them.

A health officer gives a confirmed case a 6-character upload code. The phone exchanges it for an
upload token, `base64(C || IV(16) || TAG(16))` of AES-256-GCM over the JSON
`{"uid": ..., "createdAt": <Date.now()/1000>, "upload": <code>}`, valid for 2 hours (exactly
2 hours is still valid). The list of issued codes is stored sealed the same way.
"""

from __future__ import annotations

import binascii
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smartnation.tracing.bluetrace.keyring import Keyring
from smartnation.tracing.bluetrace.tempid import IV_SIZE, TAG_SIZE, RandomBytes
from smartnation.tracing.errors import (
    InvalidUploadCode,
    InvalidUploadToken,
    UploadTokenExpired,
)
from smartnation.tracing.timestamps import epoch_ms, is_json_number, js_seconds

UPLOAD_CODE_LENGTH = 6
# No 0/O or 1/I: codes are read out over the phone.
UPLOAD_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_TOKEN_CHARS = 4096
MAX_STORED_CODES_CHARS = 16 * 1024 * 1024

TOKEN_EXPIRED_MESSAGE = "Upload token has expired."  # noqa: S105 (a message)
CODE_INVALID_MESSAGE = "Upload code is invalid."


@dataclass(frozen=True)
class UploadTokenPolicy:
    """How long tokens last; OpenTrace's default is 2 hours."""

    validity_seconds: float = 7200
    # Not in OpenTrace: a token dated in the future means a clock problem or a forgery attempt.
    max_future_skew_seconds: float = 300


@dataclass(frozen=True)
class UploadTokenClaims:
    """What a valid upload token vouches for."""

    uid: str
    upload_code: str
    created_at: int | float

    def as_dict(self) -> dict[str, Any]:
        """The `{uid, uploadCode}` object OpenTrace's validateToken returns."""
        return {"uid": self.uid, "uploadCode": self.upload_code}


def _js_length(text: str) -> int:
    # JavaScript's String.length counts UTF-16 code units.
    return len(text.encode("utf-16-le")) // 2


def seal(cipher: AESGCM, plaintext: bytes, *, random_bytes: RandomBytes = os.urandom) -> bytes:
    """`C || IV(16) || TAG(16)`: OpenTrace's CustomEncrypter.encryptAndEncode."""
    iv = random_bytes(IV_SIZE)
    if len(iv) != IV_SIZE:
        raise ValueError("random_bytes must return as many bytes as asked for")
    sealed = cipher.encrypt(iv, plaintext, None)
    return sealed[:-TAG_SIZE] + iv + sealed[-TAG_SIZE:]


def open_sealed(keyring: Keyring, data: bytes) -> bytes | None:
    """Open `C || IV(16) || TAG(16)` with any key of the ring, newest first; None if none does."""
    if len(data) < IV_SIZE + TAG_SIZE:
        return None
    body = len(data) - IV_SIZE - TAG_SIZE
    iv = data[body : body + IV_SIZE]
    sealed = data[:body] + data[body + IV_SIZE :]
    for cipher in keyring.ciphers:
        try:
            return cipher.decrypt(iv, sealed, None)
        except InvalidTag:
            continue
    return None


def _b64decode(text: str) -> bytes | None:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def _b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def _js_json(value: object) -> bytes:
    # JSON.stringify: no spaces, non-ASCII left as is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def generate_upload_code() -> str:
    """A new random 6-character upload code for a health officer to give a confirmed case."""
    return "".join(secrets.choice(UPLOAD_CODE_ALPHABET) for _ in range(UPLOAD_CODE_LENGTH))


def store_upload_codes(
    keyring: Keyring, codes: Iterable[str], *, random_bytes: RandomBytes = os.urandom
) -> str:
    """The sealed list of valid codes, as OpenTrace keeps it in `codes/uploadCode`."""
    listed = list(codes)
    if not all(isinstance(code, str) for code in listed):
        raise InvalidUploadCode("upload codes must be strings")
    sealed = seal(keyring.current_cipher, _js_json(listed), random_bytes=random_bytes)
    return _b64encode(sealed)


def retrieve_upload_codes(keyring: Keyring, stored: str) -> list[str]:
    """The list of valid codes from its sealed, stored form."""
    if not isinstance(stored, str) or len(stored) > MAX_STORED_CODES_CHARS:
        raise InvalidUploadCode("the stored upload codes are not a sealed code list")
    raw = _b64decode(stored)
    plain = None if raw is None else open_sealed(keyring, raw)
    if plain is None:
        raise InvalidUploadCode("no configured key opens the stored upload codes")
    try:
        codes = json.loads(plain)
    except (ValueError, RecursionError):
        codes = None
    if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
        raise InvalidUploadCode("the stored upload codes are not a list of strings")
    return codes


def issue_upload_token(
    keyring: Keyring,
    uid: str,
    upload_code: str,
    valid_codes: Iterable[str],
    *,
    now: datetime | None = None,
    random_bytes: RandomBytes = os.urandom,
) -> str:
    """Exchange an upload code for an upload token (getUploadToken), sealed with the current key.

    Raises `InvalidUploadCode` ("Invalid data: <code>") when the code is not among `valid_codes`.
    """
    if not isinstance(uid, str) or not uid:
        raise InvalidUploadToken("an upload token needs the uploader's uid")
    valid = False
    if isinstance(upload_code, str) and upload_code:
        encoded = upload_code.encode("utf-8")
        for code in valid_codes:
            if not isinstance(code, str):
                continue
            # Every comparison runs, in constant time, so timing does not reveal near misses.
            valid |= hmac.compare_digest(encoded, code.encode("utf-8"))
    if not valid:
        raise InvalidUploadCode(f"Invalid data: {upload_code}")
    payload = {"uid": uid, "createdAt": js_seconds(epoch_ms(now)), "upload": upload_code}
    return _b64encode(seal(keyring.current_cipher, _js_json(payload), random_bytes=random_bytes))


def validate_upload_token(
    keyring: Keyring,
    token: object,
    *,
    now: datetime | None = None,
    check_expiry: bool = True,
    policy: UploadTokenPolicy | None = None,
) -> UploadTokenClaims:
    """Open an upload token with any key and check its age and code (validateToken).

    Raises `UploadTokenExpired` ("Upload token has expired.") when older than the validity period,
    and `InvalidUploadToken` ("Upload code is invalid.") when its code is not 6 characters long;
    forged or garbled tokens raise `InvalidUploadToken` too.
    """
    rules = policy or UploadTokenPolicy()
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidUploadToken("the upload token is missing or not a short string")
    raw = _b64decode(token)
    plain = None if raw is None else open_sealed(keyring, raw)
    if plain is None:
        raise InvalidUploadToken("the upload token is not one this server issued")
    try:
        claims = json.loads(plain)
    except (ValueError, RecursionError):
        claims = None
    if not isinstance(claims, dict):
        raise InvalidUploadToken("the upload token does not hold a claims object")
    uid, created_at, upload = claims.get("uid"), claims.get("createdAt"), claims.get("upload")
    if not isinstance(uid, str) or not is_json_number(created_at) or not isinstance(upload, str):
        raise InvalidUploadToken("the upload token's claims are incomplete")
    created_at = cast(int | float, created_at)
    if check_expiry:
        age = epoch_ms(now) / 1000 - created_at
        if age > rules.validity_seconds:
            raise UploadTokenExpired(TOKEN_EXPIRED_MESSAGE)
        if age < -rules.max_future_skew_seconds:
            raise InvalidUploadToken("the upload token is dated in the future")
    if _js_length(upload) != UPLOAD_CODE_LENGTH:
        raise InvalidUploadToken(CODE_INVALID_MESSAGE)
    return UploadTokenClaims(uid, upload, created_at)

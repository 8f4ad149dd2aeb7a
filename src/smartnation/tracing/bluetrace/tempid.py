"""TempIDs, exactly as OpenTrace's getTempIDs seals and its upload processing opens them.

    plain(29) = base64decode(uid)[21 bytes] || int32BE(start) || int32BE(expiry)
    C, TAG    = AES-256-GCM(key, IV = 16 random bytes, plain), no associated data
    tempID    = base64(C(29) || IV(16) || TAG(16))      # 61 bytes, 84 characters

The 16-byte IV is what OpenTrace uses (GCM hashes IVs that are not 12 bytes long); keeping it
is what lets phones and servers of either implementation interoperate.
"""

from __future__ import annotations

import binascii
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smartnation.tracing.bluetrace.keyring import Keyring
from smartnation.tracing.errors import InvalidTempID, InvalidUid
from smartnation.tracing.timestamps import epoch_ms

UID_SIZE = 21
UID_CHARS = 28
TIME_SIZE = 4
PLAIN_SIZE = UID_SIZE + 2 * TIME_SIZE
IV_SIZE = 16
TAG_SIZE = 16
TEMPID_BYTES = PLAIN_SIZE + IV_SIZE + TAG_SIZE
TEMPID_CHARS = 84
INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1

RandomBytes = Callable[[int], bytes]

_UID_PATTERN = re.compile(r"[A-Za-z0-9+/]{28}")
_TIMES = struct.Struct(">ii")
# Module-level aliases: these run once per record in upload processing.
_a2b = binascii.a2b_base64
_b2a = binascii.b2a_base64
# uid bytes, start and expiry out of a plaintext in one C call.
_unpack_plain = struct.Struct(f">{UID_SIZE}sii").unpack
# Builds a named tuple without the Python-level __new__ frame it would otherwise cost.
_new_tuple = tuple.__new__


class TempIDContent(NamedTuple):
    """What a TempID says: whose it is and when it may be heard.

    A named tuple rather than a dataclass: upload processing builds one per distinct TempID
    and tuple construction is several times cheaper.
    """

    uid: str
    start_time: int
    expiry_time: int

    def as_dict(self) -> dict[str, Any]:
        """The `{uid, startTime, expiryTime}` object OpenTrace's decryptTempID returns."""
        return {"uid": self.uid, "startTime": self.start_time, "expiryTime": self.expiry_time}


@dataclass(frozen=True, slots=True)
class IssuedTempID:
    """One TempID handed to a phone, with the window it is valid in."""

    tempid: str
    start_time: int
    expiry_time: int

    def as_dict(self) -> dict[str, Any]:
        """The `{tempID, startTime, expiryTime}` entry of a getTempIDs response."""
        return {"tempID": self.tempid, "startTime": self.start_time, "expiryTime": self.expiry_time}


@dataclass(frozen=True)
class TempIDPolicy:
    """How TempIDs are issued; the defaults are OpenTrace's published configuration."""

    validity_seconds: int = 900  # 0.25 h
    refresh_seconds: int = 43_200  # 12 h
    batch_size: int = 100  # sufficient for 24 h and more
    early_start_seconds: int = 60  # the first TempID is valid a minute early, for clock skew


@dataclass(frozen=True)
class TempIDBatch:
    """A batch of TempIDs and when the phone should ask for the next one."""

    tempids: tuple[IssuedTempID, ...]
    refresh_time: int

    def as_response(self) -> dict[str, Any]:
        """The getTempIDs response: `{status, tempIDs: [{tempID, startTime, expiryTime}], ...}`."""
        return {
            "status": "SUCCESS",
            "tempIDs": [issued.as_dict() for issued in self.tempids],
            "refreshTime": self.refresh_time,
        }


def uid_bytes(uid: str) -> bytes:
    """The 21 bytes a uid stands for. Only 28-character standard base64 uids are accepted.

    OpenTrace's Node code silently mangles other strings (URL-safe letters, junk, truncation),
    producing TempIDs that decrypt to a different uid; refusing them is the safe reading.
    """
    if not isinstance(uid, str) or not _UID_PATTERN.fullmatch(uid):
        raise InvalidUid("a uid must be exactly 28 standard base64 characters (A-Z a-z 0-9 + /)")
    return binascii.a2b_base64(uid)


def _int32(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not INT32_MIN <= value <= INT32_MAX:
        raise InvalidTempID(f"{name} must be a whole number of seconds that fits in 32 bits")
    return value


def seal_tempid(
    cipher: AESGCM, uid: str, start: int, expiry: int, *, random_bytes: RandomBytes = os.urandom
) -> str:
    """Seal one TempID with one cipher; `random_bytes(16)` supplies the IV."""
    plain = uid_bytes(uid) + _TIMES.pack(_int32(start, "start"), _int32(expiry, "expiry"))
    iv = random_bytes(IV_SIZE)
    if len(iv) != IV_SIZE:
        raise ValueError("random_bytes must return as many bytes as asked for")
    sealed = cipher.encrypt(iv, plain, None)  # ciphertext || tag
    return binascii.b2a_base64(
        sealed[:PLAIN_SIZE] + iv + sealed[PLAIN_SIZE:], newline=False
    ).decode("ascii")


def generate_tempid(
    keyring: Keyring, uid: str, start: int, expiry: int, *, random_bytes: RandomBytes = os.urandom
) -> IssuedTempID:
    """One TempID for `uid`, valid from `start` to `expiry` (Unix seconds), current key."""
    tempid = seal_tempid(keyring.current_cipher, uid, start, expiry, random_bytes=random_bytes)
    return IssuedTempID(tempid, start, expiry)


def generate_tempids(
    keyring: Keyring,
    uid: str,
    *,
    now: datetime | None = None,
    policy: TempIDPolicy | None = None,
    count: int | None = None,
    random_bytes: RandomBytes = os.urandom,
) -> TempIDBatch:
    """A getTempIDs batch: TempID i is valid from `now + validity*i - 60` for `validity` seconds."""
    rules = policy or TempIDPolicy()
    size = rules.batch_size if count is None else count
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 10_000:
        raise InvalidTempID("a batch holds between 1 and 10000 TempIDs")
    uid_bytes(uid)  # refuse a bad uid before any work
    # moment().unix(): whole seconds, floored.
    now_s = epoch_ms(now) // 1000
    cipher = keyring.current_cipher
    issued = []
    for i in range(size):
        start = now_s + rules.validity_seconds * i - rules.early_start_seconds
        expiry = start + rules.validity_seconds
        issued.append(
            IssuedTempID(
                seal_tempid(cipher, uid, start, expiry, random_bytes=random_bytes), start, expiry
            )
        )
    return TempIDBatch(tuple(issued), now_s + rules.refresh_seconds)


def _split(tempid: object) -> tuple[bytes, bytes] | None:
    """(IV, ciphertext||tag) of a well-formed TempID string, or None."""
    if type(tempid) is not str or len(tempid) != TEMPID_CHARS:
        return None
    try:
        raw = _a2b(tempid, strict_mode=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return None
    if len(raw) != TEMPID_BYTES:
        return None
    return raw[PLAIN_SIZE : PLAIN_SIZE + IV_SIZE], raw[:PLAIN_SIZE] + raw[PLAIN_SIZE + IV_SIZE :]


def open_tempid(
    keyring: Keyring, tempid: object, uids: dict[bytes, str] | None = None
) -> TempIDContent | None:
    """What a TempID says, trying every key newest first; None when none opens it.

    The fast path for upload processing: no exception escapes for garbage, and the body is
    written out in one function because it runs once per distinct TempID of every upload.
    `uids`, when given, remembers the text of each uid seen: an upload hears the same few
    thousand people in tens of thousands of TempIDs, and a lookup is cheaper than encoding.
    """
    if type(tempid) is not str or len(tempid) != TEMPID_CHARS:
        return None
    try:
        raw = _a2b(tempid, strict_mode=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return None
    if len(raw) != TEMPID_BYTES:
        return None
    iv = raw[PLAIN_SIZE : PLAIN_SIZE + IV_SIZE]
    sealed = raw[:PLAIN_SIZE] + raw[PLAIN_SIZE + IV_SIZE :]
    for decrypt in keyring.decryptors:
        try:
            plain = decrypt(iv, sealed, None)
        except InvalidTag:
            continue
        uid_raw, start, expiry = _unpack_plain(plain)
        if uids is None:
            uid = _b2a(uid_raw, newline=False).decode("ascii")
        else:
            found = uids.get(uid_raw)
            if found is None:
                found = uids[uid_raw] = _b2a(uid_raw, newline=False).decode("ascii")
            uid = found
        return _new_tuple(TempIDContent, (uid, start, expiry))
    return None


def decrypt_tempid(keyring: Keyring, tempid: str) -> TempIDContent:
    """What a TempID says, trying every key newest first; `InvalidTempID` when none opens it."""
    content = open_tempid(keyring, tempid)
    if content is not None:
        return content
    if _split(tempid) is None:
        raise InvalidTempID(
            f"a TempID is {TEMPID_CHARS} characters of standard base64 ({TEMPID_BYTES} bytes)"
        )
    raise InvalidTempID("no configured key opens this TempID (wrong key, or altered)")

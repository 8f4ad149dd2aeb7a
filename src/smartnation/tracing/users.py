"""TraceTogether users: registration with a verified phone, device tokens, TempID batches."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
from smartnation.core.i18n import N_
from smartnation.core.validators import parse_nric, parse_phone
from smartnation.messaging import service as messaging
from smartnation.registry import service as registry
from smartnation.tracing.bluetrace import generate_tempids
from smartnation.tracing.common import OTP_TEMPLATE, secret_hash
from smartnation.tracing.limits import check_registration_rate
from smartnation.tracing.models import Registration, TracingUser
from smartnation.tracing.problems import DeviceNotAuthorised, library_errors
from smartnation.tracing.settings import current_keyring, get_tracing_settings

USER_KINDS = ("app", "token")
DEVICE_TOKEN_PREFIX = "tt_"  # noqa: S105 a prefix, not a secret


@dataclass(frozen=True)
class RegistrationStarted:
    registration_id: str
    expires_at: datetime
    phone: str


@dataclass(frozen=True)
class RegisteredUser:
    """A new user: the uid its TempIDs carry and the device token shown once."""

    user_id: int
    uid: str
    kind: str
    device_token: str


@dataclass(frozen=True)
class VerificationResult:
    """Either a registered user or the reason the code was refused (attempts still count)."""

    user: RegisteredUser | None = None
    problem: DomainError | None = None


def new_uid() -> str:
    """A BlueTrace uid: 21 random bytes, 28 base64 characters."""
    return base64.b64encode(os.urandom(21)).decode("ascii")


def start_registration(
    session: Session,
    *,
    nric: str,
    phone: str,
    kind: str = "app",
    token_serial: str | None = None,
    language: str = "en",
) -> RegistrationStarted:
    """Begin registering an app or token user: a one-time code is sent to the phone by SMS.

    `TooManyRequests` when this phone or NRIC/FIN was sent too many codes lately.
    """
    nric = parse_nric(nric)
    phone = parse_phone(phone, "phone", mobile_only=True)
    if kind not in USER_KINDS:
        raise InvalidInput(FieldProblem("kind", N_("Use app or token."), "unknown"))
    serial = (token_serial or "").strip() or None
    if kind == "token" and not serial:
        raise InvalidInput(
            FieldProblem("token_serial", N_("A token registration needs its serial."), "required")
        )
    if serial is not None and (len(serial) > 40 or not serial.isalnum()):
        raise InvalidInput(
            FieldProblem("token_serial", N_("A serial has up to 40 letters and digits."), "format")
        )
    check_registration_rate(session, phone=phone, nric=nric)
    resident = registry.find_resident(session, nric)
    if resident is None:
        raise InvalidInput(
            FieldProblem("nric", N_("This NRIC/FIN is not in the national registry."), "unknown")
        )
    settings = get_tracing_settings()
    code = f"{secrets.randbelow(1_000_000):06d}"
    public_id = secrets.token_urlsafe(16)
    registration = Registration(
        public_id=public_id,
        kind=kind,
        token_serial=serial,
        resident_id=resident.id,
        nric=nric,
        phone=phone,
        code_hash=secret_hash(public_id + code),
        attempts=0,
        expires_at=utcnow() + timedelta(minutes=settings.otp_minutes),
        created_at=utcnow(),
    )
    session.add(registration)
    session.flush()
    messaging.send(
        session,
        channel="sms",
        to=phone,
        template=OTP_TEMPLATE.name,
        variables={"code": code, "minutes": str(settings.otp_minutes)},
        idempotency_key=f"tracing-otp-{public_id}",
        language=language,
    )
    audit.record(
        session,
        "tracing.registration.started",
        subject_type="tracing_registration",
        subject_id=registration.id,
        details={"kind": kind, "resident_id": resident.id},
    )
    return RegistrationStarted(public_id, registration.expires_at, phone)


def verify_registration(session: Session, registration_id: str, code: str) -> VerificationResult:
    """Check the one-time code; on success the user exists and gets its uid and device token.

    A wrong code is returned as a problem rather than raised, so the attempt is counted when the
    transaction commits.
    """
    registration = session.scalar(
        select(Registration).where(Registration.public_id == registration_id).with_for_update()
    )
    if registration is None:
        raise NotFound(N_("No such registration."))
    if registration.verified_at is not None:
        raise Conflict(N_("This registration is already verified."))
    settings = get_tracing_settings()
    if registration.attempts >= settings.otp_attempts:
        raise TooManyRequests(N_("Too many wrong codes: start again."), retry_after=60)
    if registration.expires_at < utcnow():
        raise InvalidInput(
            FieldProblem("code", N_("The code has expired: start again."), "expired")
        )
    registration.attempts += 1
    given = (code or "").strip()
    if not hmac.compare_digest(secret_hash(registration_id + given), registration.code_hash):
        left = settings.otp_attempts - registration.attempts
        return VerificationResult(
            problem=InvalidInput(
                FieldProblem(
                    "code", N_("The code is not right."), "mismatch", {"attempts_left": left}
                )
            )
        )
    device_token = DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(32)
    user = TracingUser(
        uid=new_uid(),
        kind=registration.kind,
        token_serial=registration.token_serial,
        resident_id=registration.resident_id,
        nric=registration.nric,
        name=registry.get_resident_by_id(session, registration.resident_id).name,
        phone=registration.phone,
        device_token_hash=secret_hash(device_token),
        status="active",
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    registration.verified_at = utcnow()
    registration.user_id = user.id
    audit.record(
        session,
        "tracing.user.registered",
        subject_type="tracing_user",
        subject_id=user.id,
        details={"kind": user.kind, "resident_id": user.resident_id},
    )
    return VerificationResult(user=RegisteredUser(user.id, user.uid, user.kind, device_token))


def authenticate_device(session: Session, authorization: str | None) -> TracingUser:
    """The user whose device token is in `Authorization: Bearer tt_...`."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(DEVICE_TOKEN_PREFIX):
        raise DeviceNotAuthorised(N_("Send the device token as `Authorization: Bearer tt_...`."))
    user = session.scalar(
        select(TracingUser).where(TracingUser.device_token_hash == secret_hash(token))
    )
    if user is None or user.status != "active":
        raise DeviceNotAuthorised(N_("This device token is not valid."))
    return user


def get_user_by_uid(session: Session, uid: str) -> TracingUser | None:
    return session.scalar(select(TracingUser).where(TracingUser.uid == uid))


def issue_tempids(user: TracingUser, *, now: datetime | None = None) -> dict[str, Any]:
    """A getTempIDs batch in OpenTrace's response layout, sealed with the current key."""
    with library_errors("uid"):
        batch = generate_tempids(current_keyring().keyring, user.uid, now=now)
    return batch.as_response()

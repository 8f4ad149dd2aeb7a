"""Second factors: SMS OTP to one's own phone, TOTP authenticator apps, WebAuthn passkeys, and
Multi-User SMS 2FA (the OTP goes to a trusted person's phone, with that person's consent).

Face verification (LoA 3) is not offered; the provider refuses requests that need it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import pyotp
import webauthn
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session
from webauthn.helpers import bytes_to_base64url, options_to_json
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

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
from smartnation.core.i18n import N_, current_language
from smartnation.identity import sealing
from smartnation.identity.accounts import find_account
from smartnation.identity.models import Account, Factor, OtpChallenge
from smartnation.identity.storage import DatabaseReplayGuard
from smartnation.messaging import service as messaging
from smartnation.registry import service as registry

OTP_LIFETIME: Final = timedelta(minutes=5)
OTP_MAX_ATTEMPTS: Final = 5
OTP_SENDS_PER_WINDOW: Final = 5
OTP_SEND_WINDOW: Final = timedelta(minutes=15)
TOTP_ISSUER: Final = "smartnation"
# What each factor contributes to the ID token's amr (OpenID amr values SingPass uses).
AMR_OF_KIND: Final = {"sms": "otp-sms", "trusted_sms": "otp-sms", "totp": "swk", "webauthn": "hwk"}
KINDS: Final = ("sms", "trusted_sms", "totp", "webauthn")


class FactorRefused(DomainError):
    status = 401
    title = N_("That code did not work")
    code = "factor_refused"


@dataclass(frozen=True)
class SentOtp:
    challenge_id: int
    masked_phone: str


# ---- SMS delivery -----------------------------------------------------------------------
OTP_TEMPLATE: Final = messaging.register_template(
    messaging.NotificationTemplate(  # type: ignore[attr-defined]  # the class service takes
        name="identity.otp",
        texts={
            "en": "{code} is your smartnation one-time code. It expires in 5 minutes. "
            "Never share it.",
            "zh": "{code} 是您的 smartnation 一次性验证码，5 分钟内有效。请勿告诉任何人。",
            "ms": "{code} ialah kod sekali guna smartnation anda. Kod ini tamat dalam 5 minit. "
            "Jangan kongsikannya.",
            "ta": "{code} உங்கள் smartnation ஒருமுறைக் குறியீடு. இது 5 நிமிடங்களில் காலாவதியாகும். "
            "இதை யாருடனும் பகிர வேண்டாம்.",
        },
    )
)
TRUST_TEMPLATE: Final = messaging.register_template(
    messaging.NotificationTemplate(  # type: ignore[attr-defined]  # the class service takes
        name="identity.trusted_consent",
        texts={
            "en": "{code} is the code to agree to receive smartnation login codes for {name}. "
            "Give it to them only if you agree.",
            "zh": "{code} 是同意为 {name} 接收 smartnation 登录验证码的代码。"
            "只有在您同意时才交给对方。",
            "ms": "{code} ialah kod untuk bersetuju menerima kod log masuk smartnation bagi "
            "{name}. Berikan kod ini hanya jika anda bersetuju.",
            "ta": "{code} என்பது {name} அவர்களுக்கான smartnation உள்நுழைவுக் குறியீடுகளைப் பெற "
            "ஒப்புக்கொள்வதற்கான குறியீடு. நீங்கள் ஒப்புக்கொண்டால் மட்டுமே அதை அவர்களிடம் கொடுங்கள்.",
        },
    )
)


def send_otp_sms(
    session: Session, *, to: str, code: str, purpose: str, key: str, holder_name: str = ""
) -> None:
    """The one place an OTP leaves the platform: an SMS through the messaging domain (on a
    development site its local stand-in shows it at /dev/inbox). Never log the code."""
    if purpose == "trust":
        template, variables = TRUST_TEMPLATE.name, {"code": code, "name": holder_name}
    else:
        template, variables = OTP_TEMPLATE.name, {"code": code}
    messaging.send(
        session,
        channel="sms",
        to=to,
        template=template,
        variables=variables,
        language=current_language.get(),
        idempotency_key=key,
    )


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:]


def _otp_hash(challenge_salt: str, code: str) -> str:
    return hashlib.sha256(f"{challenge_salt}:{code}".encode()).hexdigest()


# ---- listing ----------------------------------------------------------------------------
def factors_of(session: Session, account: Account) -> list[Factor]:
    """The confirmed, unrevoked second factors of an account, oldest first."""
    return list(
        session.scalars(
            select(Factor)
            .where(
                Factor.account_id == account.id,
                Factor.revoked_at.is_(None),
                Factor.confirmed_at.is_not(None),
            )
            .order_by(Factor.id)
        )
    )


def _usable(factor: Factor | None, account: Account) -> bool:
    return (
        factor is not None
        and factor.account_id == account.id
        and factor.revoked_at is None
        and factor.confirmed_at is not None
    )


NOT_SET_UP: Final = N_("This second factor is not set up on your account.")


def get_factor(session: Session, account: Account, factor_id: int) -> Factor:
    factor = session.get(Factor, factor_id)
    if not _usable(factor, account):
        raise NotFound(NOT_SET_UP)
    assert factor is not None
    return factor


# The login pages know only the account id (from the signed login state): each page reads the
# account with what it needs of its factors in one statement. Built once, with parameters.
_ACCOUNT_WITH_FACTORS: Final = (
    select(Account, Factor)
    .outerjoin(
        Factor,
        and_(
            Factor.account_id == Account.id,
            Factor.revoked_at.is_(None),
            Factor.confirmed_at.is_not(None),
        ),
    )
    .where(Account.id == bindparam("account_id"))
    .order_by(Factor.id)
)
_ACCOUNT_AND_FACTOR: Final = (
    select(Account, Factor)
    .outerjoin(Factor, and_(Factor.account_id == Account.id, Factor.id == bindparam("factor_id")))
    .where(Account.id == bindparam("account_id"))
)


def account_with_factors(session: Session, account_id: int) -> tuple[Account, list[Factor]] | None:
    """An account and its usable factors (as :func:`factors_of`), or None if no such account."""
    rows = session.execute(_ACCOUNT_WITH_FACTORS, {"account_id": account_id}).all()
    if not rows:
        return None
    return rows[0][0], [factor for _, factor in rows if factor is not None]


def account_and_factor(
    session: Session, account_id: int, factor_id: int
) -> tuple[Account, Factor | None] | None:
    """An account and one of its usable factors (None if that factor is not usable, as
    :func:`get_factor` refuses it), or None if no such account."""
    row = session.execute(
        _ACCOUNT_AND_FACTOR, {"account_id": account_id, "factor_id": factor_id}
    ).first()
    if row is None:
        return None
    account, factor = row
    return account, factor if _usable(factor, account) else None


def _add_factor(session: Session, account: Account, kind: str, **fields: Any) -> Factor:
    factor = Factor(account_id=account.id, kind=kind, **fields)
    factor.created_at = utcnow()
    factor.confirmed_at = fields.get("confirmed_at", utcnow())
    session.add(factor)
    session.flush()
    audit.record(
        session,
        "identity.factor.added",
        subject_type="identity_account",
        subject_id=account.id,
        details={"factor_id": factor.id, "kind": kind},
    )
    return factor


def remove_factor(session: Session, account: Account, factor_id: int) -> None:
    """Revoke a factor. A trusted-person link removed this way is audited as an unlink."""
    factor = get_factor(session, account, factor_id)
    factor.revoked_at = utcnow()
    session.flush()
    action = (
        "identity.trusted_person.unlinked"
        if factor.kind == "trusted_sms"
        else ("identity.factor.removed")
    )
    audit.record(
        session,
        action,
        subject_type="identity_account",
        subject_id=account.id,
        details={
            "factor_id": factor.id,
            "kind": factor.kind,
            "trusted_account_id": factor.trusted_account_id,
        },
    )


# ---- SMS OTP (own phone or trusted person's) ---------------------------------------------
def add_sms_factor(session: Session, account: Account, phone: str) -> Factor:
    return _add_factor(session, account, "sms", phone=phone, label=mask_phone(phone))


def send_otp(session: Session, account: Account, factor: Factor, purpose: str) -> SentOtp:
    """Send a 6-digit code to the factor's phone (own or trusted person's), rate limited."""
    if factor.kind not in ("sms", "trusted_sms") or not factor.phone:
        raise InvalidInput(FieldProblem("factor", N_("This factor does not use SMS."), "kind"))
    return _send_code(session, account, factor.phone, purpose, factor.id)


def _send_code(
    session: Session, account: Account, phone: str, purpose: str, factor_id: int | None
) -> SentOtp:
    since = utcnow() - OTP_SEND_WINDOW
    recent = session.scalar(
        select(func.count())
        .select_from(OtpChallenge)
        .where(OtpChallenge.account_id == account.id, OtpChallenge.created_at >= since)
    )
    if (recent or 0) >= OTP_SENDS_PER_WINDOW:
        raise TooManyRequests(
            N_("Too many codes were sent. Wait 15 minutes before asking for another."),
            retry_after=int(OTP_SEND_WINDOW.total_seconds()),
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    salt = secrets.token_hex(8)
    challenge = OtpChallenge(
        account_id=account.id,
        factor_id=factor_id,
        purpose=purpose,
        code_hash=salt + "$" + _otp_hash(salt, code),
        phone=phone,
        attempts=0,
        created_at=utcnow(),
        expires_at=utcnow() + OTP_LIFETIME,
    )
    session.add(challenge)
    session.flush()
    holder = (
        registry.get_resident_by_id(session, account.resident_id).name if purpose == "trust" else ""
    )
    send_otp_sms(
        session,
        to=phone,
        code=code,
        purpose=purpose,
        key=f"identity-otp-{challenge.id}",
        holder_name=holder,
    )
    audit.record(
        session,
        "identity.otp.sent",
        subject_type="identity_account",
        subject_id=account.id,
        details={"challenge_id": challenge.id, "purpose": purpose, "to": mask_phone(phone)},
    )
    return SentOtp(challenge.id, mask_phone(phone))


def verify_otp(
    session: Session, account: Account, challenge_id: int, code: str, purpose: str
) -> OtpChallenge:
    """Check a code; each challenge allows 5 tries and one success, within 5 minutes."""
    challenge = session.get(OtpChallenge, challenge_id)
    refused = FactorRefused(N_("The code is not right or has expired. Ask for a new code."))
    if (
        challenge is None
        or challenge.account_id != account.id
        or challenge.purpose != purpose
        or challenge.used_at is not None
        or challenge.expires_at < utcnow()
        or challenge.attempts >= OTP_MAX_ATTEMPTS
    ):
        raise refused
    challenge.attempts += 1
    salt, _, expected = challenge.code_hash.partition("$")
    cleaned = (code or "").strip()
    if not hmac.compare_digest(expected, _otp_hash(salt, cleaned[:12])):
        session.flush()
        raise refused
    challenge.used_at = utcnow()
    if challenge.factor_id is not None:
        factor = session.get(Factor, challenge.factor_id)
        if factor is not None:
            factor.last_used_at = utcnow()
    session.flush()
    return challenge


# ---- Multi-User SMS 2FA: a trusted person's phone ----------------------------------------
def request_trusted_person(session: Session, account: Account, trusted_nric: str) -> SentOtp:
    """Step 1 of linking a trusted person: a consent code goes to their registered phone.
    Entering that code (step 2) records their consent."""
    trusted = find_account(session, trusted_nric)
    if trusted is None or trusted.id == account.id:
        raise InvalidInput(
            FieldProblem(
                "trusted_nric",
                N_("The trusted person must be someone else with an account."),
                "invalid",
            )
        )
    phone = registry.get_resident_by_id(session, trusted.resident_id).mobile
    if not phone:
        raise InvalidInput(
            FieldProblem(
                "trusted_nric", N_("The trusted person has no mobile number on record."), "no_phone"
            )
        )
    return _send_code(session, account, phone, "trust", None)


def confirm_trusted_person(
    session: Session, account: Account, trusted_nric: str, challenge_id: int, code: str
) -> Factor:
    """Step 2: the code the trusted person received proves they agree; the link is made."""
    trusted = find_account(session, trusted_nric)
    if trusted is None:
        raise NotFound(N_("No such account."))
    challenge = verify_otp(session, account, challenge_id, code, "trust")
    return link_trusted_person(session, account, trusted, challenge.phone, via="sms_consent")


def link_trusted_person(
    session: Session, account: Account, trusted: Account, phone: str, *, via: str
) -> Factor:
    """Record the link (and the trusted person's consent, and how it was given)."""
    existing = session.scalar(
        select(Factor).where(
            Factor.account_id == account.id,
            Factor.kind == "trusted_sms",
            Factor.trusted_account_id == trusted.id,
            Factor.revoked_at.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(N_("This trusted person is already linked."))
    resident = registry.get_resident_by_id(session, trusted.resident_id)
    factor = Factor(
        account_id=account.id,
        kind="trusted_sms",
        phone=phone,
        label=f"{resident.name} ({mask_phone(phone)})",
        trusted_account_id=trusted.id,
        trusted_consent_at=utcnow(),
        confirmed_at=utcnow(),
        created_at=utcnow(),
    )
    session.add(factor)
    session.flush()
    audit.record(
        session,
        "identity.trusted_person.linked",
        subject_type="identity_account",
        subject_id=account.id,
        details={"factor_id": factor.id, "trusted_account_id": trusted.id, "consent": via},
    )
    audit.record(
        session,
        "identity.trusted_person.consented",
        subject_type="identity_account",
        subject_id=trusted.id,
        details={"for_account_id": account.id, "consent": via},
    )
    return factor


# ---- TOTP ---------------------------------------------------------------------------------
def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.nric, issuer_name=TOTP_ISSUER)


def add_totp_factor(
    session: Session, account: Account, secret: str, code: str, label: str = "Authenticator app"
) -> Factor:
    """Confirm an authenticator app by one of its codes, then keep its secret."""
    if not pyotp.TOTP(secret).verify((code or "").strip(), valid_window=1):
        raise InvalidInput(
            FieldProblem("code", N_("The code does not match. Check the time on your phone."))
        )
    sealed = sealing.seal(secret, account.id)
    return _add_factor(session, account, "totp", totp_secret=sealed, label=label)


def totp_secret_of(factor: Factor) -> str:
    """The authenticator key of a TOTP factor, unsealed (it is stored encrypted)."""
    if factor.kind != "totp" or not factor.totp_secret:
        raise sealing.SealedSecretInvalid("not an authenticator app")
    return sealing.unseal(factor.totp_secret, factor.account_id)


def verify_totp(session: Session, account: Account, factor: Factor, code: str) -> None:
    """A TOTP code from the factor's app; each time step is accepted once (replay refused)."""
    refused = FactorRefused(N_("The code is not right. Enter the code your app shows now."))
    if factor.kind != "totp" or not factor.totp_secret or factor.account_id != account.id:
        raise refused
    cleaned = (code or "").strip()
    try:
        totp = pyotp.TOTP(sealing.unseal(factor.totp_secret, account.id))
    except sealing.SealedSecretInvalid:
        raise refused from None
    now = utcnow()
    for offset in (0, -1, 1):
        moment = now + timedelta(seconds=30 * offset)
        if hmac.compare_digest(totp.at(moment), cleaned):
            step = totp.timecode(moment)
            guard = DatabaseReplayGuard(session)
            if not guard.first_use("totp", f"{factor.id}:{step}", now + timedelta(minutes=2)):
                raise refused
            factor.last_used_at = now  # written with the rest of the request
            return
    raise refused


# ---- WebAuthn passkeys ----------------------------------------------------------------------
@dataclass(frozen=True)
class RelyingParty:
    rp_id: str
    origin: str
    name: str = "smartnation"

    @classmethod
    def for_base_url(cls, base_url: str) -> RelyingParty:
        parts = urlsplit(base_url)
        return cls(rp_id=parts.hostname or "localhost", origin=f"{parts.scheme}://{parts.netloc}")


def passkey_registration_options(
    session: Session, account: Account, rp: RelyingParty
) -> tuple[str, bytes]:
    """Options JSON for navigator.credentials.create, and the challenge to keep."""
    existing = [
        PublicKeyCredentialDescriptor(id=f.credential_id)
        for f in factors_of(session, account)
        if f.kind == "webauthn" and f.credential_id
    ]
    options = webauthn.generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_name=account.nric,
        user_id=account.sub.bytes,
        user_display_name=account.nric,
        exclude_credentials=existing,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    return options_to_json(options), options.challenge


def add_passkey(
    session: Session,
    account: Account,
    rp: RelyingParty,
    credential_json: str,
    challenge: bytes,
    label: str = "Passkey",
) -> Factor:
    """Verify a registration response (attestation 'none' accepted) and keep the public key."""
    try:
        verified = webauthn.verify_registration_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
        raise InvalidInput(
            FieldProblem("credential", N_("The passkey could not be registered."), "invalid")
        ) from error
    taken = session.scalar(select(Factor).where(Factor.credential_id == verified.credential_id))
    if taken is not None:
        raise Conflict(N_("This passkey is already registered."))
    return _add_factor(
        session,
        account,
        "webauthn",
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        label=label,
    )


def passkey_authentication_options(
    session: Session, account: Account, rp: RelyingParty
) -> tuple[str, bytes]:
    """Options JSON for navigator.credentials.get, limited to the account's passkeys."""
    allowed = [
        PublicKeyCredentialDescriptor(id=f.credential_id)
        for f in factors_of(session, account)
        if f.kind == "webauthn" and f.credential_id
    ]
    if not allowed:
        raise NotFound(N_("No passkey is set up on this account."))
    options = webauthn.generate_authentication_options(
        rp_id=rp.rp_id,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json(options), options.challenge


def verify_passkey(
    session: Session, account: Account, rp: RelyingParty, credential_json: str, challenge: bytes
) -> Factor:
    """Verify an assertion against the stored public key and signature counter."""
    refused = FactorRefused(N_("The passkey could not be checked. Try again."))
    try:
        raw_id = webauthn.base64url_to_bytes(_credential_id_of(credential_json))
    except (ValueError, TypeError):
        raise refused from None
    factor = session.scalar(
        select(Factor).where(
            Factor.credential_id == raw_id,
            Factor.account_id == account.id,
            Factor.revoked_at.is_(None),
        )
    )
    if factor is None or factor.public_key is None:
        raise refused
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential_json,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=rp.origin,
            credential_public_key=factor.public_key,
            credential_current_sign_count=factor.sign_count,
        )
    except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
        raise refused from error
    factor.sign_count = verified.new_sign_count
    factor.last_used_at = utcnow()
    session.flush()
    return factor


def _credential_id_of(credential_json: str) -> str:
    data = json.loads(credential_json)
    if not isinstance(data, dict) or not isinstance(data.get("rawId", data.get("id")), str):
        raise ValueError("credential has no id")
    return str(data.get("rawId") or data["id"])


def credential_id_b64(factor: Factor) -> str:
    return bytes_to_base64url(factor.credential_id or b"")


def ensure_sms_factor(session: Session, account: Account) -> Factor | None:
    """The resident's registered mobile as their SMS factor (SingPass uses the number on
    record), unless it is already set up. None when the registry has no mobile."""
    phone = registry.get_resident_by_id(session, account.resident_id).mobile
    if not phone:
        return None
    for factor in factors_of(session, account):
        if factor.kind == "sms" and factor.phone == phone:
            return factor
    return add_sms_factor(session, account, phone)

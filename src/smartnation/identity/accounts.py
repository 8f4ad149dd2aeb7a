"""Accounts: activation by letter, Argon2id passwords, failed-attempt limits and lockout,
password reset through a second factor.

Lockout stops password guessing; it never stops the holder from recovering: a password reset
proves possession of a second factor instead, and clears the lock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import (
    DomainError,
    FieldProblem,
    InvalidInput,
    NotFound,
    TooManyRequests,
)
from smartnation.core.i18n import N_
from smartnation.core.validators import parse_nric
from smartnation.identity import passwords, throttle
from smartnation.identity.models import Account
from smartnation.registry import service as registry

MIN_PASSWORD_LENGTH: Final = 10
MAX_PASSWORD_LENGTH: Final = 128
MAX_FAILED_LOGINS: Final = 5
LOCKOUT: Final = timedelta(minutes=15)
ACTIVATION_LIFETIME: Final = timedelta(days=30)
# Letters without look-alikes (no 0/O, 1/I/L), as a person types them from paper.
_CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
# A hash to verify against when the NRIC has no account, so both cases take the same time.
_DUMMY_HASH: Final = passwords.hash_password(secrets.token_urlsafe(16))


class LoginRefused(DomainError):
    status = 401
    title = N_("We could not log you in")
    code = "login_refused"


class AccountLocked(TooManyRequests):
    title = N_("Too many attempts")


@dataclass(frozen=True)
class ActivationLetter:
    """What the letter posted to a resident says."""

    nric: str
    name: str
    code: str
    expires_at_iso: str


def _hash_code(code: str) -> str:
    normalised = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode()).hexdigest()


def new_activation_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def find_account(session: Session, nric: str) -> Account | None:
    """The account of an NRIC/FIN, or None."""
    return session.scalar(select(Account).where(Account.nric == parse_nric(nric)))


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(N_("No such account."))
    return account


def issue_activation_letter(session: Session, nric: str) -> ActivationLetter:
    """Create the account of a registry resident (if needed) with a new one-time activation
    code, and return the letter to post. A new letter replaces the previous code."""
    resident = registry.get_resident(session, nric)
    account = find_account(session, resident.nric)
    if account is None:
        account = Account(resident_id=resident.id, nric=resident.nric, status="pending")
        account.created_at = utcnow()
        session.add(account)
    code = new_activation_code()
    account.activation_code_hash = _hash_code(code)
    account.activation_expires_at = utcnow() + ACTIVATION_LIFETIME
    session.flush()
    audit.record(
        session,
        "identity.activation_letter.issued",
        subject_type="identity_account",
        subject_id=account.id,
        details={"expires_at": account.activation_expires_at.isoformat()},
    )
    return ActivationLetter(
        resident.nric, resident.name, code, account.activation_expires_at.isoformat()
    )


def check_password_rules(password: str, nric: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(FieldProblem(field, N_("Use at least 10 characters."), "too_short"))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(FieldProblem(field, N_("Use at most 128 characters."), "too_long"))
    if nric[1:8] in password or nric.lower() in password.lower():
        raise InvalidInput(
            FieldProblem(field, N_("Do not put your NRIC or FIN in your password."), "weak")
        )


def activate(session: Session, nric: str, code: str, password: str) -> Account:
    """Activate an account with the letter's code and choose a password. The resident's
    registered mobile, if any, becomes their SMS second factor."""
    account = find_account(session, nric)
    bad_code = InvalidInput(
        FieldProblem("code", N_("This activation code is not right or has expired."), "invalid")
    )
    if account is None or account.activation_code_hash is None:
        raise bad_code
    expires = account.activation_expires_at
    if expires is None or expires < utcnow():
        raise bad_code
    if not hmac.compare_digest(account.activation_code_hash, _hash_code(code or "")[:64]):
        _count_failure(session, account, "activation")
        raise bad_code
    check_password_rules(password, account.nric)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()
    account.activation_code_hash = None
    account.activation_expires_at = None
    account.status = "active"
    account.activated_at = utcnow()
    account.failed_logins = 0
    account.locked_until = None
    session.flush()
    audit.record(
        session,
        "identity.account.activated",
        subject_type="identity_account",
        subject_id=account.id,
    )
    return account


def _count_failure(session: Session, account: Account, what: str) -> None:
    account.failed_logins += 1
    if account.failed_logins >= MAX_FAILED_LOGINS:
        account.locked_until = utcnow() + LOCKOUT
        audit.record(
            session,
            "identity.account.locked",
            subject_type="identity_account",
            subject_id=account.id,
            details={"after": what, "failed": account.failed_logins},
        )
    session.flush()


def check_not_locked(account: Account) -> None:
    if account.locked_until is not None and account.locked_until > utcnow():
        seconds = int((account.locked_until - utcnow()).total_seconds()) + 1
        raise AccountLocked(
            N_(
                "Too many wrong passwords. Wait 15 minutes, or reset your password with your "
                "second factor now."
            ),
            retry_after=seconds,
        )


def verify_password(
    session: Session, nric: str, password: str, *, source: str | None = None
) -> Account:
    """The first factor. Raises LoginRefused (same message whatever was wrong), AccountLocked
    after too many failures on the account, or SourceThrottled after too many from `source`
    (the network address the attempt came from, when known)."""
    throttle.check_source(session, source)
    try:
        return _first_factor(session, nric, password)
    except LoginRefused:
        throttle.count_failure(session, source)
        raise


def _first_factor(session: Session, nric: str, password: str) -> Account:
    refused = LoginRefused(N_("The NRIC/FIN or password is not right."))
    try:
        account = find_account(session, nric)
    except InvalidInput:
        raise refused from None
    if account is None or account.password_hash is None or account.status != "active":
        _burn(password)
        raise refused
    check_not_locked(account)
    if not passwords.password_matches(account.password_hash, password[:MAX_PASSWORD_LENGTH]):
        _count_failure(session, account, "password")
        raise refused
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    session.flush()
    return account


def _burn(password: str) -> None:
    """Spend the time a real verification takes, so unknown NRICs do not answer faster."""
    passwords.password_matches(_DUMMY_HASH, password[:MAX_PASSWORD_LENGTH] or "x")


def record_login(session: Session, account: Account, amr: list[str], client_id: str) -> None:
    """A completed login (both factors): clears failures and audits."""
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = utcnow()
    # No flush of its own: written with the audit record and the rest at the request's commit.
    audit.record(
        session,
        "identity.login.succeeded",
        subject_type="identity_account",
        subject_id=account.id,
        actor=f"person:{account.nric}",
        details={"amr": amr, "client_id": client_id},
    )


def reset_password(session: Session, account: Account, password: str) -> None:
    """Set a new password once the holder has proved a second factor; clears any lockout."""
    check_password_rules(password, account.nric)
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()
    account.failed_logins = 0
    account.locked_until = None
    if account.status == "pending":
        account.status = "active"
        account.activated_at = utcnow()
    session.flush()
    audit.record(
        session,
        "identity.password.reset",
        subject_type="identity_account",
        subject_id=account.id,
        actor=f"person:{account.nric}",
    )


def set_password_directly(session: Session, account: Account, password: str) -> None:
    """For demo data and tests: an active account with this password."""
    account.password_hash = passwords.hash_password(password)
    account.password_changed_at = utcnow()
    account.status = "active"
    account.activated_at = utcnow()
    account.activation_code_hash = None
    session.flush()

"""What the identity domain offers the rest of the platform. The only module other domains
import; the work is done in modules split by concept:

* :mod:`.accounts`: activation letters, Argon2id passwords, lockout, password reset;
* :mod:`.factors`: SMS OTP, TOTP, WebAuthn passkeys, Multi-User SMS 2FA (trusted person);
* :mod:`.clients`: relying parties; :mod:`.consents` and :mod:`.myinfo`: MyInfo sharing;
* :mod:`.roles`: officers' roles; :mod:`.provider`: the OpenID provider's endpoints;
* :mod:`.storage`: replay guard, key ring and the purge of expired state.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartnation.identity.accounts import (
    ActivationLetter,
    activate,
    find_account,
    issue_activation_letter,
    reset_password,
    verify_password,
)
from smartnation.identity.clients import list_clients, register_client
from smartnation.identity.consents import consents_of, grant_consent, revoke_consent
from smartnation.identity.factors import send_otp_sms
from smartnation.identity.models import Account
from smartnation.identity.roles import ROLES, grant_role, list_grants, revoke_role, roles_of
from smartnation.identity.storage import purge_expired, rotate_keys

__all__ = [
    "ROLES",
    "ActivationLetter",
    "PersonSummary",
    "activate",
    "consents_of",
    "find_account",
    "grant_consent",
    "grant_role",
    "issue_activation_letter",
    "list_clients",
    "list_grants",
    "person_summary",
    "purge_expired",
    "register_client",
    "reset_password",
    "revoke_consent",
    "revoke_role",
    "roles_of",
    "rotate_keys",
    "send_otp_sms",
    "verify_password",
]


@dataclass(frozen=True)
class PersonSummary:
    """What another domain may know about a logged-in person's account."""

    nric: str
    sub: str
    active: bool
    roles: frozenset[str]


def person_summary(session: Session, nric: str) -> PersonSummary | None:
    """The account of an NRIC/FIN (its stable ``sub`` and roles), or None if none exists."""
    account: Account | None = find_account(session, nric)
    if account is None:
        return None
    return PersonSummary(
        nric=account.nric,
        sub=str(account.sub),
        active=account.status == "active",
        roles=roles_of(session, account.id),
    )

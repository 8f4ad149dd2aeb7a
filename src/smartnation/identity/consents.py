"""Consents: a person agrees to share listed MyInfo items with one service for one purpose.

Nothing from MyInfo leaves before consent; a revoked consent stops userinfo at once and
revokes the access tokens issued under it.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import NotFound
from smartnation.core.i18n import N_
from smartnation.identity.models import AccessToken, Account, Client, Consent
from smartnation.identity.oidc.params import MYINFO_SCOPES

# Scopes that only shape the login itself and need no MyInfo consent.
NO_CONSENT_SCOPES: Final = frozenset({"openid", "user.identity"})


def myinfo_items(scopes: list[str] | tuple[str, ...]) -> list[str]:
    """The MyInfo data items a request asks for, in the order asked."""
    return [s for s in scopes if s in MYINFO_SCOPES and s not in NO_CONSENT_SCOPES]


def grant_consent(session: Session, account: Account, client: Client, items: list[str]) -> Consent:
    """Record consent to share ``items`` with ``client`` for its registered purpose."""
    consent = Consent(
        account_id=account.id,
        client_id=client.client_id,
        purpose=client.purpose or client.name,
        items=list(items),
        granted_at=utcnow(),
    )
    session.add(consent)
    session.flush()
    audit.record(
        session,
        "identity.consent.granted",
        subject_type="identity_account",
        subject_id=account.id,
        actor=f"person:{account.nric}",
        details={"consent_id": consent.id, "client_id": client.client_id, "items": items},
    )
    return consent


def consents_of(session: Session, account: Account) -> list[tuple[Consent, str]]:
    """The person's active consents, newest first, with each service's name."""
    rows = session.execute(
        select(Consent, Client.name)
        .join(Client, Client.client_id == Consent.client_id)
        .where(Consent.account_id == account.id, Consent.revoked_at.is_(None))
        .order_by(Consent.granted_at.desc(), Consent.id.desc())
    )
    return [(consent, name) for consent, name in rows]


def active_consent(session: Session, consent_id: int | None) -> Consent | None:
    if consent_id is None:
        return None
    consent = session.get(Consent, consent_id)
    return consent if consent is not None and consent.revoked_at is None else None


def revoke_consent(session: Session, account: Account, consent_id: int) -> None:
    """Withdraw a consent: the service can no longer fetch the data."""
    consent = session.get(Consent, consent_id)
    if consent is None or consent.account_id != account.id or consent.revoked_at is not None:
        raise NotFound(N_("This consent is not active."))
    consent.revoked_at = utcnow()
    session.execute(delete(AccessToken).where(AccessToken.consent_id == consent.id))
    session.flush()
    audit.record(
        session,
        "identity.consent.revoked",
        subject_type="identity_account",
        subject_id=account.id,
        actor=f"person:{account.nric}",
        details={"consent_id": consent.id, "client_id": consent.client_id},
    )

"""Officers and roles: public officers are residents granted roles per agency and domain.

Every grant and revocation is audited; a person's active roles go into their session principal
when they log in to the platform's own pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import N_
from smartnation.identity.accounts import find_account
from smartnation.identity.models import Account, RoleGrant

# The roles the platform's domains check, with what they allow.
ROLES: Final = {
    "platform.admin": N_("Platform administrator: every page, role grants"),
    "identity.officer": N_("Registers relying parties (services that use the national login)"),
    "registry.read": N_("Looks up residents and businesses in the registry"),
    "registry.write": N_("Registers and corrects registry records"),
    "health.officer": N_("Health officer"),
    "vaccination.staff": N_("Vaccination centre staff"),
    "community.staff": N_("Community centre staff"),
    "messaging.officer": N_("Drafts broadcast messages and campaigns"),
    "messaging.approver": N_("Approves broadcast messages"),
    "safeentry.admin": N_("Manages SafeEntry venues"),
    "safeentry.staff": N_("Checks people in at SafeEntry venues"),
    "safeentry.gateway": N_("Operates a SafeEntry gateway (check-in kiosk or scanner)"),
    "healthcerts.notarise": N_("Notarises health certificates"),
    "healthcerts.admin": N_("Administers health certificate issuers"),
}
AGENCIES: Final = ("GovTech", "MOH", "HPB", "ICA", "PA", "MCI", "MOM", "CPFB", "IRAS", "HDB")


@dataclass(frozen=True)
class GrantView:
    id: int
    nric: str
    role: str
    agency: str
    granted_by: str
    granted_at: str


def _account(session: Session, nric: str) -> Account:
    account = find_account(session, nric)
    if account is None:
        raise InvalidInput(
            FieldProblem("nric", N_("This person has no account yet."), "no_account")
        )
    return account


def grant_role(
    session: Session, nric: str, role: str, agency: str, *, granted_by: str
) -> RoleGrant:
    """Give a resident a role for an agency (audited)."""
    if role not in ROLES:
        raise InvalidInput(FieldProblem("role", N_("Unknown role."), "unknown_role"))
    if agency not in AGENCIES:
        raise InvalidInput(FieldProblem("agency", N_("Unknown agency."), "unknown_agency"))
    account = _account(session, nric)
    existing = session.scalar(
        select(RoleGrant).where(
            RoleGrant.account_id == account.id,
            RoleGrant.role == role,
            RoleGrant.agency == agency,
            RoleGrant.revoked_at.is_(None),
        )
    )
    if existing is not None:
        raise Conflict(N_("This person already holds this role for this agency."))
    grant = RoleGrant(
        account_id=account.id, role=role, agency=agency, granted_by=granted_by, granted_at=utcnow()
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        "identity.role.granted",
        subject_type="identity_account",
        subject_id=account.id,
        details={"grant_id": grant.id, "role": role, "agency": agency},
    )
    return grant


def revoke_role(session: Session, nric: str, role: str, agency: str) -> None:
    """Take a role away (audited)."""
    account = _account(session, nric)
    grant = session.scalar(
        select(RoleGrant).where(
            RoleGrant.account_id == account.id,
            RoleGrant.role == role,
            RoleGrant.agency == agency,
            RoleGrant.revoked_at.is_(None),
        )
    )
    if grant is None:
        raise NotFound(N_("This person does not hold this role for this agency."))
    grant.revoked_at = utcnow()
    session.flush()
    audit.record(
        session,
        "identity.role.revoked",
        subject_type="identity_account",
        subject_id=account.id,
        details={"grant_id": grant.id, "role": role, "agency": agency},
    )


def roles_of(session: Session, account_id: int) -> frozenset[str]:
    """A person's active roles (any agency)."""
    return frozenset(
        session.scalars(
            select(RoleGrant.role).where(
                RoleGrant.account_id == account_id, RoleGrant.revoked_at.is_(None)
            )
        )
    )


def list_grants(session: Session) -> list[GrantView]:
    """Every active grant, by person then role."""
    rows = session.execute(
        select(RoleGrant, Account.nric)
        .join(Account, Account.id == RoleGrant.account_id)
        .where(RoleGrant.revoked_at.is_(None))
        .order_by(Account.nric, RoleGrant.role)
    )
    return [
        GrantView(g.id, nric, g.role, g.agency, g.granted_by, g.granted_at.isoformat())
        for g, nric in rows
    ]

"""What the registry does: look people and businesses up, register and correct records.

The only module other domains import from the registry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import Conflict, FieldProblem, InvalidInput, NotFound
from smartnation.core.validators import parse_nric, parse_phone, parse_postal_code, parse_uen
from smartnation.registry import codes
from smartnation.registry.models import Address, Business, BusinessOfficer, Resident


@dataclass(frozen=True)
class NewResident:
    """What is needed to register a person."""

    nric: str
    name: str
    sex: str
    date_of_birth: date
    race: str
    nationality: str
    residential_status: str
    postal_code: str | None = None
    floor: str | None = None
    unit: str | None = None
    mobile: str | None = None
    email: str | None = None
    marital_status: str = "1"
    housing_type: str = "114"
    birth_country: str | None = None


def _check_code(value: str, table: dict[str, str], field: str) -> str:
    if value not in table:
        allowed = ", ".join(sorted(table))
        raise InvalidInput(FieldProblem(field, f"Use one of: {allowed}.", "unknown_code"))
    return value


def get_resident(session: Session, nric: str) -> Resident:
    """A resident by NRIC/FIN, with their address loaded."""
    nric = parse_nric(nric)
    # One query: the resident and their building (a many-to-one join), not a second round trip.
    resident = session.scalar(
        select(Resident).options(joinedload(Resident.address)).where(Resident.nric == nric)
    )
    if resident is None:
        raise NotFound(f"No resident has the NRIC/FIN {nric}.")
    return resident


def find_resident(session: Session, nric: str) -> Resident | None:
    """A resident by NRIC/FIN, or None."""
    return session.scalar(select(Resident).where(Resident.nric == parse_nric(nric)))


def get_resident_by_id(session: Session, resident_id: int) -> Resident:
    resident = session.scalar(
        select(Resident).options(selectinload(Resident.address)).where(Resident.id == resident_id)
    )
    if resident is None:
        raise NotFound("No such resident.")
    return resident


def names_by_id(session: Session, resident_ids: Iterable[int]) -> dict[int, str]:
    """Residents' names by id, in one query; ids that match nobody are left out."""
    wanted = set(resident_ids)
    if not wanted:
        return {}
    rows = session.execute(select(Resident.id, Resident.name).where(Resident.id.in_(wanted)))
    return {resident_id: name for resident_id, name in rows}


def register_resident(session: Session, new: NewResident) -> Resident:
    """Add a person to the registry after checking every field."""
    nric = parse_nric(new.nric)
    name = " ".join(new.name.split())
    if not name:
        raise InvalidInput(FieldProblem("name", "A name is required.", "required"))
    if len(name) > 200:
        raise InvalidInput(
            FieldProblem("name", "A name can have at most 200 characters.", "too_long")
        )
    if new.date_of_birth > utcnow().date():
        raise InvalidInput(
            FieldProblem("date_of_birth", "The date of birth is in the future.", "future")
        )
    postal_code = parse_postal_code(new.postal_code) if new.postal_code else None
    if postal_code and session.get(Address, postal_code) is None:
        raise InvalidInput(
            FieldProblem(
                "postal_code", f"No building has the postal code {postal_code}.", "unknown"
            )
        )
    sex = _check_code(new.sex, codes.SEX, "sex")
    if session.scalar(select(Resident.id).where(Resident.nric == nric)) is not None:
        raise Conflict(f"{nric} is already registered.")
    now = utcnow()
    resident = Resident(
        nric=nric,
        name=name,
        sex=sex,
        date_of_birth=new.date_of_birth,
        race=_check_code(new.race, codes.RACE, "race"),
        nationality=_check_code(new.nationality, codes.COUNTRY, "nationality"),
        birth_country=_check_code(
            new.birth_country or new.nationality, codes.COUNTRY, "birth_country"
        ),
        residential_status=_check_code(
            new.residential_status, codes.RESIDENTIAL_STATUS, "residential_status"
        ),
        postal_code=postal_code,
        floor=new.floor,
        unit=new.unit,
        mobile=parse_phone(new.mobile, "mobile", mobile_only=True) if new.mobile else None,
        email=new.email,
        marital_status=_check_code(new.marital_status, codes.MARITAL_STATUS, "marital_status"),
        housing_type=_check_code(new.housing_type, codes.HOUSING_TYPE, "housing_type"),
        created_at=now,
        updated_at=now,
    )
    session.add(resident)
    session.flush()
    audit.record(
        session,
        "registry.resident.registered",
        subject_type="resident",
        subject_id=resident.id,
        details={"nric": nric},
    )
    return resident


def update_contact(
    session: Session, nric: str, *, mobile: str | None = None, email: str | None = None
) -> Resident:
    """Change a resident's mobile number or email, recording the old values in the audit log."""
    resident = get_resident(session, nric)
    before = {"mobile": resident.mobile, "email": resident.email}
    if mobile is not None:
        resident.mobile = parse_phone(mobile, "mobile", mobile_only=True) if mobile else None
    if email is not None:
        resident.email = email or None
    resident.updated_at = utcnow()
    audit.record(
        session,
        "registry.resident.contact_updated",
        subject_type="resident",
        subject_id=resident.id,
        details={"before": before, "after": {"mobile": resident.mobile, "email": resident.email}},
    )
    return resident


def get_business(session: Session, uen: str) -> Business:
    """A business by UEN, with its officers and their records loaded."""
    uen = parse_uen(uen)
    business = session.scalar(
        select(Business)
        .options(selectinload(Business.officers).selectinload(BusinessOfficer.resident))
        .where(Business.uen == uen)
    )
    if business is None:
        raise NotFound(f"No business has the UEN {uen}.")
    return business


def businesses_of(session: Session, resident_id: int) -> list[tuple[Business, str]]:
    """The businesses a person holds a role in, with the role."""
    rows = session.execute(
        select(Business, BusinessOfficer.role)
        .join(BusinessOfficer, BusinessOfficer.business_id == Business.id)
        .where(BusinessOfficer.resident_id == resident_id)
        .order_by(Business.name)
    )
    return [(business, role) for business, role in rows]


@dataclass(frozen=True)
class RegistryCounts:
    residents: int
    businesses: int
    addresses: int


def counts(session: Session) -> RegistryCounts:
    """How many records the registry holds."""
    return RegistryCounts(
        residents=session.scalar(select(func.count()).select_from(Resident)) or 0,
        businesses=session.scalar(select(func.count()).select_from(Business)) or 0,
        addresses=session.scalar(select(func.count()).select_from(Address)) or 0,
    )


CODE_TABLES = {
    "sex": codes.SEX,
    "race": codes.RACE,
    "residential_status": codes.RESIDENTIAL_STATUS,
    "marital_status": codes.MARITAL_STATUS,
    "housing_type": codes.HOUSING_TYPE,
    "country": codes.COUNTRY,
    "business_entity_type": codes.BUSINESS_ENTITY_TYPE,
}


def describe_code(table: str, code: str) -> str:
    """The description of a code the registry stores (MyInfo's `desc`), or "" if unknown."""
    return CODE_TABLES.get(table, {}).get(code, "")


def is_hdb_flat(housing_type: str) -> bool:
    """Whether a housing type code is an HDB flat (MyInfo `hdbtype`) or other (`housingtype`)."""
    return housing_type in codes.HDB_TYPES


@dataclass(frozen=True)
class NewBusiness:
    """What is needed to register a business."""

    uen: str
    name: str
    entity_type: str
    ssic_code: str
    ssic_description: str
    registered_on: date
    postal_code: str | None = None


def register_business(session: Session, new: NewBusiness) -> Business:
    """Add a business under its UEN after checking it."""
    uen = parse_uen(new.uen)
    if session.scalar(select(Business.id).where(Business.uen == uen)) is not None:
        raise Conflict(f"{uen} is already registered.")
    name = " ".join(new.name.split())
    if not name:
        raise InvalidInput(FieldProblem("name", "A name is required.", "required"))
    postal_code = parse_postal_code(new.postal_code) if new.postal_code else None
    if postal_code and session.get(Address, postal_code) is None:
        postal_code = None
    business = Business(
        uen=uen,
        name=name,
        entity_type=_check_code(new.entity_type, codes.BUSINESS_ENTITY_TYPE, "entity_type"),
        ssic_code=new.ssic_code,
        ssic_description=new.ssic_description,
        postal_code=postal_code,
        registered_on=new.registered_on,
        status="live",
        created_at=utcnow(),
    )
    session.add(business)
    session.flush()
    audit.record(
        session,
        "registry.business.registered",
        subject_type="business",
        subject_id=business.id,
        details={"uen": uen},
    )
    return business


def appoint_officer(session: Session, uen: str, nric: str, role: str, appointed_on: date) -> None:
    """Record a person's role in a business (director, secretary, owner, ...)."""
    if role not in codes.OFFICER_ROLES:
        raise InvalidInput(
            FieldProblem("role", f"Use one of: {', '.join(codes.OFFICER_ROLES)}.", "unknown_code")
        )
    business = get_business(session, uen)
    resident = get_resident(session, nric)
    session.add(
        BusinessOfficer(
            business_id=business.id, resident_id=resident.id, role=role, appointed_on=appointed_on
        )
    )
    session.flush()
    audit.record(
        session,
        "registry.business.officer_appointed",
        subject_type="business",
        subject_id=business.id,
        details={"resident_id": resident.id, "role": role},
    )


def some_postal_codes(session: Session, limit: int = 10) -> list[str]:
    """A few registered buildings' postal codes (for demo data), in code order."""
    return list(
        session.scalars(select(Address.postal_code).order_by(Address.postal_code).limit(limit))
    )

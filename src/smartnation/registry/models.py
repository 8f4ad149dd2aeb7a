"""Registry tables: addresses (one per building, keyed by postal code), residents, businesses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime


class Address(Base):
    """A building. In Singapore a postal code names exactly one building."""

    __tablename__ = "registry_address"

    postal_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    block: Mapped[str] = mapped_column(String(10))
    street: Mapped[str] = mapped_column(String(120))
    building: Mapped[str | None] = mapped_column(String(120))
    # HDB flats, condominiums, landed houses, shophouses: what kind of place this is
    building_type: Mapped[str] = mapped_column(String(20))


class Resident(Base):
    """A person the government knows: citizen, permanent resident or foreigner with a FIN."""

    __tablename__ = "registry_resident"
    __table_args__ = (Index("ix_registry_resident_postal_code", "postal_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    nric: Mapped[str] = mapped_column(String(9), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    sex: Mapped[str] = mapped_column(String(1))  # M, F or U (unknown), as MyInfo codes it
    date_of_birth: Mapped[date] = mapped_column(Date)
    race: Mapped[str] = mapped_column(String(2))  # MyInfo race codes: CN, MY, IN, EU, XX
    nationality: Mapped[str] = mapped_column(String(2))  # MyInfo nationality codes: SG, MY, ...
    birth_country: Mapped[str] = mapped_column(String(2))
    # C citizen, P permanent resident, A alien (foreigner with a pass), as MyInfo codes it
    residential_status: Mapped[str] = mapped_column(String(1))
    postal_code: Mapped[str | None] = mapped_column(ForeignKey("registry_address.postal_code"))
    floor: Mapped[str | None] = mapped_column(String(3))
    unit: Mapped[str | None] = mapped_column(String(5))
    mobile: Mapped[str | None] = mapped_column(String(16))  # E.164
    email: Mapped[str | None] = mapped_column(String(254))
    marital_status: Mapped[str] = mapped_column(
        String(1)
    )  # 1 single, 2 married, 3 widowed, 5 divorced
    housing_type: Mapped[str] = mapped_column(String(3))  # MyInfo hdbtype/housingtype codes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    address: Mapped[Address | None] = relationship(lazy="raise")


class Business(Base):
    """An entity registered with a UEN: a company, a sole proprietorship, a society, a clinic."""

    __tablename__ = "registry_business"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uen: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    entity_type: Mapped[str] = mapped_column(String(40))  # e.g. LC (local company), BN, LL, SS
    ssic_code: Mapped[str] = mapped_column(String(5))
    ssic_description: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(ForeignKey("registry_address.postal_code"))
    floor: Mapped[str | None] = mapped_column(String(3))
    unit: Mapped[str | None] = mapped_column(String(5))
    registered_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="live")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    officers: Mapped[list[BusinessOfficer]] = relationship(lazy="raise", back_populates="business")


class BusinessOfficer(Base):
    """A person's role in a business (director, secretary, owner, partner, authorised officer)."""

    __tablename__ = "registry_business_officer"
    __table_args__ = (Index("ix_registry_business_officer_resident", "resident_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("registry_business.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("registry_resident.id"))
    role: Mapped[str] = mapped_column(String(40))
    appointed_on: Mapped[date] = mapped_column(Date)

    business: Mapped[Business] = relationship(lazy="raise", back_populates="officers")
    resident: Mapped[Resident] = relationship(lazy="raise")

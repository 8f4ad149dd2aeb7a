"""HealthCerts tables: registered clinics, notarised certificates (kept encrypted), revocations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime


class Clinic(Base):
    """A licensed clinic allowed to have its certificates notarised.

    It is a business in the registry (by UEN) that signs with `did` and proves that key through a
    DNS-DID TXT record at `domain`.
    """

    __tablename__ = "healthcerts_clinic"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    uen: Mapped[str] = mapped_column(String(10), index=True)
    name: Mapped[str] = mapped_column(String(200))
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    did: Mapped[str] = mapped_column(String(60))  # did:ethr:0x<40 hex>
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, suspended
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def key_id(self) -> str:
        return f"{self.did}#controller"

    @property
    def dns_did_record(self) -> str:
        return f"openatts a=dns-did; p={self.key_id}; v=1.0;"


class NotarisedCertificate(Base):
    """A certificate the government endorsed, kept only encrypted (OPEN-ATTESTATION-TYPE-1).

    `reference` is the endorsed document's id; `storage_id` names the encrypted copy that the QR
    link fetches. The key is never stored: it travels only in the link's fragment.
    """

    __tablename__ = "healthcerts_notarised_certificate"
    __table_args__ = (Index("ix_healthcerts_notarised_certificate_target", "target_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(36), unique=True)
    storage_id: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # PDT or VAC
    test_type: Mapped[str] = mapped_column(String(40))  # PCR, ART, ... or VACCINATION
    clinic_id: Mapped[int | None] = mapped_column(ForeignKey("healthcerts_clinic.id"))
    resident_id: Mapped[int | None] = mapped_column(BigId)
    patient_name: Mapped[str] = mapped_column(String(200))
    passport_number: Mapped[str | None] = mapped_column(String(40))
    masked_nric: Mapped[str | None] = mapped_column(String(9))
    clinic_target_hash: Mapped[str | None] = mapped_column(String(64))
    target_hash: Mapped[str] = mapped_column(String(64))
    merkle_root: Mapped[str] = mapped_column(String(64))
    encrypted_document: Mapped[dict[str, Any]] = mapped_column(JSON)
    notarised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    clinic: Mapped[Clinic | None] = relationship(lazy="raise")


class Revocation(Base):
    """A revoked document hash, as the OCSP responder serves it (`reasonCode` as in RFC 5280)."""

    __tablename__ = "healthcerts_revocation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    document_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason_code: Mapped[int] = mapped_column(Integer)
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("healthcerts_notarised_certificate.id")
    )
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_by: Mapped[str] = mapped_column(String(120))

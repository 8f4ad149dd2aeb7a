"""What HealthCerts does: register clinics, notarise their certificates, revoke, store, verify.

The only module other domains import from healthcerts. Functions take a session, flush and never
commit; every change writes its audit entry in the same transaction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from smartnation.appointments import service as appointments
from smartnation.core import audit
from smartnation.core.clock import to_singapore, utcnow
from smartnation.core.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotFound
from smartnation.core.validators import parse_uen
from smartnation.healthcerts import dnstable
from smartnation.healthcerts.certificate import CertificateView, CheckSummary, describe, summarise
from smartnation.healthcerts.config import HealthCertsSettings, get_healthcerts_settings
from smartnation.healthcerts.documents import (
    nric_checksum_valid,
    validate_pdt,
    validate_vaccination,
)
from smartnation.healthcerts.endorse import (
    GovernmentIssuer,
    Patient,
    VaccinationDose,
    build_endorsed_pdt,
    build_vaccination,
    patient_of,
    verify_link,
)
from smartnation.healthcerts.models import Clinic, NotarisedCertificate, Revocation
from smartnation.healthcerts.openattestation import (
    Fragment,
    HttpxOcspFetcher,
    VerificationContext,
    get_data,
    is_signed_wrapped_v2,
    is_valid,
    sign_document,
    verify_document,
    wrap_documents,
)
from smartnation.healthcerts.openattestation.encryption import encrypt_document, generate_key
from smartnation.healthcerts.openattestation.fragments import DNS_DID_IDENTITY
from smartnation.healthcerts.openattestation.ocsp import OCSP_REVOCATION_REASONS
from smartnation.registry import service as registry

API_PREFIX = "/api/v1/healthcerts"
_DID_ETHR = re.compile(r"did:ethr:(0x[0-9a-fA-F]{40})")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
_HASH = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
_FHIR_GENDER_TO_SEX = {"male": "M", "female": "F", "other": "U", "unknown": "U"}


@dataclass(frozen=True)
class Site:
    """The public addresses that go into documents: verify page, storage, OCSP responder."""

    base_url: str

    @property
    def verify_url(self) -> str:
        return self.base_url.rstrip("/") + "/verify"

    @property
    def ocsp_location(self) -> str:
        return self.base_url.rstrip("/") + API_PREFIX + "/ocsp"

    def storage_uri(self, storage_id: str) -> str:
        return self.base_url.rstrip("/") + API_PREFIX + "/documents/" + storage_id


def government_issuer(settings: HealthCertsSettings, site: Site) -> GovernmentIssuer:
    """The government as the issuer of endorsed documents."""
    return GovernmentIssuer(
        name=settings.issuer_name,
        did=settings.issuer_did,
        domain=settings.issuer_domain,
        revocation_type=settings.revocation,
        ocsp_location=site.ocsp_location,
    )


# --- DNS ----------------------------------------------------------------------------------------


def publish_dns_records(session: Session, settings: HealthCertsSettings | None = None) -> bool:
    """Write the government's and every active clinic's DNS-DID record to the records table.

    Only when DNS is a table file (the demo); with real DNS each party publishes its own record.
    Returns whether anything was written. Safe to run any number of times.
    """
    settings = settings or get_healthcerts_settings()
    path = settings.dns_table_path
    if path is None:
        return False
    records = {settings.issuer_domain: [settings.dns_did_record]}
    for clinic in session.scalars(select(Clinic).where(Clinic.status == "active")):
        records[clinic.domain] = [clinic.dns_did_record]
    dnstable.publish(path, records)
    return True


def _publish_own_record(settings: HealthCertsSettings) -> None:
    """On a DNS table, make sure the government's own DNS-DID record is there before signing."""
    path = settings.dns_table_path
    if path is not None and dnstable.read_table(path).get(settings.issuer_domain) != [
        settings.dns_did_record
    ]:
        dnstable.publish(path, {settings.issuer_domain: [settings.dns_did_record]})


# --- Clinics ------------------------------------------------------------------------------------


def _parse_did(did: str) -> str:
    text = did.strip().removesuffix("#controller")
    match = _DID_ETHR.fullmatch(text)
    if match is None:
        raise InvalidInput(
            FieldProblem("did", "Give the clinic's key as did:ethr:0x followed by 40 hex digits.")
        )
    return f"did:ethr:{match.group(1)}"


def _parse_domain(domain: str) -> str:
    text = domain.strip().lower().rstrip(".")
    if not _DOMAIN.fullmatch(text):
        raise InvalidInput(FieldProblem("domain", "Give a domain name such as clinic.example.sg."))
    return text


def register_clinic(
    session: Session,
    *,
    uen: str,
    domain: str,
    did: str,
    settings: HealthCertsSettings | None = None,
) -> Clinic:
    """Register a clinic (a registry business) whose certificates Notarise will accept.

    The clinic proves its key by publishing `openatts a=dns-did; p=<did>#controller; v=1.0;` at
    `domain`; on the demo's DNS table the record is published here.
    """
    settings = settings or get_healthcerts_settings()
    uen = parse_uen(uen)
    try:
        business = registry.get_business(session, uen)
    except NotFound:
        raise InvalidInput(
            FieldProblem("uen", f"No business is registered with the UEN {uen}.", "unknown")
        ) from None
    if business.status != "live":
        raise InvalidInput(FieldProblem("uen", "This business is not live.", "not_live"))
    domain = _parse_domain(domain)
    did = _parse_did(did)
    if domain == settings.issuer_domain:
        raise InvalidInput(FieldProblem("domain", "This domain is the government's own."))
    if session.scalar(select(Clinic.id).where(Clinic.domain == domain)) is not None:
        raise Conflict(f"A clinic is already registered with the domain {domain}.")
    clinic = Clinic(
        uen=uen,
        name=business.name,
        domain=domain,
        did=did,
        status="active",
        registered_at=utcnow(),
    )
    session.add(clinic)
    session.flush()
    audit.record(
        session,
        "healthcerts.clinic.registered",
        subject_type="clinic",
        subject_id=clinic.id,
        details={"uen": uen, "domain": domain, "did": did},
    )
    publish_dns_records(session, settings)
    return clinic


def list_clinics(session: Session) -> list[Clinic]:
    """Every registered clinic, by name."""
    return list(session.scalars(select(Clinic).order_by(Clinic.name, Clinic.id)))


# --- Verification --------------------------------------------------------------------------------


def ocsp_answer(session: Session, document_hash: str) -> dict[str, Any]:
    """The OCSP responder's answer for one hash, shaped as the reference responder's.

    `{"revoked": false, "documentHash": "0x..."}` or, when revoked, with `reasonCode` as well.
    """
    match = _HASH.fullmatch(document_hash.strip())
    if match is None:
        raise InvalidInput(
            FieldProblem("documentHash", "A document hash is 64 hexadecimal digits.", "not_hex")
        )
    digest = match.group(1).lower()
    revocation = session.scalar(select(Revocation).where(Revocation.document_hash == digest))
    if revocation is None:
        return {"revoked": False, "documentHash": "0x" + digest}
    return {"revoked": True, "documentHash": "0x" + digest, "reasonCode": revocation.reason_code}


@dataclass
class _LocalFirstOcspFetcher:
    """Answers our own responder's URLs from the database; asks other responders over HTTP."""

    session: Session
    own_location: str
    remote: HttpxOcspFetcher = field(default_factory=HttpxOcspFetcher)

    def __call__(self, url: str) -> Any:
        prefix = self.own_location.rstrip("/") + "/"
        if url.startswith(prefix):
            try:
                return ocsp_answer(self.session, url[len(prefix) :])
            except InvalidInput:
                return {"error": "not a document hash"}
        return self.remote(url)


def verification_context(
    session: Session, site: Site, settings: HealthCertsSettings | None = None
) -> VerificationContext:
    """How this site verifies: the configured DNS, and our own OCSP answers without a round trip."""
    settings = settings or get_healthcerts_settings()
    return VerificationContext(
        dns=dnstable.resolver(settings),
        ocsp_fetcher=_LocalFirstOcspFetcher(session, site.ocsp_location),
    )


@dataclass(frozen=True)
class VerificationResult:
    """What Verify shows: the fragments, the three checks in plain words, the certificate."""

    valid: bool
    fragments: list[Fragment]
    checks: list[CheckSummary]
    certificate: CertificateView | None


def verify(
    session: Session, document: Any, site: Site, settings: HealthCertsSettings | None = None
) -> VerificationResult:
    """Verify any document (wrong shapes give INVALID or ERROR checks, never an exception)."""
    fragments = verify_document(document, verification_context(session, site, settings))
    return VerificationResult(
        valid=is_valid(fragments),
        fragments=fragments,
        checks=summarise(fragments),
        certificate=describe(document),
    )


# --- Notarise ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notarised:
    """An endorsed certificate: the signed document, its verify link and where it is stored."""

    certificate: NotarisedCertificate
    document: dict[str, Any]
    link: str


@dataclass(frozen=True)
class NotariseOutcome:
    """One submitted document's fate in a batch: notarised, or refused with the reasons."""

    index: int
    notarised: Notarised | None = None
    problems: list[FieldProblem] = field(default_factory=list)


@dataclass(frozen=True)
class _Accepted:
    index: int
    document: dict[str, Any]
    data: dict[str, Any]
    clinic: Clinic
    patient: Patient
    resident_id: int | None
    target_hash: str


def _refuse(message: str, code: str, field_name: str = "document") -> InvalidInput:
    return InvalidInput(FieldProblem(field_name, message, code))


def _clinic_for(session: Session, data: dict[str, Any], fragments: list[Fragment]) -> Clinic:
    issuers = data.get("issuers")
    if not isinstance(issuers, list) or len(issuers) != 1 or not isinstance(issuers[0], dict):
        raise _refuse("A certificate must have exactly one issuer.", "issuer_count")
    proof = issuers[0].get("identityProof")
    if not isinstance(proof, dict) or proof.get("type") != "DNS-DID":
        raise _refuse("The issuer must prove its identity with DNS-DID.", "unknown_issuer")
    identity_ok = [f for f in fragments if f.name == DNS_DID_IDENTITY and f.status == "VALID"]
    if len(identity_ok) != 1:
        raise _refuse("The issuer's DNS-DID record could not be confirmed.", "unknown_issuer")
    location = str(proof.get("location", "")).lower().rstrip(".")
    clinic = session.scalar(
        select(Clinic).where(Clinic.domain == location, Clinic.status == "active")
    )
    if clinic is None:
        raise _refuse(
            f"{location or 'The issuer'} is not a clinic registered with Notarise.",
            "unknown_issuer",
        )
    if str(proof.get("key", "")).lower() != clinic.key_id.lower():
        raise _refuse(
            "The certificate was signed with a key that is not the registered clinic's.",
            "unknown_issuer",
        )
    return clinic


def _check_person(session: Session, patient: Patient) -> int | None:
    """The resident's id after checking the NRIC and the person against the registry.

    A certificate without an NRIC (a traveller with a passport only) is not checked here.
    """
    if patient.nric is None:
        return None
    field_name = "fhirBundle.Patient.identifier.NRIC-FIN"
    if "*" in patient.nric:
        raise _refuse("Give the full NRIC/FIN; Notarise masks it.", "nric_masked", field_name)
    resident = registry.find_resident(session, patient.nric)
    if resident is None:
        raise _refuse(f"No resident has the NRIC/FIN {patient.nric}.", "unknown_person", field_name)
    problems = []
    if patient.birth_date != resident.date_of_birth.isoformat():
        problems.append(
            FieldProblem(
                "fhirBundle.Patient.birthDate",
                "The date of birth does not match the national records.",
                "birth_date_mismatch",
            )
        )
    if _FHIR_GENDER_TO_SEX.get(patient.gender or "") != resident.sex:
        problems.append(
            FieldProblem(
                "fhirBundle.Patient.gender",
                "The sex does not match the national records.",
                "sex_mismatch",
            )
        )
    if problems:
        raise InvalidInput(problems)
    return resident.id


def _accept(session: Session, index: int, document: Any, context: VerificationContext) -> _Accepted:
    if not is_signed_wrapped_v2(document):
        raise _refuse("This is not a wrapped and signed OpenAttestation v2 document.", "not_signed")
    fragments = verify_document(document, context)
    if any(f.type == "DOCUMENT_INTEGRITY" and f.status != "VALID" for f in fragments):
        raise _refuse("The document has been changed after it was signed.", "tampered")
    data = get_data(document)
    if not isinstance(data, dict):
        raise _refuse("The document's data is not an object.", "not_signed")
    clinic = _clinic_for(session, data, fragments)
    if not is_valid(fragments):
        failed = ", ".join(
            f"{f.name} {f.status}" for f in fragments if f.status in ("INVALID", "ERROR")
        )
        raise _refuse(f"The document does not verify ({failed}).", "not_valid")
    patient = patient_of(data)
    nric = patient.nric if patient is not None else None
    if nric and "*" not in nric and not nric_checksum_valid(nric):
        raise _refuse(
            f"{nric} is not a valid NRIC/FIN (its check letter is wrong).",
            "nric_checksum",
            "fhirBundle.Patient.identifier.NRIC-FIN",
        )
    problems = validate_pdt(data)
    if problems:
        raise InvalidInput(
            [
                FieldProblem(p.path.removeprefix("$."), p.message, "invalid_certificate")
                for p in problems
            ]
        )
    if patient is None:
        raise _refuse("The certificate must name exactly one patient.", "invalid_certificate")
    resident_id = _check_person(session, patient)
    return _Accepted(
        index=index,
        document=document,
        data=data,
        clinic=clinic,
        patient=patient,
        resident_id=resident_id,
        target_hash=str(document["signature"]["targetHash"]),
    )


def wrap_and_sign(
    raws: list[dict[str, Any]], settings: HealthCertsSettings
) -> list[dict[str, Any]]:
    """Wrap raw documents as one batch and sign its root with the government's key."""
    _publish_own_record(settings)
    wrapped = wrap_documents(raws)
    private_key = settings.private_key()
    return [sign_document(w, private_key, settings.issuer_key_id) for w in wrapped]


def _store(
    session: Session,
    *,
    reference: str,
    storage_id: str,
    key: str,
    signed: dict[str, Any],
    kind: str,
    test_type: str,
    clinic: Clinic | None,
    patient: Patient,
    resident_id: int | None,
    clinic_target_hash: str | None,
    now: datetime,
) -> NotarisedCertificate:
    encrypted = encrypt_document(signed, key)
    certificate = NotarisedCertificate(
        reference=reference,
        storage_id=storage_id,
        kind=kind,
        test_type=test_type[:40],
        clinic_id=clinic.id if clinic else None,
        resident_id=resident_id,
        patient_name=patient.name[:200],
        passport_number=(patient.passport_number or None),
        masked_nric=(patient.nric[0] + "****" + patient.nric[-4:]) if patient.nric else None,
        clinic_target_hash=clinic_target_hash,
        target_hash=signed["signature"]["targetHash"],
        merkle_root=signed["signature"]["merkleRoot"],
        encrypted_document=encrypted.stored_json(),
        notarised_at=now,
    )
    session.add(certificate)
    return certificate


def notarise_batch(
    session: Session,
    documents: Sequence[Any],
    site: Site,
    settings: HealthCertsSettings | None = None,
) -> list[NotariseOutcome]:
    """Notarise clinic certificates: check each, endorse the acceptable ones as one batch.

    Each document is verified (it must be VALID, issued by a registered clinic through DNS-DID),
    checked as a PDT v2 certificate and against the national records, then endorsed: one Merkle
    tree and one government signature for the whole batch, each endorsed document stored
    encrypted under its own key. Refused documents come back with their reasons.
    """
    settings = settings or get_healthcerts_settings()
    if not documents:
        raise InvalidInput(FieldProblem("documents", "Give at least one document.", "empty"))
    if len(documents) > settings.max_batch_documents:
        raise InvalidInput(
            FieldProblem(
                "documents",
                f"A batch can have at most {settings.max_batch_documents} documents.",
                "too_many",
            )
        )
    context = verification_context(session, site, settings)
    outcomes: dict[int, NotariseOutcome] = {}
    accepted: list[_Accepted] = []
    for index, document in enumerate(documents):
        try:
            accepted.append(_accept(session, index, document, context))
        except InvalidInput as refusal:
            outcomes[index] = NotariseOutcome(index, problems=refusal.problems)
        except DomainError as refusal:
            outcomes[index] = NotariseOutcome(
                index, problems=[FieldProblem("document", refusal.message, refusal.code)]
            )
    if accepted:
        now = utcnow()
        issuer = government_issuer(settings, site)
        references = [str(uuid.uuid4()) for _ in accepted]
        storage_ids = [str(uuid.uuid4()) for _ in accepted]
        keys = [generate_key() for _ in accepted]
        links = [
            verify_link(site.verify_url, site.storage_uri(sid), key)
            for sid, key in zip(storage_ids, keys, strict=True)
        ]
        raws = [
            build_endorsed_pdt(
                item.document,
                item.data,
                reference=reference,
                notarised_on=now,
                link=link,
                issuer=issuer,
                renderer_url=settings.renderer_url,
            )
            for item, reference, link in zip(accepted, references, links, strict=True)
        ]
        signed_documents = wrap_and_sign(raws, settings)
        for item, reference, storage_id, key, link, signed in zip(
            accepted, references, storage_ids, keys, links, signed_documents, strict=True
        ):
            declared = item.data.get("type")
            test_type = "+".join(declared) if isinstance(declared, list) else str(declared)
            certificate = _store(
                session,
                reference=reference,
                storage_id=storage_id,
                key=key,
                signed=signed,
                kind="PDT",
                test_type=test_type,
                clinic=item.clinic,
                patient=item.patient,
                resident_id=item.resident_id,
                clinic_target_hash=item.target_hash,
                now=now,
            )
            outcomes[item.index] = NotariseOutcome(
                item.index, notarised=Notarised(certificate, signed, link)
            )
        session.flush()
        for item, outcome in zip(accepted, [outcomes[a.index] for a in accepted], strict=True):
            assert outcome.notarised is not None
            audit.record(
                session,
                "healthcerts.certificate.notarised",
                subject_type="notarised_certificate",
                subject_id=outcome.notarised.certificate.id,
                details={
                    "reference": outcome.notarised.certificate.reference,
                    "clinic_id": item.clinic.id,
                    "clinic_target_hash": item.target_hash,
                },
            )
    return [outcomes[i] for i in range(len(documents))]


def notarise(
    session: Session, document: Any, site: Site, settings: HealthCertsSettings | None = None
) -> Notarised:
    """Notarise one clinic certificate; InvalidInput says why when it is refused."""
    (outcome,) = notarise_batch(session, [document], site, settings)
    if outcome.notarised is None:
        raise InvalidInput(outcome.problems)
    return outcome.notarised


# --- Certificates, storage and revocation ------------------------------------------------------


def get_certificate(session: Session, reference: str) -> NotarisedCertificate:
    """A notarised certificate by its reference, with its clinic."""
    certificate = session.scalar(
        select(NotarisedCertificate)
        .options(selectinload(NotarisedCertificate.clinic))
        .where(NotarisedCertificate.reference == reference.strip().lower())
    )
    if certificate is None:
        raise NotFound("No notarised certificate has this reference.")
    return certificate


def recent_certificates(session: Session, limit: int = 50) -> list[NotarisedCertificate]:
    """The latest notarised certificates, newest first."""
    return list(
        session.scalars(
            select(NotarisedCertificate)
            .options(selectinload(NotarisedCertificate.clinic))
            .order_by(NotarisedCertificate.id.desc())
            .limit(limit)
        )
    )


def stored_document(session: Session, storage_id: str) -> dict[str, Any]:
    """The encrypted document `{cipherText, iv, tag, type}` the QR link names."""
    certificate = session.scalar(
        select(NotarisedCertificate).where(NotarisedCertificate.storage_id == storage_id)
    )
    if certificate is None:
        raise NotFound("No stored document has this id.")
    return dict(certificate.encrypted_document)


def revocation_of(session: Session, certificate: NotarisedCertificate) -> Revocation | None:
    """The certificate's revocation, if it is revoked."""
    return session.scalar(
        select(Revocation).where(Revocation.document_hash == certificate.target_hash)
    )


def revoke(session: Session, reference: str, reason_code: int) -> Revocation:
    """Revoke a notarised certificate: our OCSP responder reports its hash as revoked."""
    if reason_code not in OCSP_REVOCATION_REASONS:
        allowed = ", ".join(str(c) for c in sorted(OCSP_REVOCATION_REASONS))
        raise InvalidInput(
            FieldProblem("reason_code", f"Use one of the reason codes {allowed}.", "unknown_code")
        )
    certificate = get_certificate(session, reference)
    if revocation_of(session, certificate) is not None:
        raise Conflict("This certificate is already revoked.")
    revocation = Revocation(
        document_hash=certificate.target_hash,
        reason_code=reason_code,
        certificate_id=certificate.id,
        revoked_at=utcnow(),
        revoked_by=audit.current_actor.get(),
    )
    session.add(revocation)
    session.flush()
    audit.record(
        session,
        "healthcerts.certificate.revoked",
        subject_type="notarised_certificate",
        subject_id=certificate.id,
        details={
            "reference": certificate.reference,
            "reason_code": reason_code,
            "reason": OCSP_REVOCATION_REASONS[reason_code],
        },
    )
    return revocation


# --- Vaccination certificates -----------------------------------------------------------------


def issue_vaccination_certificate(
    session: Session,
    resident_id: int,
    doses: Sequence[VaccinationDose],
    site: Site,
    *,
    complete_on: str | None = None,
    passport_number: str | None = None,
    settings: HealthCertsSettings | None = None,
) -> Notarised:
    """Issue a vaccination HealthCert (`vaccination-healthcert/1.0`) for a resident's doses.

    The person comes from the registry; the doses from the vaccination record (the appointments
    domain). The document is validated against the published schema, wrapped, signed with the
    government's key and stored encrypted like a notarised certificate.
    """
    settings = settings or get_healthcerts_settings()
    if not doses:
        raise InvalidInput(FieldProblem("doses", "A certificate needs at least one dose.", "empty"))
    resident = registry.get_resident_by_id(session, resident_id)
    gender = {"M": "male", "F": "female"}.get(resident.sex, "unknown")
    patient = Patient(
        name=resident.name,
        birth_date=resident.date_of_birth.isoformat(),
        gender=gender,
        nric=resident.nric,
        passport_number=passport_number,
        nationality=resident.nationality,
    )
    now = utcnow()
    reference, storage_id, key = str(uuid.uuid4()), str(uuid.uuid4()), generate_key()
    link = verify_link(site.verify_url, site.storage_uri(storage_id), key)
    raw = build_vaccination(
        reference=reference,
        notarised_on=now,
        patient=patient,
        doses=list(doses),
        complete_on=complete_on,
        link=link,
        issuer=government_issuer(settings, site),
        renderer_url=settings.renderer_url,
        uuids=[str(uuid.uuid4()) for _ in range(2 + 2 * len(doses))],
    )
    problems = validate_vaccination(raw)
    if problems:
        raise InvalidInput(
            [
                FieldProblem(p.path.removeprefix("$."), p.message, "invalid_certificate")
                for p in problems
            ]
        )
    (signed,) = wrap_and_sign([raw], settings)
    certificate = _store(
        session,
        reference=reference,
        storage_id=storage_id,
        key=key,
        signed=signed,
        kind="VAC",
        test_type="VACCINATION",
        clinic=None,
        patient=patient,
        resident_id=resident.id,
        clinic_target_hash=None,
        now=now,
    )
    session.flush()
    audit.record(
        session,
        "healthcerts.vaccination.issued",
        subject_type="notarised_certificate",
        subject_id=certificate.id,
        details={"reference": reference, "resident_id": resident.id, "doses": len(doses)},
    )
    return Notarised(certificate, signed, link)


# The IHIS codes vaccination HealthCerts carry (system http://standards.ihis.com.sg), by the
# appointments catalogue's vaccine code.
IHIS_VACCINE_CODES = {"PFIZER": "3339641000133109", "MODERNA": "3407851000133103"}
# Fully vaccinated two weeks after the last dose of the primary series.
DAYS_TO_FULL_PROTECTION = 14


def vaccination_doses(session: Session, resident_id: int) -> list[VaccinationDose]:
    """The doses the appointments domain recorded for a person, as certificate entries."""
    doses = []
    for record in appointments.vaccination_records(session, resident_id):
        doses.append(
            VaccinationDose(
                vaccine_code=IHIS_VACCINE_CODES.get(record.vaccine_code, record.snomed),
                vaccine_name=record.vaccine_name,
                lot_number=record.lot,
                occurred_on=to_singapore(record.given_at).date().isoformat(),
                site_id=record.centre_code,
                site_name=f"{record.centre_name} [{record.centre_code}]",
            )
        )
    return doses


def issue_vaccination_from_records(
    session: Session, resident_id: int, site: Site, settings: HealthCertsSettings | None = None
) -> Notarised:
    """Issue a vaccination HealthCert from the person's recorded doses (appointments domain)."""
    doses = vaccination_doses(session, resident_id)
    if not doses:
        raise NotFound("No vaccination is recorded for this person.", code="no_vaccination")
    complete_on = None
    if len(doses) >= 2:
        last = date.fromisoformat(doses[-1].occurred_on)
        complete_on = (last + timedelta(days=DAYS_TO_FULL_PROTECTION)).isoformat()
    return issue_vaccination_certificate(
        session, resident_id, doses, site, complete_on=complete_on, settings=settings
    )

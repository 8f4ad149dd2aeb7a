"""Demo data: a clinic registered for Notarise (its DNS-DID record in the demo's DNS table), its
officer, and certificates to open on Verify: PDT certificates (ART and PCR, negative) the clinic
signed and Notarise endorsed, one of them revoked, and a vaccination HealthCert issued from a
persona's vaccination record.

Each certificate is also written to `<DNS table folder>/demo/` (`var/healthcerts/demo/` by default):
the endorsed document to upload on /verify, and `links.txt` with the QR links. The links' keys are
never stored anywhere else, so they can be shown only from these files.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core.audit import current_actor
from smartnation.core.clock import SINGAPORE, today_in_singapore
from smartnation.core.config import VAR_DIR, get_settings
from smartnation.core.db import Database
from smartnation.core.errors import NotFound
from smartnation.healthcerts import service
from smartnation.healthcerts.config import HealthCertsSettings, get_healthcerts_settings
from smartnation.healthcerts.documents import FHIR_VERSION, PDT_VERSION
from smartnation.healthcerts.endorse import iso_millis
from smartnation.healthcerts.models import Clinic
from smartnation.healthcerts.openattestation import load_private_key, sign_document, wrap_documents
from smartnation.registry import service as registry

# The demo needs the vaccination record the appointments demo gives a persona.
LOAD_AFTER: Final = ("appointments",)

CLINIC_UEN: Final = "202112345M"
CLINIC_NAME: Final = "KAMPONG GLAM FAMILY CLINIC PTE. LTD."
CLINIC_DOMAIN: Final = "kampongglamclinic.smartnation.localhost"
# Published with the source, like the development signing key: it signs demo certificates only.
CLINIC_KEY: Final = "69c79ed5af6ed90df8c74185d12f9898b111c015dcdc56a0b123a08c309be8f1"
CLINIC_DID: Final = "did:ethr:0x25d7765b624f27e0ef462631144c3f7d523cf76d"
CLINIC_OFFICER: Final = "S8712345F"  # DR LEE SHU FEN (identity/demo.py)
VACCINATED: Final = "S8012345J"  # TAN AH KOW, vaccinated in the appointments demo
REVOKED_REASON: Final = 4  # superseded: a corrected certificate replaces it

LOINC: Final = {
    "ART": (
        "97097-0",
        "SARS-CoV-2 (COVID-19) Ag [Presence] in Upper respiratory specimen by Rapid immunoassay",
    ),
    "PCR": (
        "94531-1",
        "SARS-CoV-2 (COVID-19) RNA panel - Respiratory specimen by NAA with probe detection",
    ),
}
SPECIMEN: Final = {
    "ART": ("697989009", "Anterior nares swab"),
    "PCR": ("258500001", "Nasopharyngeal swab"),
}


@dataclass(frozen=True)
class DemoTest:
    """A test result the demo clinic certifies."""

    slug: str
    nric: str
    passport_number: str
    test_type: str  # ART or PCR
    days_ago: int
    revoked: bool = False


TESTS: Final = (
    DemoTest("pdt-art-tan-ah-kow", "S8012345J", "K1234501A", "ART", 1),
    DemoTest("pdt-pcr-maria-santos", "G5123456T", "P1234503B", "PCR", 2),
    DemoTest("pdt-pcr-rajesh-kumar-revoked", "S7512345J", "Z1234502C", "PCR", 3, revoked=True),
)


def demo_folder(settings: HealthCertsSettings) -> Path:
    """Where the demo writes its certificates and links: beside the DNS table it uses."""
    table = settings.dns_table_path
    return (table.parent if table is not None else VAR_DIR / "healthcerts") / "demo"


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _organization(name: str, code: str, kind: str, url: str, phone: str, address: str) -> Any:
    return {
        "resourceType": "Organization",
        "name": name,
        "type": [
            {
                **_coding("http://terminology.hl7.org/CodeSystem/organization-type", code, kind),
                "text": "Licensed Healthcare Provider" if code == "prov" else kind,
            }
        ],
        "contact": [
            {
                "telecom": [{"system": "url", "value": url}, {"system": "phone", "value": phone}],
                "address": {"type": "physical", "use": "work", "text": address},
            }
        ],
    }


def clinic_pdt(resident: Any, test: DemoTest, today: date) -> dict[str, Any]:
    """A PDT v2 certificate as the clinic's system issues it (raw, before wrapping and signing).

    Laid out as the published Notarise sample; the ids are derived from the test so that the same
    demo gives the same document.
    """
    ids = [
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"{CLINIC_DOMAIN}/{test.slug}/{n}")) for n in range(7)
    ]
    collected = datetime.combine(today - timedelta(days=test.days_ago), time(9, 0), SINGAPORE)
    reported = collected + timedelta(hours=2 if test.test_type == "ART" else 20)
    loinc, loinc_name = LOINC[test.test_type]
    specimen, specimen_name = SPECIMEN[test.test_type]
    gender = {"M": "male", "F": "female"}.get(resident.sex, "unknown")
    entries: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
                    "extension": [
                        {
                            "url": "code",
                            "valueCodeableConcept": {
                                "text": "Patient Nationality",
                                "coding": [
                                    {"system": "urn:iso:std:iso:3166", "code": resident.nationality}
                                ],
                            },
                        }
                    ],
                }
            ],
            "identifier": [
                {
                    "id": "PPN",
                    "type": _coding(
                        "http://terminology.hl7.org/CodeSystem/v2-0203", "PPN", "Passport Number"
                    ),
                    "value": test.passport_number,
                },
                {"id": "NRIC-FIN", "value": resident.nric},
            ],
            "name": [{"text": resident.name}],
            "gender": gender,
            "birthDate": resident.date_of_birth.isoformat(),
        },
        {
            "resourceType": "Observation",
            "specimen": {"type": "Specimen", "reference": f"urn:uuid:{ids[3]}"},
            "performer": [
                {"type": "Practitioner", "reference": f"urn:uuid:{ids[4]}"},
                {"id": "LHP", "type": "Organization", "reference": f"urn:uuid:{ids[6]}"},
            ],
            "identifier": [
                {
                    "id": "ACSN",
                    "type": _coding(
                        "http://terminology.hl7.org/CodeSystem/v2-0203", "ACSN", "Accession ID"
                    ),
                    "value": f"KG{collected:%y%m%d}{TESTS.index(test) + 1:04d}",
                }
            ],
            "category": [_coding("http://snomed.info/sct", "840539006", "COVID-19")],
            "code": _coding("http://loinc.org", loinc, loinc_name),
            "valueCodeableConcept": _coding("http://snomed.info/sct", "260385009", "Negative"),
            "effectiveDateTime": iso_millis(reported),
            "status": "final",
        },
        {
            "resourceType": "Specimen",
            "type": _coding("http://snomed.info/sct", specimen, specimen_name),
            "collection": {"collectedDateTime": iso_millis(collected)},
        },
        {
            "resourceType": "Practitioner",
            "name": [{"text": "Dr Lee Shu Fen"}],
            "qualification": [
                {
                    "code": _coding(
                        "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "MCR",
                        "Practitioner Medicare number",
                    ),
                    "identifier": [{"id": "MCR", "value": "M87123F"}],
                    "issuer": {"type": "Organization", "reference": f"urn:uuid:{ids[5]}"},
                }
            ],
        },
        _organization(
            "Ministry of Health (MOH)",
            "govt",
            "Government",
            "https://www.moh.gov.sg",
            "+6563259220",
            "Ministry of Health, 16 College Road, College of Medicine Building, Singapore 169854",
        ),
        _organization(
            "Kampong Glam Family Clinic",
            "prov",
            "Healthcare Provider",
            f"https://{CLINIC_DOMAIN}",
            "+6562912345",
            "1 Demo Street, Singapore 189999",
        ),
    ]
    return {
        "id": ids[0],
        "version": PDT_VERSION,
        "type": test.test_type,
        "validFrom": iso_millis(reported),
        "fhirVersion": FHIR_VERSION,
        "fhirBundle": {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"urn:uuid:{ids[n]}", "resource": resource}
                for n, resource in enumerate(entries, start=1)
            ],
        },
        "issuers": [
            {
                "id": CLINIC_DID,
                "revocation": {"type": "NONE"},
                "name": "Kampong Glam Family Clinic",
                "identityProof": {
                    "type": "DNS-DID",
                    "location": CLINIC_DOMAIN,
                    "key": f"{CLINIC_DID}#controller",
                },
            }
        ],
        "$template": {
            "name": "HEALTH_CERT",
            "type": "EMBEDDED_RENDERER",
            "url": "https://healthcert.renderer.moh.gov.sg/",
        },
    }


def _clinic(session: Session, settings: HealthCertsSettings) -> Clinic:
    """The demo clinic: a registry business registered with Notarise, its officer appointed."""
    try:
        registry.get_business(session, CLINIC_UEN)
    except NotFound:
        registry.register_business(
            session,
            registry.NewBusiness(
                uen=CLINIC_UEN,
                name=CLINIC_NAME,
                entity_type="LC",
                ssic_code="86201",
                ssic_description="Clinics and other general medical services (Western)",
                registered_on=date(2021, 3, 1),
            ),
        )
        if registry.find_resident(session, CLINIC_OFFICER) is not None:
            registry.appoint_officer(
                session, CLINIC_UEN, CLINIC_OFFICER, "authorised_officer", date(2021, 3, 1)
            )
    return service.register_clinic(
        session, uen=CLINIC_UEN, domain=CLINIC_DOMAIN, did=CLINIC_DID, settings=settings
    )


@dataclass(frozen=True)
class _Issued:
    slug: str
    what: str
    name: str
    reference: str
    document: dict[str, Any]
    link: str

    @classmethod
    def of(cls, slug: str, what: str, notarised: service.Notarised) -> _Issued:
        certificate = notarised.certificate
        return cls(
            slug, what, certificate.patient_name, certificate.reference, notarised.document,
            notarised.link,
        )  # fmt: skip


def _write(folder: Path, issued: list[_Issued]) -> None:
    """Each endorsed document as a file, and links.txt with every certificate's QR link."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for item in issued:
        path = folder / f"{item.slug}.json"
        text = json.dumps(item.document, indent=2, ensure_ascii=False) + "\n"
        path.write_text(text, encoding="utf-8")
        lines += [
            f"{item.what}: {item.name}",
            f"  reference {item.reference}, document {path}",
            f"  {item.link}",
            "",
        ]
    (folder / "links.txt").write_text("\n".join(lines), encoding="utf-8")


def load_demo(database: Database, seed: int) -> list[str]:
    """Load the HealthCerts demo; returns lines to print (where the certificates are, as whom)."""
    del seed  # the personas and the clinic are fixed so the README can name them
    current_actor.set("demo")
    settings = get_healthcerts_settings()
    site = service.Site(get_settings().web.base_url)
    folder = demo_folder(settings)
    today = today_in_singapore()
    if settings.dns_table_path is None:
        return [
            "HealthCerts: no demo data (SMARTNATION_HEALTHCERTS_DNS=system: the demo clinic's "
            "DNS-DID record has no table to go in, and real DNS does not have it)."
        ]
    with database.transaction() as session:
        if session.scalar(select(Clinic.id).where(Clinic.domain == CLINIC_DOMAIN)) is not None:
            service.publish_dns_records(session, settings)  # in case the table was removed
            return [f"HealthCerts demo data is already loaded (certificates in {folder})."]
        residents = {t.nric: registry.find_resident(session, t.nric) for t in TESTS}
        if any(r is None for r in residents.values()):
            return ["HealthCerts: no demo data (the identity demo's personas are missing)."]
        clinic = _clinic(session, settings)
        key = load_private_key(CLINIC_KEY)
        signed = [
            sign_document(document, key, clinic.key_id)
            for document in wrap_documents([clinic_pdt(residents[t.nric], t, today) for t in TESTS])
        ]
        issued = []
        for test, outcome in zip(
            TESTS, service.notarise_batch(session, signed, site, settings), strict=True
        ):
            if outcome.notarised is None:
                problems = "; ".join(p.message for p in outcome.problems)
                raise RuntimeError(f"The demo certificate {test.slug} was refused: {problems}")
            if test.revoked:
                service.revoke(session, outcome.notarised.certificate.reference, REVOKED_REASON)
            what = f"{test.test_type} negative" + (" (REVOKED)" if test.revoked else "")
            issued.append(_Issued.of(test.slug, what, outcome.notarised))
        vaccinated = registry.find_resident(session, VACCINATED)
        if vaccinated is not None and service.vaccination_doses(session, vaccinated.id):
            notarised = service.issue_vaccination_from_records(
                session, vaccinated.id, site, settings
            )
            issued.append(_Issued.of("vaccination-tan-ah-kow", "Vaccination", notarised))
    _write(folder, issued)  # once committed, so no file names a certificate that is not there
    revoked = sum(t.revoked for t in TESTS)
    return [
        f"HealthCerts: clinic {CLINIC_NAME} ({CLINIC_DOMAIN}) registered for Notarise, "
        f"{len(issued)} certificates ({revoked} revoked); its officer {CLINIC_OFFICER} "
        "notarises at /healthcerts.",
        f"  Open one on /verify: upload a file from {folder}, or follow a link in "
        f"{folder / 'links.txt'}",
    ]

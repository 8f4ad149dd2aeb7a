"""Building the documents Notarise issues: endorsed PDT certificates and vaccination certificates.

Plain functions over JSON data (no database): the service decides what to endorse, these build
the document exactly as the published Notarise examples lay it out, key order included.
"""

from __future__ import annotations

import base64
import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from smartnation.healthcerts.documents import FHIR_VERSION

PERMITTED_ACTIONS = ["VIEW", "STORE"]
ATTACHMENT_FILENAME = "healthcert.txt"
ATTACHMENT_TYPE = "text/open-attestation"
# encodeURIComponent leaves these unescaped; links must match what the reference apps produce
_URI_COMPONENT_SAFE = "-_.!~*'()"


@dataclass(frozen=True)
class GovernmentIssuer:
    """Who signs endorsed documents, and where its revocations are served."""

    name: str
    did: str
    domain: str
    revocation_type: str  # OCSP_RESPONDER or NONE
    ocsp_location: str

    def as_issuer(self) -> dict[str, Any]:
        revocation: dict[str, Any] = {"type": self.revocation_type}
        if self.revocation_type == "OCSP_RESPONDER":
            revocation["location"] = self.ocsp_location
        return {
            "name": self.name,
            "id": self.did,
            "revocation": revocation,
            "identityProof": {
                "type": "DNS-DID",
                "location": self.domain,
                "key": f"{self.did}#controller",
            },
        }


@dataclass(frozen=True)
class Patient:
    """What Notarise checks about the person a certificate names."""

    name: str
    birth_date: str | None
    gender: str | None
    nric: str | None
    passport_number: str | None
    nationality: str | None


def encode_uri_component(text: str) -> str:
    """JavaScript's encodeURIComponent."""
    return quote(text, safe=_URI_COMPONENT_SAFE)


def compact_json(value: Any) -> str:
    """JSON.stringify(value)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def verify_link(verify_url: str, storage_uri: str, key: str) -> str:
    """The universal action link a QR code carries.

    `q` names the stored document; the decryption key rides in the fragment (`#...`), which
    browsers never send to a server, so neither the storage nor the verify site learns it.
    """
    action = {
        "type": "DOCUMENT",
        "payload": {
            "uri": storage_uri,
            "permittedActions": PERMITTED_ACTIONS,
            "redirect": verify_url,
        },
    }
    fragment = encode_uri_component(compact_json({"key": key}))
    return f"{verify_url}?q={encode_uri_component(compact_json(action))}#{fragment}"


def mask_nric(nric: str) -> str:
    """`S1234567D` -> `S****567D`: the first letter and the last four characters."""
    return nric[0] + "****" + nric[-4:]


def iso_millis(moment: datetime) -> str:
    """`2021-08-24T04:22:36.062Z`, as JavaScript's Date#toISOString prints UTC times."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _resources(bundle: Any) -> list[dict[str, Any]]:
    """The resources of a FHIR bundle: PDT v2 wraps each in `resource`, vaccination v1 does not."""
    entries = bundle.get("entry") if isinstance(bundle, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            resource = entry.get("resource", entry)
            if isinstance(resource, dict):
                found.append(resource)
    return found


def patients(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in _resources(data.get("fhirBundle")) if r.get("resourceType") == "Patient"]


def _identifier_kind(identifier: dict[str, Any]) -> str:
    if isinstance(identifier.get("id"), str):
        return str(identifier["id"])
    kind = identifier.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, dict):
        if isinstance(kind.get("text"), str):
            text = str(kind["text"])
            return "NRIC-FIN" if text == "NRIC" else text
        codings = kind.get("coding")
        if isinstance(codings, list) and codings and isinstance(codings[0], dict):
            return str(codings[0].get("code", ""))
    return ""


def patient_of(data: dict[str, Any]) -> Patient | None:
    """The certificate's patient, or None when there is not exactly one."""
    found = patients(data)
    if len(found) != 1:
        return None
    patient = found[0]
    identifiers = {
        _identifier_kind(i): i.get("value")
        for i in patient.get("identifier", [])
        if isinstance(i, dict) and isinstance(i.get("value"), str)
    }
    names = patient.get("name")
    name = ""
    if isinstance(names, list) and names and isinstance(names[0], dict):
        name = str(names[0].get("text", ""))
    nationality = None
    for extension in (
        patient.get("extension", []) if isinstance(patient.get("extension"), list) else []
    ):
        if not isinstance(extension, dict):
            continue
        concept = None
        for inner in (
            extension.get("extension", []) if isinstance(extension.get("extension"), list) else []
        ):
            if isinstance(inner, dict):
                concept = inner.get("valueCodeableConcept")
        if (
            isinstance(concept, dict)
            and isinstance(concept.get("coding"), list)
            and concept["coding"]
        ):
            nationality = str(concept["coding"][0].get("code", "")) or None
        elif isinstance(extension.get("code"), dict):
            nationality = str(extension["code"].get("text", "")) or None
    birth_date = patient.get("birthDate")
    gender = patient.get("gender")
    return Patient(
        name=name,
        birth_date=birth_date if isinstance(birth_date, str) else None,
        gender=gender if isinstance(gender, str) else None,
        nric=identifiers.get("NRIC-FIN"),
        passport_number=identifiers.get("PPN"),
        nationality=nationality,
    )


def _mask_bundle_nric(bundle: dict[str, Any]) -> dict[str, Any]:
    masked = copy.deepcopy(bundle)
    for patient in [r for r in _resources(masked) if r.get("resourceType") == "Patient"]:
        for identifier in patient.get("identifier", []):
            if (
                isinstance(identifier, dict)
                and _identifier_kind(identifier) == "NRIC-FIN"
                and isinstance(identifier.get("value"), str)
                and "*" not in identifier["value"]
            ):
                identifier["value"] = mask_nric(identifier["value"])
    return masked


def build_endorsed_pdt(
    clinic_document: dict[str, Any],
    clinic_data: dict[str, Any],
    *,
    reference: str,
    notarised_on: datetime,
    link: str,
    issuer: GovernmentIssuer,
    renderer_url: str,
) -> dict[str, Any]:
    """The government's endorsed copy of a clinic's PDT certificate (raw, not yet wrapped).

    New id (the notarisation reference); version, type, validFrom and fhirVersion copied; the
    FHIR bundle with the NRIC masked; the government as issuer; notarisation metadata; the
    clinic's logo; and the clinic's whole signed document attached.
    """
    patient = patient_of(clinic_data)
    endorsed: dict[str, Any] = {
        "id": reference,
        "version": clinic_data["version"],
        "type": clinic_data["type"],
        "validFrom": clinic_data["validFrom"],
        "fhirVersion": clinic_data["fhirVersion"],
        "fhirBundle": _mask_bundle_nric(clinic_data["fhirBundle"]),
        "issuers": [issuer.as_issuer()],
        "$template": {"name": "HEALTH_CERT", "type": "EMBEDDED_RENDERER", "url": renderer_url},
        "notarisationMetadata": {
            "reference": reference,
            "notarisedOn": iso_millis(notarised_on),
            "passportNumber": (patient.passport_number if patient else None) or "",
            "url": link,
        },
    }
    if isinstance(clinic_data.get("logo"), str):
        endorsed["logo"] = clinic_data["logo"]
    endorsed["attachments"] = [
        {
            "filename": ATTACHMENT_FILENAME,
            "type": ATTACHMENT_TYPE,
            "data": base64.b64encode(compact_json(clinic_document).encode("utf-8")).decode(),
        }
    ]
    return endorsed


@dataclass(frozen=True)
class VaccinationDose:
    """One dose from a vaccination record."""

    vaccine_code: str
    vaccine_name: str
    lot_number: str
    occurred_on: str  # YYYY-MM-DD
    site_id: str
    site_name: str


def build_vaccination(
    *,
    reference: str,
    notarised_on: datetime,
    patient: Patient,
    doses: list[VaccinationDose],
    complete_on: str | None,
    link: str,
    issuer: GovernmentIssuer,
    renderer_url: str,
    uuids: list[str],
) -> dict[str, Any]:
    """A vaccination HealthCert v1 (`sg/gov/moh/vaccination-healthcert/1.0`), raw.

    `uuids` supplies the bundle's urn:uuid full URLs (one for the patient, then two per dose, then
    one for the recommendation), so the caller controls randomness.
    """
    supply = iter(uuids)
    patient_url = f"urn:uuid:{next(supply)}"
    identifiers: list[dict[str, Any]] = []
    if patient.passport_number:
        identifiers.append({"type": "PPN", "value": patient.passport_number})
    if patient.nric:
        identifiers.append({"type": {"text": "NRIC"}, "value": mask_nric(patient.nric)})
    patient_resource: dict[str, Any] = {
        "fullUrl": patient_url,
        "resourceType": "Patient",
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-nationality",
                "code": {"text": patient.nationality or "SG"},
            }
        ],
        "identifier": identifiers,
        "name": [{"text": patient.name}],
    }
    if patient.gender:
        patient_resource["gender"] = patient.gender
    patient_resource["birthDate"] = patient.birth_date
    entries: list[dict[str, Any]] = [patient_resource]
    locations: list[dict[str, Any]] = []
    immunizations: list[dict[str, Any]] = []
    for dose in doses:
        location_url = f"urn:uuid:{next(supply)}"
        locations.append(
            {
                "fullUrl": location_url,
                "resourceType": "Location",
                "id": dose.site_id,
                "name": dose.site_name,
                "address": {"country": "SG"},
            }
        )
        immunizations.append(
            {
                "fullUrl": f"urn:uuid:{next(supply)}",
                "resourceType": "Immunization",
                "vaccineCode": {
                    "coding": [
                        {
                            "system": "http://standards.ihis.com.sg",
                            "code": dose.vaccine_code,
                            "display": dose.vaccine_name,
                        }
                    ]
                },
                "lotNumber": dose.lot_number,
                "occurrenceDateTime": dose.occurred_on,
                "patient": {"reference": patient_url},
                "location": {"reference": location_url},
                "performer": [
                    {"actor": {"display": "Designated vaccinator by MOH-approved vaccination site"}}
                ],
            }
        )
    entries.extend(locations)
    entries.extend(immunizations)
    status = ("complete", "Complete") if complete_on else ("incomplete", "Incomplete")
    recommendation: dict[str, Any] = {
        "targetDisease": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "840539006", "display": "COVID-19"}
            ]
        },
        "forecastStatus": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": status[0], "display": status[1]}
            ]
        },
    }
    if complete_on:
        recommendation["dateCriterion"] = [
            {
                "code": {"coding": [{"system": "", "code": "effective", "display": "Effective"}]},
                "value": complete_on,
            }
        ]
    entries.append(
        {
            "fullUrl": f"urn:uuid:{next(supply)}",
            "resourceType": "ImmunizationRecommendation",
            "recommendation": [recommendation],
            "patient": {"reference": patient_url},
        }
    )
    issuer_entry = issuer.as_issuer()
    # the published vaccination schema allows revocation NONE or REVOCATION_STORE only
    issuer_entry["revocation"] = {"type": "NONE"}
    return {
        "id": reference,
        "name": "VaccinationHealthCert",
        "validFrom": iso_millis(notarised_on),
        "fhirVersion": FHIR_VERSION,
        "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries},
        "issuers": [issuer_entry],
        "$template": {"name": "VACCINATION_CERT", "type": "EMBEDDED_RENDERER", "url": renderer_url},
        "notarisationMetadata": {
            "reference": reference,
            "notarisedOn": iso_millis(notarised_on),
            "passportNumber": patient.passport_number or "",
            "url": link,
        },
    }

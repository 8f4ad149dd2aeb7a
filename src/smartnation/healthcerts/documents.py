"""HealthCert documents: schema validation against the published schemas and FHIR content checks.

Validation runs on the unsalted document data. Every problem names the JSON path of the failing
field (`$.fhirBundle.entry[0].resource.birthDate`), so clinics can fix their documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Literal

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from .schemas import load_schema

PDT_VERSION = "pdt-healthcert-v2.0"
FHIR_VERSION = "4.0.1"
PDT_LOINC_CODES: dict[str, frozenset[str]] = {
    "PCR": frozenset({"94309-2", "94531-1"}),
    "ART": frozenset({"97097-0"}),
    "SER": frozenset({"94661-6"}),
    "LAMP": frozenset({"96986-5"}),
}
SNOMED_RESULTS = {"260385009": "Negative", "10828004": "Positive"}
NATIONALITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/patient-nationality"
_NRIC = re.compile(r"[STFGM]\d{7}[A-Z]")
_MASKED_NRIC = re.compile(r"[STFGM]\*{4}\d{3}[A-Z]")

SchemaName = Literal["pdt-clinic", "pdt-endorsed", "vaccination"]
_SCHEMA_FILES: dict[SchemaName, str] = {
    "pdt-clinic": "pdt-healthcert-2.0-clinic-provider.json",
    "pdt-endorsed": "pdt-healthcert-2.0-endorsed.json",
    "vaccination": "vaccination-healthcert-1.0.json",
}
_NOTARISE = "https://schemata.openattestation.com/sg/gov/tech/notarise/1.0/"
_REGISTERED = {
    "https://schema.openattestation.com/2.0/schema.json": "openattestation-2.0-strict.json",
    "https://schemata.openattestation.com/sg/gov/moh/pdt-healthcert/2.0/schema.json": (
        "pdt-healthcert-2.0.json"
    ),
    "https://schemata.openattestation.com/sg/gov/moh/fhir/4.0.1/lite-schema.json": (
        "fhir-4.0.1-lite.json"
    ),
    _NOTARISE + "schema.json": "notarise-1.0.json",
    _NOTARISE + "notarise-open-attestation-schema.json": ("notarise-1.0-open-attestation.json"),
}


@dataclass(frozen=True)
class DocumentProblem:
    """One problem with a HealthCert, at a JSON path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@cache
def _registry() -> Registry:
    resources = [
        (uri, Resource.from_contents(load_schema(name), default_specification=DRAFT7))
        for uri, name in _REGISTERED.items()
    ]
    return Registry().with_resources(resources)


@cache
def _validator(schema_name: SchemaName) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load_schema(_SCHEMA_FILES[schema_name]), registry=_registry())


def schema_problems(data: Any, schema_name: SchemaName) -> list[DocumentProblem]:
    """Problems of unsalted `data` against a published HealthCert schema."""
    errors = sorted(_validator(schema_name).iter_errors(data), key=lambda e: list(e.absolute_path))
    problems = []
    for error in errors:
        # for "any of"/"one of" failures, the deepest cause names the field most precisely
        best = jsonschema.exceptions.best_match([error])
        problems.append(DocumentProblem(_json_path(best.absolute_path), best.message))
    return problems


def nric_checksum_valid(nric: str) -> bool:
    """Singapore NRIC/FIN check letter (S/T, F/G and M series)."""
    if not _NRIC.fullmatch(nric):
        return False
    weights = (2, 7, 6, 5, 4, 3, 2)
    total = sum(int(d) * w for d, w in zip(nric[1:8], weights, strict=True))
    prefix = nric[0]
    if prefix in "TG":
        total += 4
    elif prefix == "M":
        total += 3
    if prefix in "ST":
        letters = "JZIHGFEDCBA"
        return nric[8] == letters[total % 11]
    if prefix in "FG":
        letters = "XWUTRQPNMLK"
        return nric[8] == letters[total % 11]
    letters = "KLJNPQRTUWX"  # M series
    return nric[8] == letters[10 - total % 11]


def _is_datetime(text: Any) -> bool:
    if not isinstance(text, str) or "T" not in text:
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_date(text: Any) -> bool:
    if not isinstance(text, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _entries(bundle: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    found = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource", entry) if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            found.append((index, resource))
    return found


def _first_coding(concept: Any) -> dict[str, Any]:
    if isinstance(concept, dict):
        coding = concept.get("coding")
        if isinstance(coding, list) and coding and isinstance(coding[0], dict):
            first: dict[str, Any] = coding[0]
            return first
    return {}


def _patient_problems(base: str, patient: dict[str, Any]) -> list[DocumentProblem]:
    problems = []
    names = patient.get("name")
    if not (
        isinstance(names, list) and names and isinstance(names[0], dict) and names[0].get("text")
    ):
        problems.append(DocumentProblem(f"{base}.name[0].text", "the patient's name is required"))
    if not _is_date(patient.get("birthDate")):
        problems.append(DocumentProblem(f"{base}.birthDate", "must be a date YYYY-MM-DD"))
    if patient.get("gender") not in ("male", "female", "other", "unknown"):
        problems.append(
            DocumentProblem(f"{base}.gender", "must be one of male, female, other, unknown")
        )
    extensions = patient.get("extension")
    if not (
        isinstance(extensions, list)
        and any(isinstance(e, dict) and e.get("url") == NATIONALITY_EXTENSION for e in extensions)
    ):
        problems.append(
            DocumentProblem(f"{base}.extension", "the patient nationality extension is required")
        )
    identifiers = patient.get("identifier")
    identifiers = identifiers if isinstance(identifiers, list) else []
    ids = {i.get("id"): (n, i) for n, i in enumerate(identifiers) if isinstance(i, dict)}
    if "PPN" not in ids or not ids["PPN"][1].get("value"):
        problems.append(
            DocumentProblem(f"{base}.identifier", "a passport number (PPN) is required")
        )
    if "NRIC-FIN" in ids:
        position, nric = ids["NRIC-FIN"]
        value = str(nric.get("value", ""))
        # Notarised certificates carry the NRIC masked as S****470G
        if not (_MASKED_NRIC.fullmatch(value) or nric_checksum_valid(value)):
            problems.append(
                DocumentProblem(
                    f"{base}.identifier[{position}].value", "not a valid NRIC/FIN (check letter)"
                )
            )
    return problems


def _observation_problems(
    base: str, observation: dict[str, Any], declared: list[str]
) -> list[DocumentProblem]:
    problems = []
    code = _first_coding(observation.get("code"))
    allowed = frozenset().union(*(PDT_LOINC_CODES.get(t, frozenset()) for t in declared))
    if code.get("system") != "http://loinc.org" or code.get("code") not in allowed:
        problems.append(
            DocumentProblem(
                f"{base}.code.coding[0]",
                f"must be a LOINC test code for {'/'.join(declared)} "
                f"(one of {', '.join(sorted(allowed))})",
            )
        )
    result = _first_coding(observation.get("valueCodeableConcept"))
    if result.get("system") != "http://snomed.info/sct" or result.get("code") not in SNOMED_RESULTS:
        problems.append(
            DocumentProblem(
                f"{base}.valueCodeableConcept.coding[0]",
                "must be a SNOMED result: 260385009 (negative) or 10828004 (positive)",
            )
        )
    if not _is_datetime(observation.get("effectiveDateTime")):
        problems.append(DocumentProblem(f"{base}.effectiveDateTime", "must be an ISO date-time"))
    return problems


def pdt_content_problems(
    data: dict[str, Any],
) -> list[DocumentProblem]:
    """FHIR content checks of a PDT v2 HealthCert beyond what its schema says."""
    problems: list[DocumentProblem] = []
    if data.get("version") != PDT_VERSION:
        problems.append(DocumentProblem("$.version", f"must be {PDT_VERSION!r}"))
    raw_type = data.get("type")
    given: list[Any] = raw_type if isinstance(raw_type, list) else [raw_type]
    declared: list[str] = [t for t in given if isinstance(t, str) and t in PDT_LOINC_CODES]
    if not given or len(declared) != len(given):
        problems.append(DocumentProblem("$.type", "must be PCR, ART, SER, LAMP or a list of them"))
    if not _is_datetime(data.get("validFrom")):
        problems.append(DocumentProblem("$.validFrom", "must be an ISO date-time"))
    if data.get("fhirVersion") != FHIR_VERSION:
        problems.append(DocumentProblem("$.fhirVersion", f"must be {FHIR_VERSION!r}"))
    bundle = data.get("fhirBundle")
    if not isinstance(bundle, dict):
        return [*problems, DocumentProblem("$.fhirBundle", "a FHIR Bundle is required")]
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "collection":
        problems.append(DocumentProblem("$.fhirBundle", "must be a Bundle of type 'collection'"))
    by_type: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for index, resource in _entries(bundle):
        path = f"$.fhirBundle.entry[{index}].resource"
        by_type.setdefault(str(resource.get("resourceType")), []).append((path, resource))
    patients = by_type.get("Patient", [])
    if len(patients) != 1:
        problems.append(DocumentProblem("$.fhirBundle.entry", "exactly one Patient is required"))
    for path, patient in patients:
        problems.extend(_patient_problems(path, patient))
    observations = by_type.get("Observation", [])
    if not observations:
        problems.append(DocumentProblem("$.fhirBundle.entry", "an Observation is required"))
    for path, observation in observations:
        problems.extend(_observation_problems(path, observation, declared))
    covered = {
        t
        for _, o in observations
        for t in declared
        if _first_coding(o.get("code")).get("code") in PDT_LOINC_CODES[t]
    }
    for missing in [t for t in declared if t not in covered]:
        problems.append(DocumentProblem("$.type", f"no Observation reports a {missing} test"))
    for resource_type in ("Specimen", "Practitioner", "Organization"):
        if resource_type not in by_type:
            problems.append(
                DocumentProblem("$.fhirBundle.entry", f"a {resource_type} resource is required")
            )
    return problems


def validate_pdt(data: dict[str, Any], *, endorsed: bool = False) -> list[DocumentProblem]:
    """Schema and content problems of an unsalted PDT v2 HealthCert (empty when valid)."""
    schema = schema_problems(data, "pdt-endorsed" if endorsed else "pdt-clinic")
    return [*schema, *pdt_content_problems(data)]


def validate_vaccination(data: dict[str, Any]) -> list[DocumentProblem]:
    """Schema and content problems of an unsalted vaccination HealthCert v1 (empty when valid).

    The schema is the published `sg/gov/moh/vaccination-healthcert/1.0`; on top of it the bundle
    must carry the resources a vaccination certificate is made of.
    """
    problems: list[DocumentProblem] = schema_problems(data, "vaccination")
    bundle = data.get("fhirBundle") if isinstance(data, dict) else None
    kinds = {
        str(r.get("resourceType")) for _, r in _entries(bundle if isinstance(bundle, dict) else {})
    }
    for required in ("Patient", "Immunization", "ImmunizationRecommendation", "Location"):
        if required not in kinds:
            problems.append(
                DocumentProblem("$.fhirBundle.entry", f"a {required} resource is required")
            )
    return problems

"""What a person sees of a certificate: who it is about, the test or vaccine, result, issuer.

Read from the unsalted data of any wrapped document, forgivingly: a field that is missing or of
the wrong type is simply not shown (the verification result says whether to trust the document).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smartnation.core.i18n import N_
from smartnation.healthcerts.documents import SNOMED_RESULTS
from smartnation.healthcerts.endorse import _resources, patient_of
from smartnation.healthcerts.openattestation import get_data
from smartnation.healthcerts.openattestation.fragments import Fragment

RESULT_WORDS = {"Negative": N_("Negative"), "Positive": N_("Positive")}
GENDER_WORDS = {
    "male": N_("Male"),
    "female": N_("Female"),
    "other": N_("Other"),
    "unknown": N_("Unknown"),
}
CHECK_TITLES = {
    "DOCUMENT_INTEGRITY": N_("Document integrity"),
    "DOCUMENT_STATUS": N_("Issuance status"),
    "ISSUER_IDENTITY": N_("Issuer identity"),
}
CHECK_OUTCOMES = {
    ("DOCUMENT_INTEGRITY", "VALID"): N_("The document has not been changed since it was issued."),
    ("DOCUMENT_INTEGRITY", "INVALID"): N_(
        "The document has been changed after it was issued, or it is not a complete document."
    ),
    ("DOCUMENT_STATUS", "VALID"): N_("The document was issued and has not been revoked."),
    ("DOCUMENT_STATUS", "INVALID"): N_(
        "The document has been revoked, or its issuer's signature does not match."
    ),
    ("ISSUER_IDENTITY", "VALID"): N_("The issuer's identity was confirmed through its domain."),
    ("ISSUER_IDENTITY", "INVALID"): N_("The issuer's identity could not be confirmed."),
}
CHECK_ERROR = N_("This could not be checked.")


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _coding(concept: Any) -> dict[str, Any]:
    if isinstance(concept, dict) and isinstance(concept.get("coding"), list):
        first = concept["coding"][0] if concept["coding"] else {}
        return first if isinstance(first, dict) else {}
    return {}


@dataclass(frozen=True)
class TestResult:
    test: str | None
    result: str | None  # Negative, Positive or the display given
    taken_at: str | None


@dataclass(frozen=True)
class VaccineDose:
    vaccine: str | None
    given_on: str | None
    lot_number: str | None
    site: str | None


@dataclass
class CertificateView:
    kind: str  # "test", "vaccination" or "document"
    name: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    nationality: str | None = None
    passport_number: str | None = None
    nric: str | None = None
    test_types: list[str] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    doses: list[VaccineDose] = field(default_factory=list)
    vaccination_complete: bool | None = None
    provider: str | None = None
    issuers: list[str] = field(default_factory=list)
    issuer_domains: list[str] = field(default_factory=list)
    valid_from: str | None = None
    notarised_on: str | None = None
    reference: str | None = None


def describe(document: Any) -> CertificateView | None:
    """A view of the certificate in a wrapped document, or None if there is nothing to show."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        return None
    try:
        data = get_data(document)
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    resources = _resources(data.get("fhirBundle"))
    kinds = {r.get("resourceType") for r in resources}
    view = CertificateView(
        kind="vaccination"
        if "Immunization" in kinds
        else ("test" if "Observation" in kinds else "document")
    )
    patient = patient_of(data)
    if patient is not None:
        view.name = patient.name or None
        view.birth_date = patient.birth_date
        view.gender = patient.gender
        view.nationality = patient.nationality
        view.passport_number = patient.passport_number
        view.nric = patient.nric
    declared = data.get("type")
    view.test_types = (
        [t for t in declared if isinstance(t, str)]
        if isinstance(declared, list)
        else ([declared] if isinstance(declared, str) else [])
    )
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Observation":
            code = _coding(resource.get("code"))
            value = _coding(resource.get("valueCodeableConcept"))
            result = SNOMED_RESULTS.get(str(value.get("code")), _text(value.get("display")))
            view.tests.append(
                TestResult(
                    _text(code.get("display")), result, _text(resource.get("effectiveDateTime"))
                )
            )
        elif kind == "Immunization":
            vaccine = _coding(resource.get("vaccineCode"))
            view.doses.append(
                VaccineDose(
                    _text(vaccine.get("display")),
                    _text(resource.get("occurrenceDateTime")),
                    _text(resource.get("lotNumber")),
                    None,
                )
            )
        elif kind == "ImmunizationRecommendation":
            recommendations = resource.get("recommendation")
            if isinstance(recommendations, list) and recommendations:
                status = (
                    _coding(recommendations[0].get("forecastStatus"))
                    if isinstance(recommendations[0], dict)
                    else {}
                )
                view.vaccination_complete = status.get("code") == "complete"
        elif kind == "Organization" and view.provider is None:
            types = resource.get("type")
            first_type = types[0] if isinstance(types, list) and types else {}
            if isinstance(first_type, dict) and _coding(first_type).get("code") == "prov":
                view.provider = _text(resource.get("name"))
    for issuer in data.get("issuers", []) if isinstance(data.get("issuers"), list) else []:
        if isinstance(issuer, dict):
            if _text(issuer.get("name")):
                view.issuers.append(issuer["name"])
            proof = issuer.get("identityProof")
            if isinstance(proof, dict) and _text(proof.get("location")):
                view.issuer_domains.append(proof["location"])
    view.valid_from = _text(data.get("validFrom"))
    metadata = data.get("notarisationMetadata")
    if isinstance(metadata, dict):
        view.notarised_on = _text(metadata.get("notarisedOn"))
        view.reference = _text(metadata.get("reference"))
    return view


@dataclass(frozen=True)
class CheckSummary:
    """One of the three checks, in plain words."""

    type: str
    status: str  # VALID, INVALID or ERROR
    title: str
    outcome: str
    detail: str | None


def summarise(fragments: list[Fragment]) -> list[CheckSummary]:
    """The three checks a person cares about, folded from the verifier's fragments."""
    summaries = []
    for kind in ("DOCUMENT_INTEGRITY", "DOCUMENT_STATUS", "ISSUER_IDENTITY"):
        of_kind = [f for f in fragments if f.type == kind]
        statuses = {f.status for f in of_kind}
        if "INVALID" in statuses:
            status = "INVALID"
        elif "VALID" in statuses and statuses <= {"VALID", "SKIPPED"}:
            status = "VALID"
        else:
            status = "ERROR"
        detail = None
        for fragment in of_kind:
            if fragment.status == status and fragment.reason is not None:
                detail = f"{fragment.reason.code_string}: {fragment.reason.message}"
                break
        if detail is None and status == "ERROR":
            for fragment in of_kind:
                if fragment.status == "ERROR" and fragment.reason is not None:
                    detail = f"{fragment.reason.code_string}: {fragment.reason.message}"
                    break
        summaries.append(
            CheckSummary(
                type=kind,
                status=status,
                title=CHECK_TITLES[kind],
                outcome=CHECK_OUTCOMES.get((kind, status), CHECK_ERROR),
                detail=detail,
            )
        )
    return summaries

"""HealthCerts endpoints under /api/v1/healthcerts/: Notarise for clinics, Verify for everyone,
the encrypted document storage the QR links name, and the OCSP responder for revocations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from smartnation.core.errors import FieldProblem, InvalidInput
from smartnation.core.web.auth import Public, require_role
from smartnation.core.web.deps import DbSession
from smartnation.healthcerts import service
from smartnation.healthcerts.certificate import CertificateView
from smartnation.healthcerts.models import Clinic, NotarisedCertificate
from smartnation.healthcerts.qr import qr_png_data_uri, qr_svg
from smartnation.healthcerts.uploads import json_batch_body, json_document_body

router = APIRouter(prefix=service.API_PREFIX, tags=["healthcerts"])
ADMIN = Depends(require_role("healthcerts.admin"))
NOTARISE = Depends(require_role("healthcerts.notarise", "healthcerts.admin"))
# the storage and the OCSP responder are read by verifier apps on other sites
OPEN_TO_ALL_ORIGINS = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
JsonDocument = Annotated[Any, Depends(json_document_body)]
JsonBatch = Annotated[Any, Depends(json_batch_body)]


def _site(request: Request) -> service.Site:
    return service.Site(request.app.state.settings.web.base_url)


class ClinicIn(BaseModel):
    uen: str = Field(max_length=20, examples=["201912345K"])
    domain: str = Field(max_length=253, examples=["clinic.example.sg"])
    did: str = Field(
        max_length=80, examples=["did:ethr:0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1"]
    )


class ClinicOut(BaseModel):
    id: int
    uen: str
    name: str
    domain: str
    did: str
    status: str
    dns_txt_record: str

    @classmethod
    def of(cls, clinic: Clinic) -> ClinicOut:
        return cls(
            id=clinic.id,
            uen=clinic.uen,
            name=clinic.name,
            domain=clinic.domain,
            did=clinic.did,
            status=clinic.status,
            dns_txt_record=clinic.dns_did_record,
        )


class RevocationIn(BaseModel):
    reasonCode: int = Field(examples=[4])


def _certificate_out(session: DbSession, certificate: NotarisedCertificate) -> dict[str, Any]:
    revocation = service.revocation_of(session, certificate)
    return {
        "reference": certificate.reference,
        "kind": certificate.kind,
        "type": certificate.test_type,
        "clinic": certificate.clinic.name if certificate.clinic else None,
        "patientName": certificate.patient_name,
        "maskedNric": certificate.masked_nric,
        "passportNumber": certificate.passport_number,
        "targetHash": certificate.target_hash,
        "merkleRoot": certificate.merkle_root,
        "notarisedAt": certificate.notarised_at.isoformat(),
        "revoked": revocation is not None,
        "reasonCode": revocation.reason_code if revocation else None,
    }


def _notarised_out(notarised: service.Notarised, with_qr: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "reference": notarised.certificate.reference,
        "url": notarised.link,
        "document": notarised.document,
    }
    if with_qr:
        body["qrCode"] = {"png": qr_png_data_uri(notarised.link), "svg": qr_svg(notarised.link)}
    return body


@router.post("/clinics", status_code=201, dependencies=[ADMIN])
def register_clinic(body: ClinicIn, session: DbSession) -> ClinicOut:
    """Register a clinic (a business in the registry) with its domain and DID."""
    return ClinicOut.of(
        service.register_clinic(session, uen=body.uen, domain=body.domain, did=body.did)
    )


@router.get("/clinics", dependencies=[ADMIN])
def list_clinics(session: DbSession) -> list[ClinicOut]:
    """Every registered clinic."""
    return [ClinicOut.of(c) for c in service.list_clinics(session)]


@router.post("/notarise", status_code=201, dependencies=[NOTARISE])
def notarise(request: Request, document: JsonDocument, session: DbSession) -> dict[str, Any]:
    """Notarise one wrapped, signed PDT certificate: the endorsed document, link and QR code."""
    return _notarised_out(service.notarise(session, document, _site(request)), with_qr=True)


@router.post("/notarise/batch", dependencies=[NOTARISE])
def notarise_batch(request: Request, body: JsonBatch, session: DbSession) -> dict[str, Any]:
    """Notarise a batch `{"documents": [...]}`: each result is notarised or refused with reasons."""
    documents = body.get("documents") if isinstance(body, dict) else None
    if not isinstance(documents, list):
        raise InvalidInput(FieldProblem("documents", "Give a list of documents.", "not_a_list"))
    outcomes = service.notarise_batch(session, documents, _site(request))
    results = []
    for outcome in outcomes:
        if outcome.notarised is not None:
            results.append(
                {"index": outcome.index, "status": "notarised"}
                | _notarised_out(outcome.notarised, with_qr=False)
            )
        else:
            results.append(
                {
                    "index": outcome.index,
                    "status": "refused",
                    "errors": [p.as_dict() for p in outcome.problems],
                }
            )
    return {
        "notarised": sum(1 for o in outcomes if o.notarised is not None),
        "refused": sum(1 for o in outcomes if o.notarised is None),
        "results": results,
    }


@router.get("/certificates/{reference}", dependencies=[ADMIN])
def get_certificate(reference: str, session: DbSession) -> dict[str, Any]:
    """A notarised certificate's record (never its content: that is stored encrypted)."""
    return _certificate_out(session, service.get_certificate(session, reference))


@router.post("/certificates/{reference}/revocation", status_code=201, dependencies=[ADMIN])
def revoke(reference: str, body: RevocationIn, session: DbSession) -> dict[str, Any]:
    """Revoke a notarised certificate with an RFC 5280 reason code (0-10 except 7, or 1001)."""
    service.revoke(session, reference, body.reasonCode)
    return _certificate_out(session, service.get_certificate(session, reference))


@router.get("/ocsp/{document_hash}", dependencies=[Public])
def ocsp(document_hash: str, session: DbSession) -> JSONResponse:
    """OCSP responder for OpenAttestation: `{revoked, documentHash, reasonCode?}`."""
    return JSONResponse(service.ocsp_answer(session, document_hash), headers=OPEN_TO_ALL_ORIGINS)


@router.get("/documents/{storage_id}", dependencies=[Public])
def stored_document(storage_id: str, session: DbSession) -> JSONResponse:
    """The encrypted document a QR link names, `{"document": {cipherText, iv, tag, type}}`."""
    return JSONResponse(
        {"document": service.stored_document(session, storage_id)}, headers=OPEN_TO_ALL_ORIGINS
    )


def _view_out(view: CertificateView | None) -> dict[str, Any] | None:
    if view is None:
        return None
    return {
        "kind": view.kind,
        "name": view.name,
        "birthDate": view.birth_date,
        "gender": view.gender,
        "nationality": view.nationality,
        "passportNumber": view.passport_number,
        "nric": view.nric,
        "types": view.test_types,
        "tests": [{"test": t.test, "result": t.result, "takenAt": t.taken_at} for t in view.tests],
        "doses": [
            {"vaccine": d.vaccine, "givenOn": d.given_on, "lotNumber": d.lot_number}
            for d in view.doses
        ],
        "issuers": view.issuers,
        "issuerDomains": view.issuer_domains,
        "notarisedOn": view.notarised_on,
        "reference": view.reference,
    }


@router.post("/verify", dependencies=[Public])
def verify(
    request: Request,
    document: JsonDocument,
    session: DbSession,
    summary: Annotated[bool, Query(description="Add the checks and certificate in words")] = True,
) -> dict[str, Any]:
    """Verify a document: the fragments oa-verify would return, and whether it is valid."""
    result = service.verify(session, document, _site(request))
    body: dict[str, Any] = {
        "valid": result.valid,
        "fragments": [f.to_json() for f in result.fragments],
    }
    if summary:
        body["checks"] = [
            {"type": c.type, "status": c.status, "detail": c.detail} for c in result.checks
        ]
        body["certificate"] = _view_out(result.certificate)
    return body

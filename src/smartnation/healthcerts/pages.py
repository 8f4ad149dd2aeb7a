"""HealthCerts pages: Verify for everyone, Notarise for officers.

Verify works without JavaScript (a plain file upload form). With JavaScript, a file can be dropped
on the page, and a QR link `/verify?q=...#<key>` is opened in the browser: the script fetches the
encrypted document, decrypts it with the key from the fragment (which never reaches the server)
and submits the decrypted document through the same form for checking.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartnation.core.errors import DomainError, InvalidInput, NotAllowed
from smartnation.core.i18n import N_
from smartnation.core.validators import is_valid_nric
from smartnation.core.web.auth import Anyone, Principal, public, require_role
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import ServiceLink, get_templates
from smartnation.healthcerts import service
from smartnation.healthcerts.certificate import GENDER_WORDS, RESULT_WORDS
from smartnation.healthcerts.config import get_healthcerts_settings
from smartnation.healthcerts.endorse import compact_json
from smartnation.healthcerts.openattestation.ocsp import OCSP_REVOCATION_REASONS
from smartnation.healthcerts.qr import qr_png_data_uri
from smartnation.healthcerts.uploads import parse_json_document, too_large, upload_size_guard
from smartnation.registry import service as registry

router = APIRouter(include_in_schema=False)
SERVICES = [
    ServiceLink(
        N_("Verify a HealthCert"),
        N_("Check a COVID-19 test or vaccination certificate: upload it or scan its QR code."),
        "/verify",
    ),
    ServiceLink(
        N_("Your vaccination HealthCert"),
        N_("Get a certificate of the COVID-19 vaccinations recorded for you, with its QR code."),
        "/healthcerts/vaccination",
    ),
    ServiceLink(
        N_("Notarise HealthCerts"),
        N_("For officers: register clinics, endorse their certificates, revoke certificates."),
        "/healthcerts",
    ),
]
Officer = Annotated[Principal, Depends(require_role("healthcerts.admin", "healthcerts.notarise"))]
Admin = Annotated[Principal, Depends(require_role("healthcerts.admin"))]
FORM_GUARDS = [Depends(upload_size_guard), Depends(verify_csrf)]
REASON_WORDS = {
    0: N_("Unspecified"),
    1: N_("Key compromised"),
    2: N_("Certificate authority compromised"),
    3: N_("Affiliation changed"),
    4: N_("Superseded by a newer certificate"),
    5: N_("Cessation of operation"),
    6: N_("Certificate on hold"),
    8: N_("Removed from the revocation list"),
    9: N_("Privilege withdrawn"),
    10: N_("Attribute authority compromised"),
    1001: N_("Suspended"),
}


def _site(request: Request) -> service.Site:
    return service.Site(request.app.state.settings.web.base_url)


def _uploaded_document(file: UploadFile | None, text: str | None) -> Any:
    """The document from a file upload or from the `document` field the script fills.

    Endpoints using it are plain functions: verifying may wait on an OCSP responder, which must
    not hold up the event loop.
    """
    limit = get_healthcerts_settings().max_upload_bytes
    if file is not None and file.filename:
        raw = file.file.read(limit + 1)
        if len(raw) > limit:
            raise too_large(limit)
        return parse_json_document(raw)
    if text:
        encoded = text.encode("utf-8")
        if len(encoded) > limit:
            raise too_large(limit)
        return parse_json_document(encoded)
    return parse_json_document(b"")


@router.get("/verify", response_class=HTMLResponse, dependencies=[Depends(public)])
def verify_page(request: Request) -> HTMLResponse:
    return get_templates(request).render(
        request, "healthcerts/verify.html", {"result": None, "problem": None, "words": _words()}
    )


def _words() -> dict[str, Any]:
    return {"results": RESULT_WORDS, "genders": GENDER_WORDS}


@router.post("/verify", response_class=HTMLResponse, dependencies=[Depends(public), *FORM_GUARDS])
def verify_upload(
    request: Request,
    session: DbSession,
    file: Annotated[UploadFile | None, Form()] = None,
    document: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Check an uploaded certificate and show each check and the certificate."""
    result, problem = None, None
    try:
        parsed = _uploaded_document(file, document)
    except DomainError as error:
        problem = error
    else:
        result = service.verify(session, parsed, _site(request))
    return get_templates(request).render(
        request,
        "healthcerts/verify.html",
        {"result": result, "problem": problem, "words": _words()},
        status_code=200 if problem is None else problem.status,
    )


@router.get("/healthcerts/static/verify.js", dependencies=[Depends(public)])
def verify_script() -> Response:
    script = resources.files("smartnation.healthcerts").joinpath("static/verify.js").read_text()
    return Response(
        script,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


def _dashboard(
    request: Request,
    session: DbSession,
    *,
    notarised: service.Notarised | None = None,
    outcomes: list[service.NotariseOutcome] | None = None,
    problem: DomainError | None = None,
    clinic_problem: DomainError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    settings = get_healthcerts_settings()
    return get_templates(request).render(
        request,
        "healthcerts/officer.html",
        {
            "clinics": service.list_clinics(session),
            "certificates": service.recent_certificates(session, 20),
            "notarised": notarised,
            "notarised_qr": qr_png_data_uri(notarised.link) if notarised else None,
            "notarised_json": compact_json(notarised.document) if notarised else None,
            "outcomes": outcomes,
            "problem": problem,
            "clinic_problem": clinic_problem,
            "settings": settings,
        },
        status_code=status_code,
    )


@router.get("/healthcerts", response_class=HTMLResponse)
def officer_page(request: Request, session: DbSession, _officer: Officer) -> HTMLResponse:
    return _dashboard(request, session)


@router.post("/healthcerts/notarise", response_class=HTMLResponse, dependencies=FORM_GUARDS)
def notarise_upload(
    request: Request,
    session: DbSession,
    _officer: Officer,
    file: Annotated[UploadFile | None, Form()] = None,
) -> HTMLResponse:
    """Notarise an uploaded certificate (one document, or a JSON list for a batch)."""
    try:
        parsed = _uploaded_document(file, None)
        if isinstance(parsed, list):
            outcomes = service.notarise_batch(session, parsed, _site(request))
            return _dashboard(request, session, outcomes=outcomes)
        notarised = service.notarise(session, parsed, _site(request))
    except DomainError as error:
        return _dashboard(request, session, problem=error, status_code=error.status)
    return _dashboard(request, session, notarised=notarised, status_code=201)


@router.post("/healthcerts/clinics", response_class=HTMLResponse, dependencies=FORM_GUARDS)
def register_clinic(
    request: Request,
    session: DbSession,
    _admin: Admin,
    uen: Annotated[str, Form(max_length=20)] = "",
    domain: Annotated[str, Form(max_length=253)] = "",
    did: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    try:
        service.register_clinic(session, uen=uen, domain=domain, did=did)
    except DomainError as error:
        return _dashboard(request, session, clinic_problem=error, status_code=error.status)
    return RedirectResponse("/healthcerts#clinics", status_code=303)


@router.get("/healthcerts/certificates/{reference}", response_class=HTMLResponse)
def certificate_page(
    request: Request, reference: str, session: DbSession, _officer: Officer
) -> HTMLResponse:
    certificate = service.get_certificate(session, reference)
    return get_templates(request).render(
        request,
        "healthcerts/certificate.html",
        {
            "certificate": certificate,
            "revocation": service.revocation_of(session, certificate),
            "reasons": {code: REASON_WORDS[code] for code in OCSP_REVOCATION_REASONS},
            "problem": None,
        },
    )


@router.post(
    "/healthcerts/certificates/{reference}/revoke",
    response_class=HTMLResponse,
    dependencies=FORM_GUARDS,
)
def revoke_certificate(
    request: Request,
    reference: str,
    session: DbSession,
    _admin: Admin,
    reason_code: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    try:
        code = int(reason_code)
    except ValueError:
        code = -1
    try:
        service.revoke(session, reference, code)
    except InvalidInput as error:
        certificate = service.get_certificate(session, reference)
        return get_templates(request).render(
            request,
            "healthcerts/certificate.html",
            {
                "certificate": certificate,
                "revocation": None,
                "reasons": {c: REASON_WORDS[c] for c in OCSP_REVOCATION_REASONS},
                "problem": error,
            },
            status_code=error.status,
        )
    return RedirectResponse(f"/healthcerts/certificates/{reference}", status_code=303)


# Residents: a vaccination HealthCert from the doses recorded for them --------------------------


def _resident_id(session: DbSession, person: Principal) -> int | None:
    nric = str(person.attributes.get("nric") or person.id).upper()
    if not is_valid_nric(nric):
        raise NotAllowed(N_("Log in with your own NRIC/FIN to do this."))
    resident = registry.find_resident(session, nric)
    return resident.id if resident is not None else None


def _vaccination_page(
    request: Request,
    session: DbSession,
    person: Principal,
    issued: service.Notarised | None = None,
    problem: DomainError | None = None,
) -> HTMLResponse:
    resident_id = _resident_id(session, person)
    doses = service.vaccination_doses(session, resident_id) if resident_id is not None else []
    return get_templates(request).render(
        request,
        "healthcerts/vaccination.html",
        {
            "doses": doses,
            "issued": issued,
            "issued_qr": qr_png_data_uri(issued.link) if issued else None,
            "issued_json": compact_json(issued.document) if issued else None,
            "problem": problem,
        },
        status_code=problem.status if problem else (201 if issued else 200),
    )


@router.get("/healthcerts/vaccination", response_class=HTMLResponse)
def vaccination_page(request: Request, session: DbSession, person: Anyone) -> HTMLResponse:
    return _vaccination_page(request, session, person)


@router.post(
    "/healthcerts/vaccination", response_class=HTMLResponse, dependencies=[Depends(verify_csrf)]
)
def issue_vaccination(request: Request, session: DbSession, person: Anyone) -> HTMLResponse:
    """Issue the person's vaccination HealthCert from their recorded doses."""
    resident_id = _resident_id(session, person)
    try:
        if resident_id is None:
            raise NotAllowed(N_("We have no record of you in the national registry."))
        issued = service.issue_vaccination_from_records(session, resident_id, _site(request))
    except DomainError as error:
        return _vaccination_page(request, session, person, problem=error)
    return _vaccination_page(request, session, person, issued=issued)

"""Tracing endpoints under /api/v1/tracing/: the TraceTogether app, officers, SafeEntry, GAEN.

Phones authenticate with their device token (`Authorization: Bearer tt_...`, given once at
registration) and uploads with their upload token, so those routes are public at the platform
level and checked by the service. Officer routes need `health.officer`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from smartnation.core.errors import DomainError, NotFound
from smartnation.core.i18n import N_
from smartnation.core.web.auth import Public, require_role
from smartnation.core.web.bodies import read_limited_body
from smartnation.core.web.deps import DbSession
from smartnation.core.web.problems import problem_response
from smartnation.tracing import service
from smartnation.tracing.models import Case, Contact
from smartnation.tracing.problems import UploadNotAuthorised, UploadTooLarge
from smartnation.tracing.schemas import (
    CaseIn,
    CaseOut,
    CheckInIn,
    CheckInOut,
    ContactOut,
    ContactPageOut,
    IssuedCodeOut,
    NotifyIn,
    NotifyOut,
    PublicVisitOut,
    PublishIn,
    PublishOut,
    RegisteredOut,
    RegistrationIn,
    RegistrationOut,
    ResolutionOut,
    ReviewIn,
    UploadCodeIn,
    UploadOut,
    UploadTokenOut,
    VenueIn,
    VenueOut,
    VerificationCodeOut,
    VerifyIn,
)
from smartnation.tracing.settings import get_tracing_settings

router = APIRouter(prefix="/api/v1/tracing", tags=["tracing"])
OFFICER = Depends(require_role(service.HEALTH_OFFICER))
VENUE_ADMIN = Depends(require_role(service.SAFEENTRY_ADMIN))
GATEWAY = Depends(require_role(service.SAFEENTRY_GATEWAY, service.SAFEENTRY_STAFF))
Authorization = Annotated[str | None, Header()]


# --- The TraceTogether app and token -------------------------------------------------------


@router.post("/registrations", status_code=201, dependencies=[Public])
def start_registration(body: RegistrationIn, session: DbSession) -> RegistrationOut:
    """Register an app or token user; a one-time code is sent to the phone by SMS."""
    started = service.start_registration(session, **body.model_dump())
    return RegistrationOut(registration_id=started.registration_id, expires_at=started.expires_at)


@router.post(
    "/registrations/{registration_id}/verify",
    dependencies=[Public],
    response_model=RegisteredOut,
)
def verify_registration(registration_id: str, body: VerifyIn, session: DbSession) -> Response:
    """Verify the phone with its code: the answer holds the uid and the device token (once)."""
    result = service.verify_registration(session, registration_id[:64], body.code)
    if result.problem is not None:
        return problem_response(result.problem.problem())
    assert result.user is not None
    out = RegisteredOut(
        uid=result.user.uid, kind=result.user.kind, device_token=result.user.device_token
    )
    return JSONResponse(out.model_dump())


@router.get("/tempids", dependencies=[Public])
def get_tempids(session: DbSession, authorization: Authorization = None) -> JSONResponse:
    """getTempIDs: a batch of TempIDs in OpenTrace's layout, for the device's user."""
    user = service.authenticate_device(session, authorization)
    return JSONResponse(service.issue_tempids(user))


@router.post("/upload-token", dependencies=[Public], response_model=UploadTokenOut)
def get_upload_token(
    body: UploadCodeIn, session: DbSession, authorization: Authorization = None
) -> Response:
    """getUploadToken: exchange the upload code an officer gave for an upload token (once).

    A refused code is audited against the device (the service writes nothing before refusing,
    so the entry commits alone); too many in a while and the device must wait (429).
    """
    user = service.authenticate_device(session, authorization)
    try:
        token = service.exchange_upload_code(session, user, body.code)
    except UploadNotAuthorised as error:
        service.record_refused_code(session, user, reason=error.code)
        return problem_response(error.problem())
    return JSONResponse(UploadTokenOut(token=token).model_dump())


@router.post(
    "/uploads",
    status_code=201,
    dependencies=[Public],
    response_model=UploadOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def upload_encounters(request: Request, session: DbSession) -> Response:
    """Upload the phone's encounter log `{token, records, events}` with its upload token.

    A refused upload is answered with a problem document and audited; the service refuses before
    it writes anything, so the audit entry commits alone.
    """
    limit = get_tracing_settings().upload_max_bytes
    declared = request.headers.get("content-length", "")
    size = int(declared) if declared.isdigit() else 0
    try:
        content = await read_limited_body(
            request, limit, lambda: UploadTooLarge(f"the upload is larger than {limit} bytes")
        )
        size = len(content)
        receipt = await run_in_threadpool(service.receive_upload, session, content)
    except DomainError as error:
        await run_in_threadpool(
            service.record_refused_upload,
            session,
            reason=error.code,
            message=error.message,
            size=size,
        )
        return problem_response(error.problem())
    out = UploadOut(
        upload_id=receipt.upload_id,
        records=receipt.records_received,
        counts=receipt.counts,
        duplicate_records=receipt.duplicate_records,
    )
    return JSONResponse(out.model_dump(), status_code=201)


# --- Health officers -----------------------------------------------------------------------


def _case_out(case: Case) -> CaseOut:
    return CaseOut(
        id=case.id,
        reference=case.reference,
        status=case.status,
        resolution=case.resolution,
        resolution_summary=case.resolution_summary,
        created_at=case.created_at,
    )


@router.post("/cases", status_code=201, dependencies=[OFFICER])
def open_case(body: CaseIn, session: DbSession) -> CaseOut:
    """Open a case for a confirmed person."""
    return _case_out(service.open_case(session, body.nric))


@router.get("/cases/{case_id}", dependencies=[OFFICER])
def get_case(case_id: int, session: DbSession) -> CaseOut:
    """A case and the state of its contact list."""
    return _case_out(service.get_case(session, case_id))


@router.post("/cases/{case_id}/upload-codes", status_code=201, dependencies=[OFFICER])
def issue_upload_code(case_id: int, session: DbSession) -> IssuedCodeOut:
    """A single-use upload code to read to the case (shown once)."""
    issued = service.issue_upload_code(session, case_id)
    return IssuedCodeOut(code=issued.code, expires_at=issued.expires_at)


@router.post("/cases/{case_id}/resolve", dependencies=[OFFICER])
def resolve_case(case_id: int, session: DbSession) -> ResolutionOut:
    """Rebuild the case's ranked contact list now (it is also rebuilt after each upload)."""
    summary = service.resolve_case(session, case_id)
    return ResolutionOut(**summary.__dict__)


def _contact_out(contact: Contact) -> ContactOut:
    return ContactOut(
        id=contact.id,
        rank=contact.rank,
        nric=contact.nric,
        name=contact.name,
        phone=contact.phone,
        sources=contact.sources,
        is_close=contact.is_close,
        close_minutes=round(contact.close_seconds / 60, 1),
        total_minutes=round(contact.total_seconds / 60, 1),
        closest_distance_m=contact.closest_distance_m,
        safeentry_overlap_minutes=round(contact.overlap_seconds / 60, 1),
        venues=contact.venues,
        first_exposure=contact.first_exposure,
        last_exposure=contact.last_exposure,
        status=contact.status,
    )


@router.get("/cases/{case_id}/contacts", dependencies=[OFFICER])
def list_contacts(
    case_id: int,
    session: DbSession,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    close_only: bool = False,
) -> ContactPageOut:
    """The case's ranked contacts (every look is audited)."""
    found = service.view_contacts(
        session, case_id, page=page, per_page=per_page, close_only=close_only, purpose="api"
    )
    return ContactPageOut(
        total=found.total,
        page=found.page,
        per_page=found.per_page,
        contacts=[_contact_out(c) for c in found.contacts],
    )


@router.get("/cases/{case_id}/contacts.csv", dependencies=[OFFICER])
def export_contacts(case_id: int, session: DbSession) -> Response:
    """Every contact of the case as CSV (audited)."""
    return _csv(case_id, service.export_contacts_csv(session, case_id))


def _csv(case_id: int, body: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="case-{case_id}-contacts.csv"',
            "cache-control": "no-store",
        },
    )


@router.post("/cases/{case_id}/contacts/review", dependencies=[OFFICER])
def review_contacts(case_id: int, body: ReviewIn, session: DbSession) -> dict[str, int]:
    """Confirm or dismiss proposed contacts."""
    changed = service.review_contacts(session, case_id, confirm=body.confirm, dismiss=body.dismiss)
    return {"changed": changed}


@router.post("/cases/{case_id}/notify", dependencies=[OFFICER])
def notify_contacts(case_id: int, body: NotifyIn, session: DbSession) -> NotifyOut:
    """Serve quarantine orders on the confirmed contacts by SMS or WhatsApp."""
    report = service.notify_confirmed_contacts(
        session, case_id, channel=body.channel, language=body.language
    )
    return NotifyOut(**report.__dict__)


@router.post("/cases/{case_id}/verification-codes", status_code=201, dependencies=[OFFICER])
def issue_verification_code(case_id: int, session: DbSession) -> VerificationCodeOut:
    """An Exposure Notification verification code for the case to publish keys with."""
    service.get_case(session, case_id)
    code, expires = service.issue_verification_code(session, case_id)
    return VerificationCodeOut(code=code, expires_at=expires)


# --- SafeEntry -----------------------------------------------------------------------------


@router.post("/safeentry/venues", status_code=201, dependencies=[VENUE_ADMIN])
def register_venue(body: VenueIn, request: Request, session: DbSession) -> VenueOut:
    """Register a venue of a business in the registry; its QR id is derived from the UEN."""
    venue = service.register_venue(session, body.uen, branch=body.branch, name=body.name)
    base = request.app.state.settings.web.base_url
    return VenueOut(
        code=venue.code,
        name=venue.name,
        uen=venue.uen,
        branch=venue.branch,
        postal_code=venue.postal_code,
        url=service.venue_url(base, venue),
    )


@router.get("/safeentry/venues/{code}/qr.{kind}", dependencies=[Public])
def venue_qr(code: str, kind: str, request: Request, session: DbSession) -> Response:
    """The venue's QR code as an SVG or PNG image."""
    if kind not in ("svg", "png"):
        raise NotFound(N_("Use qr.svg or qr.png."))
    venue = service.get_venue(session, code)
    image = service.qr_image(
        service.venue_url(request.app.state.settings.web.base_url, venue), kind
    )
    media = "image/svg+xml" if kind == "svg" else "image/png"
    return Response(image, media_type=media, headers={"cache-control": "public, max-age=86400"})


@router.post("/safeentry/checkins", status_code=201, dependencies=[GATEWAY])
def gateway_check_in(body: CheckInIn, session: DbSession) -> CheckInOut:
    """Check in at a gateway: staff scanning an NRIC, or a TraceTogether token or app."""
    if body.method == "tt_token":
        visit = service.check_in_tracetogether(session, body.venue_code, uid=body.uid or "")
    else:
        visit = service.check_in(
            session, body.venue_code, nric=body.nric or "", method="staff_scan", mobile=body.mobile
        )
    return CheckInOut(
        id=visit.id,
        venue_code=body.venue_code.strip().upper(),
        checked_in_at=visit.checked_in_at,
        checked_out_at=visit.checked_out_at,
    )


@router.post("/safeentry/checkins/{checkin_id}/check-out", dependencies=[GATEWAY])
def gateway_check_out(checkin_id: int, session: DbSession) -> CheckInOut:
    """Check a visitor out at a gateway."""
    visit = service.check_out(session, checkin_id)
    _, venue = service.get_checkin(session, checkin_id)
    return CheckInOut(
        id=visit.id,
        venue_code=venue.code,
        checked_in_at=visit.checked_in_at,
        checked_out_at=visit.checked_out_at,
    )


@router.get("/safeentry/case-visits", dependencies=[Public])
def case_visits(session: DbSession) -> list[PublicVisitOut]:
    """Places and times cases visited in the last 14 days (no personal data)."""
    return [
        PublicVisitOut(
            venue=v.venue_name,
            postal_code=v.postal_code,
            from_=v.checked_in_at,
            to=v.checked_out_at,
        )
        for v in service.public_case_visits(session)
    ]


# --- Exposure Notification key server ------------------------------------------------------


@router.post("/exposure/publish", dependencies=[Public])
def publish_keys(body: PublishIn, session: DbSession) -> PublishOut:
    """Publish Temporary Exposure Keys with a verification code (at most 30, 14 days old)."""
    return PublishOut(published=service.publish_keys(session, body.verification_code, body.keys))


@router.get("/exposure/exports/index.txt", dependencies=[Public])
def export_index(session: DbSession) -> PlainTextResponse:
    """The export files available, one path a line, as phones poll for them."""
    lines = [f"exposure/exports/{day.isoformat()}.zip" for day in service.export_days(session)]
    return PlainTextResponse("\n".join(lines) + ("\n" if lines else ""))


@router.get("/exposure/exports/{day}.zip", dependencies=[Public])
def export_file(day: date, session: DbSession) -> Response:
    """A signed `EK Export v1` archive of the keys published that UTC day."""
    archive = service.export_archive(session, day)
    return Response(
        archive,
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{day.isoformat()}.zip"'},
    )


@router.get("/exposure/public-key.pem", dependencies=[Public])
def export_public_key() -> PlainTextResponse:
    """The ECDSA P-256 public key that verifies export files."""
    return PlainTextResponse(service.public_key_pem(), media_type="application/x-pem-file")

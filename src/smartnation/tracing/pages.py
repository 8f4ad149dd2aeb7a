"""Tracing pages: officers' case work, SafeEntry check-in, posters, history, case visits.

Contacts are shown only to health officers, and every page that shows them is audited by the
service. Check-in pages are mobile-first and work without JavaScript.
"""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartnation.core.errors import DomainError, InvalidInput, NotFound
from smartnation.core.i18n import N_
from smartnation.core.validators import is_valid_nric
from smartnation.core.web.auth import Principal, current_principal, public, require_role
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import ServiceLink, get_templates
from smartnation.tracing import service

router = APIRouter(include_in_schema=False)
SERVICES = [
    ServiceLink(
        N_("SafeEntry: my check-ins"),
        N_("See the places you checked in to in the last 25 days."),
        "/safeentry/history",
    ),
    ServiceLink(
        N_("Places visited by cases"),
        N_("Public places and times where COVID-19 cases were, so you can monitor your health."),
        "/safeentry/case-visits",
    ),
    ServiceLink(
        N_("Contact tracing"),
        N_("For health officers: cases, upload codes and close contacts."),
        "/tracing",
    ),
]
Officer = Annotated[Principal, Depends(require_role(service.HEALTH_OFFICER))]
VenueAdmin = Annotated[Principal, Depends(require_role(service.SAFEENTRY_ADMIN))]
VenueStaff = Annotated[Principal, Depends(require_role(service.SAFEENTRY_STAFF))]
Person = Annotated[Principal, Depends(require_role())]
CSRF = Depends(verify_csrf)
PUBLIC = Depends(public)
SESSION_CHECKINS = "safeentry_checkins"


def _render(
    request: Request, name: str, context: dict[str, object], status: int = 200
) -> HTMLResponse:
    return get_templates(request).render(request, name, context, status_code=status)


def _errors(error: DomainError) -> dict[str, str]:
    if isinstance(error, InvalidInput):
        return {problem.field: problem.message for problem in error.problems}
    return {"form": error.message}


def principal_nric(principal: Principal | None) -> str | None:
    """The NRIC/FIN of a logged-in person: an `nric` attribute, or an id that is one."""
    if principal is None or principal.kind != "person":
        return None
    nric = principal.attributes.get("nric") or principal.id
    return nric if isinstance(nric, str) and is_valid_nric(nric) else None


# --- Health officers -----------------------------------------------------------------------


def _officer_home(
    request: Request, session: DbSession, errors: dict[str, str] | None = None, nric: str = ""
) -> HTMLResponse:
    cases = service.list_cases(session)
    return _render(
        request,
        "tracing/officer_home.html",
        {"cases": cases, "errors": errors or {}, "nric": nric},
        422 if errors else 200,
    )


@router.get("/tracing", response_class=HTMLResponse)
def officer_home(request: Request, session: DbSession, _officer: Officer) -> HTMLResponse:
    return _officer_home(request, session)


@router.post("/tracing/cases", dependencies=[CSRF])
def open_case(
    request: Request,
    session: DbSession,
    _officer: Officer,
    nric: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        case = service.open_case(session, nric)
    except InvalidInput as error:
        return _officer_home(request, session, _errors(error), nric)
    return RedirectResponse(f"/tracing/cases/{case.id}", status_code=303)


def _case_page(request: Request, session: DbSession, case_id: int, **extra: object) -> HTMLResponse:
    case = service.get_case(session, case_id)
    context: dict[str, object] = {
        "case": case,
        "uploads": service.uploads_of(session, case_id),
        "codes": service.upload_codes_of(session, case_id),
        "orders": service.quarantine_orders(session, case_id),
        "issued_code": None,
        "verification_code": None,
    }
    context.update(extra)
    return _render(request, "tracing/case.html", context)


@router.get("/tracing/cases/{case_id}", response_class=HTMLResponse)
def case_page(
    case_id: int, request: Request, session: DbSession, _officer: Officer
) -> HTMLResponse:
    return _case_page(request, session, case_id)


@router.post("/tracing/cases/{case_id}/upload-code", dependencies=[CSRF])
def issue_upload_code(
    case_id: int, request: Request, session: DbSession, _officer: Officer
) -> HTMLResponse:
    # Shown once, on this page: the code is not kept anywhere it could be shown again.
    issued = service.issue_upload_code(session, case_id)
    response = _case_page(request, session, case_id, issued_code=issued)
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/tracing/cases/{case_id}/verification-code", dependencies=[CSRF])
def issue_verification_code(
    case_id: int, request: Request, session: DbSession, _officer: Officer
) -> HTMLResponse:
    service.get_case(session, case_id)
    code, expires = service.issue_verification_code(session, case_id)
    response = _case_page(
        request, session, case_id, verification_code={"code": code, "expires_at": expires}
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/tracing/cases/{case_id}/resolve", dependencies=[CSRF])
def resolve_case(case_id: int, session: DbSession, _officer: Officer) -> Response:
    service.resolve_case(session, case_id)
    return RedirectResponse(f"/tracing/cases/{case_id}/contacts", status_code=303)


@router.post("/tracing/cases/{case_id}/publish-visits", dependencies=[CSRF])
def publish_visits(
    case_id: int,
    session: DbSession,
    _officer: Officer,
    publish: Annotated[str, Form(max_length=5)] = "yes",
) -> Response:
    service.publish_case_visits(session, service.get_case(session, case_id), publish == "yes")
    return RedirectResponse(f"/tracing/cases/{case_id}", status_code=303)


@router.get("/tracing/cases/{case_id}/contacts", response_class=HTMLResponse)
def contacts_page(
    case_id: int,
    request: Request,
    session: DbSession,
    _officer: Officer,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    notified: Annotated[int | None, Query(ge=0)] = None,
    without_phone: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:
    case = service.get_case(session, case_id)
    found = service.view_contacts(session, case_id, page=page, purpose="review page")
    response = _render(
        request,
        "tracing/contacts.html",
        {
            "case": case,
            "found": found,
            "notified": notified,
            "without_phone": without_phone,
            "minutes": lambda seconds: math.floor(seconds / 60),
        },
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.post("/tracing/cases/{case_id}/contacts/review", dependencies=[CSRF])
def review_contacts(
    case_id: int,
    session: DbSession,
    _officer: Officer,
    contact: Annotated[list[int], Form()] = [],  # noqa: B006 FastAPI reads the default
    decision: Annotated[str, Form(max_length=10)] = "confirm",
    page: Annotated[int, Form(ge=1)] = 1,
) -> Response:
    chosen = contact[:5000]
    if decision == "dismiss":
        service.review_contacts(session, case_id, confirm=[], dismiss=chosen)
    else:
        service.review_contacts(session, case_id, confirm=chosen, dismiss=[])
    return RedirectResponse(f"/tracing/cases/{case_id}/contacts?page={page}", status_code=303)


@router.post("/tracing/cases/{case_id}/contacts/notify", dependencies=[CSRF])
def notify_contacts(
    case_id: int,
    session: DbSession,
    _officer: Officer,
    channel: Annotated[str, Form(max_length=10)] = "sms",
) -> Response:
    report = service.notify_confirmed_contacts(session, case_id, channel=channel)
    return RedirectResponse(
        f"/tracing/cases/{case_id}/contacts?notified={report.notified}"
        f"&without_phone={report.without_phone}",
        status_code=303,
    )


@router.get("/tracing/cases/{case_id}/contacts.csv")
def contacts_csv(case_id: int, session: DbSession, _officer: Officer) -> Response:
    return Response(
        service.export_contacts_csv(session, case_id),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="case-{case_id}-contacts.csv"',
            "cache-control": "no-store",
        },
    )


# --- SafeEntry: venues and posters ----------------------------------------------------------


def _venues_page(
    request: Request, session: DbSession, errors: dict[str, str] | None = None, **form: str
) -> HTMLResponse:
    return _render(
        request,
        "tracing/venues.html",
        {"venues": service.list_venues(session), "errors": errors or {}, "form": form},
        422 if errors else 200,
    )


@router.get("/safeentry/venues", response_class=HTMLResponse)
def venues(request: Request, session: DbSession, _admin: VenueAdmin) -> HTMLResponse:
    return _venues_page(request, session)


@router.post("/safeentry/venues", dependencies=[CSRF])
def create_venue(
    request: Request,
    session: DbSession,
    _admin: VenueAdmin,
    uen: Annotated[str, Form(max_length=12)] = "",
    branch: Annotated[str, Form(max_length=6)] = "",
    name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    try:
        venue = service.register_venue(session, uen, branch=branch or None, name=name or None)
    except DomainError as error:
        return _venues_page(request, session, _errors(error), uen=uen, branch=branch, name=name)
    return RedirectResponse(f"/safeentry/venues/{venue.code}/poster", status_code=303)


@router.get("/safeentry/venues/{code}/poster", response_class=HTMLResponse, dependencies=[PUBLIC])
def poster(code: str, request: Request, session: DbSession) -> HTMLResponse:
    """A printable A4 poster with the venue's QR code."""
    venue = service.get_venue(session, code)
    url = service.venue_url(request.app.state.settings.web.base_url, venue)
    return _render(
        request,
        "tracing/poster.html",
        {"venue": venue, "url": url, "qr_svg": service.qr_svg_inline(url, scale=10)},
    )


POSTER_CSS = """
@page { size: A4 portrait; margin: 15mm; }
.poster { max-width: 180mm; margin: 0 auto; text-align: center; }
.poster-qr svg { width: 120mm; height: 120mm; max-width: 100%; }
.poster-code { font-family: monospace; word-break: break-all; }
@media print {
  .masthead, .site-header, .site-footer, .skip-link, .no-print { display: none !important; }
  .poster { page-break-inside: avoid; }
}
.checkin-card { max-width: 32rem; margin: 0 auto; }
.checkin-card .btn { width: 100%; padding: 0.9rem; font-size: 1.15rem; }
"""


@router.get("/safeentry/safeentry.css", dependencies=[PUBLIC])
def safeentry_css() -> Response:
    # Styles live in a stylesheet of this site: the content security policy forbids inline ones.
    return Response(
        POSTER_CSS, media_type="text/css", headers={"cache-control": "public, max-age=3600"}
    )


# --- SafeEntry: checking in and out -----------------------------------------------------------


def _checkin_page(
    request: Request,
    session: DbSession,
    code: str,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    venue = service.get_venue(session, code)
    return _render(
        request,
        "tracing/checkin.html",
        {
            "venue": venue,
            "nric": principal_nric(current_principal(request)),
            "errors": errors or {},
            "form": form or {},
        },
        422 if errors else 200,
    )


@router.get("/safeentry/v/{code}", response_class=HTMLResponse, dependencies=[PUBLIC])
def checkin_page(code: str, request: Request, session: DbSession) -> HTMLResponse:
    """Where a venue's QR code leads: check in, logged in or with NRIC/FIN and consent."""
    return _checkin_page(request, session, code)


@router.post("/safeentry/v/{code}/check-in", dependencies=[PUBLIC, CSRF])
def check_in(
    code: str,
    request: Request,
    session: DbSession,
    nric: Annotated[str, Form(max_length=20)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    mobile: Annotated[str, Form(max_length=32)] = "",
    consent: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    own = principal_nric(current_principal(request))
    try:
        if own is not None:
            visit = service.check_in(session, code, nric=own, method="qr_login")
        else:
            visit = service.check_in(
                session,
                code,
                nric=nric,
                method="qr_nric",
                name=name or None,
                mobile=mobile or None,
                consent=consent == "yes",
            )
    except InvalidInput as error:
        form = {"nric": nric, "name": name, "mobile": mobile, "consent": consent}
        return _checkin_page(request, session, code, _errors(error), form)
    mine = list(request.session.get(SESSION_CHECKINS, []))[-19:]
    request.session[SESSION_CHECKINS] = [*mine, visit.id]
    return RedirectResponse(f"/safeentry/checkins/{visit.id}", status_code=303)


def _own_visit(request: Request, session: DbSession, checkin_id: int) -> tuple[object, object]:
    visit, venue = service.get_checkin(session, checkin_id)
    allowed = [i for i in request.session.get(SESSION_CHECKINS, []) if isinstance(i, int)]
    own = principal_nric(current_principal(request))
    if checkin_id not in allowed and (own is None or own != visit.nric):
        raise NotFound(N_("We could not find that page or record."))
    return visit, venue


@router.get("/safeentry/checkins/{checkin_id}", response_class=HTMLResponse, dependencies=[PUBLIC])
def checked_in(checkin_id: int, request: Request, session: DbSession) -> HTMLResponse:
    """The visitor's confirmation, with the check-out button (their browser or login only)."""
    visit, venue = _own_visit(request, session, checkin_id)
    return _render(request, "tracing/checked_in.html", {"visit": visit, "venue": venue})


@router.post("/safeentry/checkins/{checkin_id}/check-out", dependencies=[PUBLIC, CSRF])
def check_out(checkin_id: int, request: Request, session: DbSession) -> Response:
    _own_visit(request, session, checkin_id)
    service.check_out(session, checkin_id)
    return RedirectResponse(f"/safeentry/checkins/{checkin_id}", status_code=303)


@router.get("/safeentry/history", response_class=HTMLResponse)
def my_history(request: Request, session: DbSession, person: Person) -> HTMLResponse:
    """A person's own SafeEntry visits."""
    nric = principal_nric(person)
    visits = service.history(session, nric) if nric else []
    return _render(request, "tracing/history.html", {"visits": visits, "has_nric": bool(nric)})


@router.get("/safeentry/case-visits", response_class=HTMLResponse, dependencies=[PUBLIC])
def case_visits(request: Request, session: DbSession) -> HTMLResponse:
    """Public places and times cases visited: no personal data."""
    return _render(
        request, "tracing/case_visits.html", {"visits": service.public_case_visits(session)}
    )


def _staff_page(
    request: Request,
    session: DbSession,
    code: str,
    errors: dict[str, str] | None = None,
    done: object = None,
) -> HTMLResponse:
    venue = service.get_venue(session, code)
    return _render(
        request,
        "tracing/staff.html",
        {"venue": venue, "errors": errors or {}, "done": done},
        422 if errors else 200,
    )


@router.get("/safeentry/staff/{code}", response_class=HTMLResponse)
def staff_page(code: str, request: Request, session: DbSession, _staff: VenueStaff) -> HTMLResponse:
    """For venue staff: check visitors in by scanning the barcode on their NRIC."""
    return _staff_page(request, session, code)


@router.post("/safeentry/staff/{code}", dependencies=[CSRF])
def staff_check_in(
    code: str,
    request: Request,
    session: DbSession,
    _staff: VenueStaff,
    nric: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    try:
        visit = service.check_in(session, code, nric=nric, method="staff_scan")
    except InvalidInput as error:
        return _staff_page(request, session, code, _errors(error))
    return _staff_page(request, session, code, done=visit)

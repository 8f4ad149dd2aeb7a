"""Appointment pages: citizens book with their invitation's code; community-centre staff register
and book for seniors; centre staff check people in and record doses; officers see the figures,
open cohorts, send invitations and record deliveries."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from smartnation.appointments import dashboard, guard, service
from smartnation.appointments.models import Centre, Invitation
from smartnation.appointments.waiting import waiting_room
from smartnation.appointments.webdeps import CodeFailures, client_address
from smartnation.core.clock import age_on, today_in_singapore, utcnow
from smartnation.core.errors import DomainError, FieldProblem, InvalidInput, NotAllowed
from smartnation.core.i18n import N_, current_language, gettext_
from smartnation.core.validators import is_valid_nric
from smartnation.core.web.auth import Principal, Public, require_role
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import ServiceLink, get_templates

router = APIRouter(prefix="/appointments", include_in_schema=False)
SERVICES = [
    ServiceLink(
        N_("Vaccination appointments"),
        N_("Register for COVID-19 vaccination, book both doses, or change your booking."),
        "/appointments",
    ),
]
CSRF = Depends(verify_csrf)
WAIT = Depends(waiting_room, scope="function")


Person = Annotated[Principal, Depends(require_role())]
CommunityStaff = Annotated[Principal, Depends(require_role("community.staff"))]
CentreStaff = Annotated[Principal, Depends(require_role("vaccination.staff"))]
Officer = Annotated[Principal, Depends(require_role("health.officer"))]
INVITATION_KEY = "nas_invitation"


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return get_templates(request).render(
        request, f"appointments/{name}", context, status_code=status_code
    )


def _errors(error: DomainError) -> dict[str, str]:
    """Field name -> message, for the form; a general problem goes under "form"."""
    problems = getattr(error, "problems", None)
    if problems:
        return {problem.field: problem.message for problem in problems}
    return {"form": error.message}


def _answers(form: dict[str, Any]) -> dict[str, bool]:
    return {
        q.code: form[f"q_{q.code}"] == "yes"
        for q in service.questions()
        if form.get(f"q_{q.code}") in ("yes", "no")
    }


def _nric_of(principal: Principal) -> str:
    nric = principal.attributes.get("nric") or principal.id
    if not is_valid_nric(str(nric)):
        raise NotAllowed(N_("Log in with your own NRIC/FIN to do this."))
    return str(nric).upper()


def _qr(token: str) -> str:
    return str(segno.make(token, error="m").svg_data_uri(scale=6, border=2))


# Citizens --------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse, dependencies=[Public])
def start(request: Request) -> HTMLResponse:
    return _render(request, "start.html")


@router.get("/register", response_class=HTMLResponse)
def register_form(request: Request, _person: Person) -> HTMLResponse:
    return _render(
        request,
        "register.html",
        questions=service.questions(),
        occupations=service.OCCUPATIONS,
        errors={},
        form={},
    )


@router.post("/register", response_class=HTMLResponse, dependencies=[CSRF])
async def register(request: Request, session: DbSession, person: Person) -> HTMLResponse:
    form = dict(await request.form())
    try:
        registration = service.register_interest(
            session,
            nric=_nric_of(person),
            answers=_answers(form),
            mobile=str(form.get("mobile") or "") or None,
            occupation=str(form.get("occupation") or "") or None,
            language=current_language.get(),
        )
    except DomainError as error:
        return _render(
            request,
            "register.html",
            status_code=error.status,
            questions=service.questions(),
            occupations=service.OCCUPATIONS,
            errors=_errors(error),
            form=form,
        )
    return _render(request, "registered.html", registration=registration)


@router.get("/book", response_class=HTMLResponse, dependencies=[Public])
def code_form(request: Request) -> HTMLResponse:
    return _render(request, "code.html", errors={}, nric="")


@router.post("/book", response_class=HTMLResponse, dependencies=[Public, CSRF])
def use_code(
    request: Request,
    session: DbSession,
    failures: CodeFailures,
    nric: Annotated[str, Form(max_length=20)] = "",
    booking_code: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        invitation = guard.redeem(session, nric, booking_code, client_address(request), failures)
    except InvalidInput as error:
        return _render(request, "code.html", status_code=422, errors=_errors(error), nric=nric)
    request.session[INVITATION_KEY] = invitation.id
    if service.booking_for_invitation(session, invitation.id) is not None:
        return RedirectResponse("/appointments/booking", status_code=303)
    return RedirectResponse("/appointments/book/centre", status_code=303)


def _invitation(request: Request, session: Session) -> Invitation | None:
    invitation_id = request.session.get(INVITATION_KEY)
    if not isinstance(invitation_id, int):
        return None
    return session.get(Invitation, invitation_id)


def _centres_for(session: Session, resident_id: int) -> tuple[list[Centre], int]:
    registration = service.get_registration(session, resident_id)
    age = age_on(registration.date_of_birth, today_in_singapore()) if registration else 99
    return service.list_centres(session), age


@router.get("/book/centre", response_class=HTMLResponse, dependencies=[Public])
def choose_centre(request: Request, session: DbSession) -> Response:
    invitation = _invitation(request, session)
    if invitation is None:
        return RedirectResponse("/appointments/book", status_code=303)
    centres, age = _centres_for(session, invitation.resident_id)
    return _render(
        request,
        "centres.html",
        centres=centres,
        age=age,
        vaccines=service.vaccines(),
        action="/appointments/book/slots",
    )


def _slot_context(
    session: Session, centre_code: str, day: date | None, resident_id: int
) -> dict[str, Any]:
    centre = service.get_centre(session, centre_code)
    days = service.open_days(session, centre.id, today_in_singapore())
    chosen = day if day in days else (days[0] if days else None)
    slots = service.availability(session, centre.id, chosen) if chosen else []
    registration = service.get_registration(session, resident_id)
    age = age_on(registration.date_of_birth, today_in_singapore()) if registration else 99
    vaccine = service.vaccine(centre.vaccine_code)
    return {
        "centre": centre,
        "vaccine": vaccine,
        "days": days,
        "day": chosen,
        "slots": [slot for slot in slots if slot.free and slot.starts_at > utcnow()],
        "second_day": chosen + timedelta(days=vaccine.second_dose_days) if chosen else None,
        "needs_consent": age < vaccine.consent_below_age,
        "idempotency_key": uuid.uuid4().hex,
    }


@router.get("/book/slots", response_class=HTMLResponse, dependencies=[Public])
def choose_slot(
    request: Request,
    session: DbSession,
    centre: Annotated[str, Query(max_length=20)] = "",
    day: date | None = None,
) -> Response:
    invitation = _invitation(request, session)
    if invitation is None:
        return RedirectResponse("/appointments/book", status_code=303)
    if not centre:
        return RedirectResponse("/appointments/book/centre", status_code=303)
    context = _slot_context(session, centre, day, invitation.resident_id)
    rescheduling = service.booking_for_invitation(session, invitation.id) is not None
    return _render(
        request,
        "slots.html",
        errors={},
        action="/appointments/book/confirm",
        rescheduling=rescheduling,
        base="/appointments/book/slots",
        **context,
    )


@router.post("/book/confirm", response_class=HTMLResponse, dependencies=[Public, CSRF, WAIT])
def confirm(
    request: Request,
    session: DbSession,
    centre: Annotated[str, Form(max_length=20)] = "",
    slot_id: Annotated[int | None, Form()] = None,
    parental_consent_by: Annotated[str, Form(max_length=200)] = "",
    idempotency_key: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    invitation = _invitation(request, session)
    if invitation is None:
        return RedirectResponse("/appointments/book", status_code=303)
    current = service.booking_for_invitation(session, invitation.id)
    try:
        if slot_id is None:
            raise InvalidInput(FieldProblem("first_slot_id", N_("Choose a time."), "required"))
        if current is not None:
            service.reschedule(
                session,
                current.id,
                first_slot_id=slot_id,
                parental_consent_by=parental_consent_by or None,
            )
        else:
            service.book_two_doses(
                session,
                resident_id=invitation.resident_id,
                first_slot_id=slot_id,
                invitation_id=invitation.id,
                parental_consent_by=parental_consent_by or None,
                idempotency_key=idempotency_key or None,
            )
    except DomainError as error:
        context = _slot_context(session, centre, None, invitation.resident_id)
        return _render(
            request,
            "slots.html",
            status_code=error.status,
            errors=_errors(error),
            action="/appointments/book/confirm",
            rescheduling=current is not None,
            base="/appointments/book/slots",
            **context,
        )
    return RedirectResponse("/appointments/booking", status_code=303)


@router.get("/booking", response_class=HTMLResponse, dependencies=[Public])
def my_booking(request: Request, session: DbSession) -> Response:
    invitation = _invitation(request, session)
    if invitation is None:
        return RedirectResponse("/appointments/book", status_code=303)
    booking = service.booking_for_invitation(session, invitation.id)
    if booking is None:
        return RedirectResponse("/appointments/book/centre", status_code=303)
    shown = service.view(session, booking)
    return _render(request, "booking.html", booking=shown, qr=_qr(shown.qr_token))


@router.post("/booking/cancel", dependencies=[Public, CSRF])
def cancel_booking(request: Request, session: DbSession) -> Response:
    invitation = _invitation(request, session)
    booking = service.booking_for_invitation(session, invitation.id) if invitation else None
    if booking is not None:
        service.cancel(session, booking.id)
    return _render(request, "cancelled.html")


# Community-centre staff -------------------------------------------------------------------------


@router.get("/community", response_class=HTMLResponse)
def community(request: Request, _staff: CommunityStaff) -> HTMLResponse:
    return _render(request, "community.html", questions=service.questions(), errors={}, form={})


@router.post("/community", response_class=HTMLResponse, dependencies=[CSRF])
async def community_register(
    request: Request, session: DbSession, _staff: CommunityStaff
) -> Response:
    form = dict(await request.form())
    try:
        registration = service.register_interest(
            session,
            nric=str(form.get("nric", "")),
            answers=_answers(form),
            mobile=str(form.get("mobile") or "") or None,
            language=str(form.get("language") or "en"),
            on_behalf=True,
        )
    except DomainError as error:
        return _render(
            request,
            "community.html",
            status_code=error.status,
            questions=service.questions(),
            errors=_errors(error),
            form=form,
        )
    centres, age = _centres_for(session, registration.resident_id)
    return _render(
        request,
        "centres.html",
        centres=centres,
        age=age,
        vaccines=service.vaccines(),
        action=f"/appointments/community/{registration.nric}/slots",
        person=registration,
    )


@router.get("/community/{nric}/slots", response_class=HTMLResponse)
def community_slots(
    request: Request,
    session: DbSession,
    _staff: CommunityStaff,
    nric: str,
    centre: Annotated[str, Query(max_length=20)] = "",
    day: date | None = None,
) -> HTMLResponse:
    registration = service.registration_by_nric(session, nric)
    context = _slot_context(session, centre, day, registration.resident_id)
    return _render(
        request,
        "slots.html",
        errors={},
        action=f"/appointments/community/{registration.nric}/confirm",
        rescheduling=False,
        base=f"/appointments/community/{registration.nric}/slots",
        person=registration,
        **context,
    )


@router.post("/community/{nric}/confirm", response_class=HTMLResponse, dependencies=[CSRF, WAIT])
def community_confirm(
    request: Request,
    session: DbSession,
    _staff: CommunityStaff,
    nric: str,
    centre: Annotated[str, Form(max_length=20)] = "",
    slot_id: Annotated[int | None, Form()] = None,
    parental_consent_by: Annotated[str, Form(max_length=200)] = "",
    idempotency_key: Annotated[str, Form(max_length=80)] = "",
) -> HTMLResponse:
    registration = service.registration_by_nric(session, nric)
    try:
        if slot_id is None:
            raise InvalidInput(FieldProblem("first_slot_id", N_("Choose a time."), "required"))
        booking = service.book_two_doses(
            session,
            resident_id=registration.resident_id,
            first_slot_id=slot_id,
            parental_consent_by=parental_consent_by or None,
            idempotency_key=idempotency_key or None,
            by_staff=True,
        )
    except DomainError as error:
        context = _slot_context(session, centre, None, registration.resident_id)
        return _render(
            request,
            "slots.html",
            status_code=error.status,
            errors=_errors(error),
            action=f"/appointments/community/{registration.nric}/confirm",
            rescheduling=False,
            base=f"/appointments/community/{registration.nric}/slots",
            person=registration,
            **context,
        )
    shown = service.view(session, booking)
    return _render(request, "booking.html", booking=shown, qr=_qr(shown.qr_token), staff=True)


# Centre staff -----------------------------------------------------------------------------------


@router.get("/centre", response_class=HTMLResponse)
def centre_list(request: Request, session: DbSession, _staff: CentreStaff) -> HTMLResponse:
    return _render(request, "centre_list.html", centres=service.list_centres(session))


def _checkin_page(
    request: Request, session: Session, code: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    centre = service.get_centre(session, code)
    return _render(
        request,
        "checkin.html",
        status_code=status_code,
        centre=centre,
        vaccine=service.vaccine(centre.vaccine_code),
        observed=service.observation_list(session, code),
        **{"errors": {}, "checkin": None, "given": None, **context},
    )


@router.get("/centre/{code}", response_class=HTMLResponse)
def checkin_form(request: Request, session: DbSession, _staff: CentreStaff, code: str) -> Response:
    return _checkin_page(request, session, code)


@router.post("/centre/{code}/checkin", response_class=HTMLResponse, dependencies=[CSRF])
def checkin(
    request: Request,
    session: DbSession,
    _staff: CentreStaff,
    code: str,
    lookup: Annotated[str, Form(max_length=64)] = "",
) -> HTMLResponse:
    lookup = lookup.strip()
    by_nric = is_valid_nric(lookup)
    try:
        checked = service.check_in(
            session, code, qr=None if by_nric else lookup, nric=lookup if by_nric else None
        )
    except DomainError as error:
        return _checkin_page(
            request, session, code, status_code=error.status, errors={"lookup": error.message}
        )
    return _checkin_page(request, session, code, checkin=checked)


@router.post("/centre/{code}/walkin", response_class=HTMLResponse, dependencies=[CSRF])
def walkin(
    request: Request,
    session: DbSession,
    _staff: CentreStaff,
    code: str,
    nric: Annotated[str, Form(max_length=20)] = "",
    parental_consent_by: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    try:
        checked = service.walk_in(
            session, code, nric, parental_consent_by=parental_consent_by or None
        )
    except DomainError as error:
        message = _errors(error)
        return _checkin_page(
            request,
            session,
            code,
            status_code=error.status,
            errors={"walkin": next(iter(message.values()))},
        )
    return _checkin_page(request, session, code, checkin=checked)


@router.post("/centre/{code}/dose", response_class=HTMLResponse, dependencies=[CSRF])
def give_dose(
    request: Request,
    session: DbSession,
    _staff: CentreStaff,
    code: str,
    checkin_id: Annotated[int, Form()],
    lot: Annotated[str, Form(max_length=40)] = "",
    site: Annotated[str, Form(max_length=20)] = "left_arm",
) -> HTMLResponse:
    try:
        dose = service.record_dose(session, checkin_id, lot=lot, site=site)
    except DomainError as error:
        message = next(iter(_errors(error).values()))
        return _checkin_page(
            request, session, code, status_code=error.status, errors={"form": message}
        )
    return _checkin_page(request, session, code, given=dose)


# Officers ---------------------------------------------------------------------------------------


def _dashboard(request: Request, session: Session, status_code: int = 200, **extra: Any) -> Any:
    today = today_in_singapore()
    figures = dashboard.figures(session, today - timedelta(days=7), today + timedelta(days=35))
    labels = {
        "released": gettext_(N_("Places released")),
        "booked": gettext_(N_("Booked")),
        "doses": gettext_(N_("Doses given")),
    }
    charts = [
        (
            centre,
            dashboard.chart_svg(
                centre, labels, f"{centre.name}: " + gettext_(N_("places released, booked, doses"))
            ),
        )
        for centre in figures
    ]
    return _render(
        request,
        "officer.html",
        status_code=status_code,
        charts=charts,
        labels=labels,
        cohorts=service.list_cohorts(session),
        centres=service.list_centres(session),
        room=service.places_to_invite(session),
        today=today,
        **{"errors": {}, "notice": None, **extra},
    )


@router.get("/officer", response_class=HTMLResponse)
def officer(request: Request, session: DbSession, _officer: Officer) -> HTMLResponse:
    return _dashboard(request, session)  # type: ignore[no-any-return]


@router.post("/officer/cohort", response_class=HTMLResponse, dependencies=[CSRF])
def cohort_action(
    request: Request,
    session: DbSession,
    _officer: Officer,
    code: Annotated[str, Form(max_length=40)],
    action: Annotated[str, Form(max_length=20)],
) -> HTMLResponse:
    try:
        if action == "open":
            service.open_cohort(session, code)
            notice = gettext_(N_("The cohort is open for booking."))
        elif action == "walk_in":
            service.open_cohort(session, code, walk_in=True)
            notice = gettext_(N_("The cohort may walk in."))
        else:
            sent = service.invite_cohort(session, code, base_url=str(request.base_url).rstrip("/"))
            notice = gettext_(N_("Invitations sent:")) + f" {len(sent)}"
    except DomainError as error:
        return _dashboard(  # type: ignore[no-any-return]
            request, session, status_code=error.status, errors={"cohort": error.message}
        )
    return _dashboard(request, session, notice=notice)  # type: ignore[no-any-return]


@router.post("/officer/delivery", response_class=HTMLResponse, dependencies=[CSRF])
def delivery(
    request: Request,
    session: DbSession,
    _officer: Officer,
    centre: Annotated[str, Form(max_length=20)],
    day: Annotated[date, Form()],
    doses: Annotated[int, Form()],
    lot: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    try:
        service.record_delivery(session, centre, day, doses, lot or None)
        released = service.release_slots(session, centre, day)
    except DomainError as error:
        return _dashboard(  # type: ignore[no-any-return]
            request, session, status_code=error.status, errors=_errors(error)
        )
    notice = gettext_(N_("Places released:")) + f" {released}"
    return _dashboard(request, session, notice=notice)  # type: ignore[no-any-return]

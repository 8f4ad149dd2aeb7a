"""A person's own pages: activation, second factors (authenticator app, passkey, trusted
person), and "My consents"."""

from __future__ import annotations

import base64
import io
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartnation.core.errors import DomainError
from smartnation.core.i18n import N_
from smartnation.core.web.auth import Principal, Public, require_login
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.identity import accounts, factors
from smartnation.identity import consents as consent_records
from smartnation.identity.login_pages import message_of
from smartnation.identity.models import Account
from smartnation.identity.myinfo import label_of

router = APIRouter(prefix="/identity", include_in_schema=False)
Csrf = Depends(verify_csrf)
Person = Annotated[Principal, Depends(require_login())]
Text = Annotated[str, Form(max_length=500)]
SETUP_KEY = "identity_setup"


def _render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.render(  # type: ignore[no-any-return]
        request,
        f"identity/{name}",
        context or {},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _account(session: Any, person: Principal) -> Account:
    account = accounts.find_account(session, person.id)
    if account is None:
        raise DomainError(N_("Your account could not be found."))
    return account


# ---- activation ------------------------------------------------------------------------------
@router.get("/activate", response_class=HTMLResponse, dependencies=[Public])
def activate_form(request: Request) -> HTMLResponse:
    return _render(request, "activate.html", {"values": {}})


@router.post("/activate", response_class=HTMLResponse, dependencies=[Public, Csrf])
def activate_submit(
    request: Request,
    session: DbSession,
    nric: Text = "",
    code: Text = "",
    password: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    values = {"nric": nric, "code": code}
    if password != confirm:
        return _render(
            request,
            "activate.html",
            {"values": values, "errors": {"confirm": N_("The two passwords are not the same.")}},
            422,
        )
    try:
        account = accounts.activate(session, nric, code, password)
        factors.ensure_sms_factor(session, account)
    except DomainError as error:
        problems = getattr(error, "problems", None) or []
        errors = {p.field: p.message for p in problems} or {"nric": error.message}
        return _render(request, "activate.html", {"values": values, "errors": errors}, error.status)
    return _render(request, "activated.html", {})


# ---- my account: second factors --------------------------------------------------------------
@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: DbSession, person: Person) -> HTMLResponse:
    account = _account(session, person)
    return _render(request, "account.html", {"factors": factors.factors_of(session, account)})


@router.post("/account/factors/{factor_id}/remove", dependencies=[Csrf])
def remove_factor(request: Request, session: DbSession, person: Person, factor_id: int) -> Response:
    account = _account(session, person)
    remaining = [f for f in factors.factors_of(session, account) if f.id != factor_id]
    if not remaining:
        return _render(
            request,
            "account.html",
            {
                "factors": factors.factors_of(session, account),
                "error": N_("Keep at least one second factor, or you could not log in."),
            },
            409,
        )
    factors.remove_factor(session, account, factor_id)
    return _see("/identity/account")


def _qr_svg(uri: str) -> str:
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@router.get("/account/totp", response_class=HTMLResponse)
def totp_form(request: Request, session: DbSession, person: Person) -> HTMLResponse:
    account = _account(session, person)
    secret = factors.new_totp_secret()
    request.session[SETUP_KEY] = {"totp_secret": secret}
    uri = factors.totp_uri(account, secret)
    return _render(request, "totp_setup.html", {"secret": secret, "qr": _qr_svg(uri)})


@router.post("/account/totp", response_class=HTMLResponse, dependencies=[Csrf])
def totp_confirm(request: Request, session: DbSession, person: Person, code: Text = "") -> Response:
    account = _account(session, person)
    secret = (request.session.get(SETUP_KEY) or {}).get("totp_secret")
    if not secret:
        return _see("/identity/account/totp")
    try:
        factors.add_totp_factor(session, account, secret, code)
    except DomainError as error:
        uri = factors.totp_uri(account, secret)
        return _render(
            request,
            "totp_setup.html",
            {"secret": secret, "qr": _qr_svg(uri), "error": message_of(error)},
            error.status,
        )
    request.session.pop(SETUP_KEY, None)
    return _see("/identity/account")


def _rp(request: Request) -> factors.RelyingParty:
    return factors.RelyingParty.for_base_url(request.app.state.settings.web.base_url)


@router.get("/account/passkey", response_class=HTMLResponse)
def passkey_form(request: Request, session: DbSession, person: Person) -> HTMLResponse:
    account = _account(session, person)
    options, challenge = factors.passkey_registration_options(session, account, _rp(request))
    request.session[SETUP_KEY] = {"webauthn": base64.urlsafe_b64encode(challenge).decode()}
    return _render(request, "passkey_setup.html", {"options": options})


@router.post("/account/passkey", response_class=HTMLResponse, dependencies=[Csrf])
def passkey_register(
    request: Request,
    session: DbSession,
    person: Person,
    credential: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    account = _account(session, person)
    challenge = (request.session.pop(SETUP_KEY, None) or {}).get("webauthn")
    if not challenge:
        return _see("/identity/account/passkey")
    try:
        factors.add_passkey(
            session, account, _rp(request), credential, base64.urlsafe_b64decode(challenge)
        )
    except DomainError as error:
        options, new_challenge = factors.passkey_registration_options(
            session, account, _rp(request)
        )
        request.session[SETUP_KEY] = {"webauthn": base64.urlsafe_b64encode(new_challenge).decode()}
        return _render(
            request,
            "passkey_setup.html",
            {"options": options, "error": message_of(error)},
            error.status,
        )
    return _see("/identity/account")


@router.get("/account/trusted", response_class=HTMLResponse)
def trusted_form(request: Request, person: Person) -> HTMLResponse:
    return _render(request, "trusted.html", {"step": 1})


@router.post("/account/trusted", response_class=HTMLResponse, dependencies=[Csrf])
def trusted_submit(
    request: Request,
    session: DbSession,
    person: Person,
    trusted_nric: Text = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    account = _account(session, person)
    setup = request.session.get(SETUP_KEY) or {}
    try:
        if not code:
            sent = factors.request_trusted_person(session, account, trusted_nric)
            request.session[SETUP_KEY] = {"trusted": trusted_nric, "challenge": sent.challenge_id}
            return _render(
                request,
                "trusted.html",
                {"step": 2, "masked": sent.masked_phone, "trusted_nric": trusted_nric},
            )
        factors.confirm_trusted_person(
            session, account, setup.get("trusted", ""), int(setup.get("challenge", 0)), code
        )
    except DomainError as error:
        step = 2 if code else 1
        return _render(
            request,
            "trusted.html",
            {"step": step, "error": message_of(error), "trusted_nric": trusted_nric},
            error.status,
        )
    request.session.pop(SETUP_KEY, None)
    return _see("/identity/account")


# ---- my consents -------------------------------------------------------------------------------
@router.get("/consents", response_class=HTMLResponse)
def my_consents(request: Request, session: DbSession, person: Person) -> HTMLResponse:
    account = _account(session, person)
    rows = [
        (consent, name, [label_of(item) for item in consent.items])
        for consent, name in consent_records.consents_of(session, account)
    ]
    return _render(request, "consents.html", {"consents": rows})


@router.post("/consents/{consent_id}/revoke", dependencies=[Csrf])
def revoke(request: Request, session: DbSession, person: Person, consent_id: int) -> Response:
    account = _account(session, person)
    consent_records.revoke_consent(session, account, consent_id)
    return _see("/identity/consents")

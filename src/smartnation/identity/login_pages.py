"""The login pages: NRIC/FIN and password, then a second factor, then (for services) the
CorpPass entity choice and the MyInfo consent page.

Three flows share these pages and the same account and factor code:
* ``oidc``: a relying party sent the person here through ``/id/auth`` (PAR first);
* ``platform``: the platform's own ``/login``, which ends by putting the person's principal
  (with their roles) in the session instead of issuing a code;
* ``reset``: password reset, which proves a second factor instead of the password.

The state of a login in progress lives in the signed session cookie under ``identity_login``.
Every page works without JavaScript except the passkey step, which needs the browser's WebAuthn.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from smartnation.core.config import is_development
from smartnation.core.errors import DomainError, NotFound
from smartnation.core.i18n import N_
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal, Public
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import get_templates
from smartnation.identity import accounts, factors
from smartnation.identity import clients as client_registry
from smartnation.identity import consents as consent_records
from smartnation.identity import provider as oidc_provider
from smartnation.identity.models import Account
from smartnation.identity.myinfo import label_of
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.params import redirect_error
from smartnation.identity.roles import roles_of
from smartnation.registry import service as registry

router = APIRouter(include_in_schema=False, dependencies=[Public])
STATE_KEY = "identity_login"
Csrf = Depends(verify_csrf)
Text = Annotated[str, Form(max_length=500)]
LongText = Annotated[str, Form(max_length=20_000)]


def provider_of(request: Request) -> oidc_provider.Provider:
    """The provider as this application is configured (issuer from the base URL)."""
    settings = request.app.state.settings
    return oidc_provider.Provider.for_base_url(
        settings.web.base_url, development=is_development(settings.environment)
    )


def safe_next(target: str) -> str:
    """Only paths on this site: never an open redirect."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def message_of(error: DomainError) -> str:
    """The sentence to show a person: the field's message for invalid input."""
    problems = getattr(error, "problems", None)
    return problems[0].message if problems else error.message


# ---- state ------------------------------------------------------------------------------
def _state(request: Request) -> dict[str, Any]:
    value = request.session.get(STATE_KEY)
    return value if isinstance(value, dict) else {}


def _save(request: Request, state: dict[str, Any]) -> None:
    request.session[STATE_KEY] = state


def _render(
    request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    return get_templates(request).render(
        request,
        f"identity/{name}",
        context or {},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def _see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _expired(request: Request) -> HTMLResponse:
    return _render(
        request,
        "login_error.html",
        {
            "message": N_(
                "This login has expired or was already used. Start again from the service."
            )
        },
        400,
    )


def _account_in(request: Request, session: Any, state: dict[str, Any]) -> Account | None:
    account_id = state.get("account_id")
    if not isinstance(account_id, int):
        return None
    try:
        return accounts.get_account(session, account_id)
    except DomainError:
        return None


# Largest id a BIGINT holds: anything beyond names no row (and must not reach the database).
_MAX_ID = 2**63 - 1


def _with_factor(session: Any, state: dict[str, Any], factor_id: Any) -> tuple[Account, Any] | None:
    """The login's account and one of its usable factors (None if not usable), in one query;
    None when the login has no account."""
    account_id = state.get("account_id")
    if not isinstance(account_id, int):
        return None
    if not isinstance(factor_id, int) or not 0 < factor_id <= _MAX_ID:
        factor_id = 0  # no factor has id 0: the account alone
    return factors.account_and_factor(session, account_id, factor_id)


def _service_name(session: Any, state: dict[str, Any]) -> str | None:
    if "service" in state:
        return str(state["service"])
    request_data = state.get("request")
    if not request_data:
        return None
    client = client_registry.find_client(session, request_data["client_id"])
    return client.name if client else None


def _login_page(
    request: Request,
    session: Any,
    state: dict[str, Any],
    error: str | None = None,
    nric: str = "",
    status: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "login.html",
        {
            "error": error,
            "nric": nric,
            "service": _service_name(session, state),
            "reset": state.get("flow") == "reset",
        },
        status,
    )


# ---- entry points -------------------------------------------------------------------------
@router.get("/id/auth", response_class=HTMLResponse)
async def authorize(request: Request, session: DbSession) -> Response:
    """The authorisation endpoint: resolve the pushed request, then show the login page."""
    try:
        auth_request, service = oidc_provider.resolve_authorization(
            session, list(request.query_params.multi_items())
        )
    except OAuthError as error:
        # Nothing proves a redirect URI yet: show the error, never redirect (no open redirect).
        return _render(request, "login_error.html", {"message": error.description}, error.status)
    state: dict[str, Any] = {
        "flow": "oidc",
        "request": oidc_provider.request_to_dict(auth_request),
    }
    # What the later pages need to know about the service, kept with the pushed request and
    # carried in the (signed) state from here on.
    if service is None:  # a request pushed before requests kept it
        client = client_registry.find_client(session, auth_request.client_id)
        if client is not None:
            service = oidc_provider.ServiceShown(client.name, client.kind == "corppass")
    if service is not None:
        state["service"] = service.name
        state["corppass"] = service.corppass
    _save(request, state)
    return _login_page(request, session, state)


@router.get("/login", response_class=HTMLResponse)
def platform_login(
    request: Request,
    session: DbSession,
    next_path: Annotated[str, Query(alias="next", max_length=2000)] = "/",
) -> HTMLResponse:
    """The platform's own login (first-party, same account and factor code as /id/auth)."""
    _save(request, {"flow": "platform", "next": safe_next(next_path)})
    return _login_page(request, session, _state(request))


@router.get("/identity/reset", response_class=HTMLResponse)
def reset_start(request: Request, session: DbSession) -> HTMLResponse:
    """Forgotten password or locked out: prove a second factor instead of the password."""
    _save(request, {"flow": "reset"})
    return _login_page(request, session, _state(request))


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request) -> RedirectResponse:
    request.session.pop(PRINCIPAL_SESSION_KEY, None)
    request.session.pop(STATE_KEY, None)
    return _see("/")


# ---- first factor -------------------------------------------------------------------------
@router.post("/id/auth/password", dependencies=[Csrf], response_class=HTMLResponse)
def password_step(
    request: Request,
    session: DbSession,
    nric: Text = "",
    password: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    state = _state(request)
    if not state.get("flow"):
        return _expired(request)
    try:
        if state["flow"] == "reset":
            account = accounts.find_account(session, nric)
            if account is None:
                raise accounts.LoginRefused(N_("No account has this NRIC/FIN."))
            state["amr"] = []
        else:
            source = request.client.host if request.client else None
            account = accounts.verify_password(session, nric, password, source=source)
            state["amr"] = ["pwd"]
    except DomainError as error:
        status = getattr(error, "status", 400)
        return _login_page(request, session, state, message_of(error), nric, status)
    state["account_id"] = account.id
    state.pop("factor_done", None)
    offered = offered_at_once(factors.factors_of(session, account))
    if offered is not None:
        state["factor_id"] = offered.id
        _save(request, state)
        return _see("/id/auth/verify")  # which offers "Choose another second factor"
    state.pop("factor_id", None)
    _save(request, state)
    return _see("/id/auth/factor")


# Offered at once after the password, without the choice page: the person's only factor, or the
# one they used last, when it asks nothing of anyone (an authenticator app or a passkey). An SMS
# is sent only when asked for on the choice page: each costs a message, the phone may not be at
# hand, and a trusted person's phone is someone else's.
AT_ONCE = frozenset({"totp", "webauthn"})


def offered_at_once(usable: list[Any]) -> Any | None:
    """The factor to ask for straight after the password, or None to let the person choose."""
    if len(usable) == 1:
        chosen = usable[0]
    else:
        used = [factor for factor in usable if factor.last_used_at is not None]
        if not used:
            return None
        chosen = max(used, key=lambda factor: factor.last_used_at)
    return chosen if chosen.kind in AT_ONCE else None


# ---- second factor ------------------------------------------------------------------------
# The second-factor pages are coroutines: their database work is a few small statements, which
# cost less on the event loop than the thread hop a plain function takes (as /id/par and
# /id/token do). The password page stays a plain function: Argon2id must not hold the loop.
@router.get("/id/auth/factor", response_class=HTMLResponse)
async def factor_choice(request: Request, session: DbSession) -> Response:
    state = _state(request)
    account_id = state.get("account_id")
    found = (
        factors.account_with_factors(session, account_id) if isinstance(account_id, int) else None
    )
    if found is None:
        return _expired(request)
    return _render(request, "factor_choice.html", {"factors": found[1]})


@router.post("/id/auth/factor", dependencies=[Csrf], response_class=HTMLResponse)
async def factor_chosen(
    request: Request, session: DbSession, factor_id: Annotated[int, Form()] = 0
) -> Response:
    state = _state(request)
    found = _with_factor(session, state, factor_id)
    if found is None:
        return _expired(request)
    account, factor = found
    try:
        if factor is None:
            raise NotFound(factors.NOT_SET_UP)
        if factor.kind in ("sms", "trusted_sms"):
            purpose = "reset" if state["flow"] == "reset" else "login"
            sent = factors.send_otp(session, account, factor, purpose)
            state["challenge_id"] = sent.challenge_id
    except DomainError as error:
        return _render(
            request,
            "factor_choice.html",
            {"factors": factors.factors_of(session, account), "error": message_of(error)},
            error.status,
        )
    state["factor_id"] = factor.id
    _save(request, state)
    return _see("/id/auth/verify")


def _verify_page(
    request: Request,
    session: Any,
    account: Account,
    factor: Any,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {"factor": factor, "error": error}
    if factor.kind == "webauthn":
        options, challenge = factors.passkey_authentication_options(session, account, _rp(request))
        state = _state(request)
        state["webauthn_challenge"] = base64.urlsafe_b64encode(challenge).decode()
        _save(request, state)
        context["options"] = options
    return _render(request, "verify.html", context, status)


def _rp(request: Request) -> factors.RelyingParty:
    return factors.RelyingParty.for_base_url(request.app.state.settings.web.base_url)


@router.get("/id/auth/verify", response_class=HTMLResponse)
async def verify_form(request: Request, session: DbSession) -> Response:
    state = _state(request)
    found = _with_factor(session, state, state.get("factor_id"))
    if found is None or found[1] is None:
        return _expired(request)
    account, factor = found
    return _verify_page(request, session, account, factor)


@router.post("/id/auth/verify", dependencies=[Csrf], response_class=HTMLResponse)
async def verify_submit(
    request: Request,
    session: DbSession,
    code: Annotated[str, Form(max_length=20)] = "",
    credential: LongText = "",
) -> Response:
    state = _state(request)
    found = _with_factor(session, state, state.get("factor_id"))
    if found is None or found[1] is None:
        return _expired(request)
    account, factor = found
    try:
        if factor.kind in ("sms", "trusted_sms"):
            purpose = "reset" if state["flow"] == "reset" else "login"
            factors.verify_otp(session, account, int(state.get("challenge_id", 0)), code, purpose)
        elif factor.kind == "totp":
            factors.verify_totp(session, account, factor, code)
        else:
            challenge = base64.urlsafe_b64decode(state.pop("webauthn_challenge", "") or "")
            factors.verify_passkey(session, account, _rp(request), credential, challenge)
    except DomainError as error:
        return _verify_page(request, session, account, factor, message_of(error), error.status)
    state["amr"] = oidc_provider.amr_for(state.get("amr", []), factor.kind)
    state["factor_done"] = True
    state.pop("challenge_id", None)
    _save(request, state)
    return _after_factors(request, session, state, account)


def _after_factors(
    request: Request, session: Any, state: dict[str, Any], account: Account
) -> Response:
    flow = state["flow"]
    if flow == "reset":
        return _see("/identity/reset/password")
    if flow == "platform":
        accounts.record_login(session, account, state["amr"], "smartnation")
        _sign_in(request, account, state["amr"], *_who(session, account))
        request.session.pop(STATE_KEY, None)
        return _see(state.get("next") or "/")
    if state.get("corppass") and not state.get("entity_uen"):
        return _see("/id/auth/entity")
    auth_request = oidc_provider.request_from_dict(state["request"])
    if oidc_provider.requested_items(auth_request) and not state.get("consent_id"):
        return _see("/id/auth/consent")
    return _finish(request, session, state, account)


def _who(session: Any, account: Account) -> tuple[Any, frozenset[str]]:
    """The person's registry record and roles, read before this request's changes are written
    (they do not depend on them), so that the changes go out together at the commit."""
    with session.no_autoflush:
        # By NRIC, without the address neither the principal nor the ID token carries.
        resident = registry.find_resident(session, account.nric)
        return resident, roles_of(session, account.id)


def _sign_in(
    request: Request, account: Account, amr: list[str], resident: Any, roles: frozenset[str]
) -> None:
    """The person is now also logged in to the platform's own pages (single sign-on)."""
    principal = Principal(
        kind="person",
        id=account.nric,
        name=resident.name if resident is not None else account.nric,
        roles=roles,
        attributes={"sub": str(account.sub), "amr": amr},
    )
    request.session[PRINCIPAL_SESSION_KEY] = principal.to_session()


def _finish(request: Request, session: Any, state: dict[str, Any], account: Account) -> Response:
    auth_request = oidc_provider.request_from_dict(state["request"])
    resident, roles = _who(session, account)
    if resident is None:  # the registry no longer lists the person: no ID token can say who
        return _expired(request)
    url = oidc_provider.complete_authorization(
        session,
        provider_of(request),
        auth_request,
        account,
        state["amr"],
        person=oidc_provider.person_from(account, resident),
        consent_id=state.get("consent_id"),
        entity_uen=state.get("entity_uen"),
        entity_role=state.get("entity_role"),
    )
    _sign_in(request, account, state["amr"], resident, roles)
    request.session.pop(STATE_KEY, None)
    return _see(url)


def _ready(request: Request, session: Any) -> tuple[dict[str, Any], Account] | None:
    state = _state(request)
    account = _account_in(request, session, state)
    if account is None or not state.get("factor_done") or state.get("flow") != "oidc":
        return None
    return state, account


# ---- CorpPass: which business ----------------------------------------------------------------
@router.get("/id/auth/entity", response_class=HTMLResponse)
def entity_choice(request: Request, session: DbSession) -> Response:
    ready = _ready(request, session)
    if ready is None:
        return _expired(request)
    _, account = ready
    entities = oidc_provider.entities_of(session, account)
    return _render(request, "entity.html", {"entities": entities})


@router.post("/id/auth/entity", dependencies=[Csrf], response_class=HTMLResponse)
def entity_chosen(request: Request, session: DbSession, uen: Text = "") -> Response:
    ready = _ready(request, session)
    if ready is None:
        return _expired(request)
    state, account = ready
    match = [e for e in oidc_provider.entities_of(session, account) if e[0] == uen]
    if not match:
        entities = oidc_provider.entities_of(session, account)
        return _render(
            request,
            "entity.html",
            {"entities": entities, "error": N_("Choose one of the businesses listed.")},
            422,
        )
    state["entity_uen"], state["entity_role"] = match[0][0], match[0][2]
    _save(request, state)
    return _after_factors(request, session, state, account)


# ---- MyInfo consent -------------------------------------------------------------------------
@router.get("/id/auth/consent", response_class=HTMLResponse)
def consent_page(request: Request, session: DbSession) -> Response:
    ready = _ready(request, session)
    if ready is None:
        return _expired(request)
    state, _account = ready
    client = client_registry.get_client(session, state["request"]["client_id"])
    items = oidc_provider.requested_items(oidc_provider.request_from_dict(state["request"]))
    return _render(
        request,
        "consent.html",
        {"client": client, "items": [(item, label_of(item)) for item in items]},
    )


@router.post("/id/auth/consent", dependencies=[Csrf], response_class=HTMLResponse)
def consent_given(request: Request, session: DbSession, decision: Text = "") -> Response:
    ready = _ready(request, session)
    if ready is None:
        return _expired(request)
    state, account = ready
    auth_request = oidc_provider.request_from_dict(state["request"])
    if decision != "allow":
        request.session.pop(STATE_KEY, None)
        error = redirect_error(
            auth_request, OAuthError("access_denied", "the person did not consent")
        )
        return _see(error.redirect_url(provider_of(request).issuer) or "/")
    client = client_registry.get_client(session, auth_request.client_id)
    consent = consent_records.grant_consent(
        session, account, client, oidc_provider.requested_items(auth_request)
    )
    state["consent_id"] = consent.id
    _save(request, state)
    return _finish(request, session, state, account)


@router.post("/id/auth/cancel", dependencies=[Csrf])
def cancel(request: Request) -> Response:
    """The person gives up: the service hears access_denied; the platform goes home."""
    state = _state(request)
    request.session.pop(STATE_KEY, None)
    if state.get("flow") == "oidc" and state.get("request"):
        auth_request = oidc_provider.request_from_dict(state["request"])
        error = redirect_error(auth_request, OAuthError("access_denied", "the person cancelled"))
        return _see(error.redirect_url(provider_of(request).issuer) or "/")
    return _see("/")


# ---- password reset, last step ---------------------------------------------------------------
@router.get("/identity/reset/password", response_class=HTMLResponse)
def reset_password_form(request: Request, session: DbSession) -> Response:
    state = _state(request)
    if state.get("flow") != "reset" or not state.get("factor_done"):
        return _expired(request)
    return _render(request, "reset_password.html", {})


@router.post("/identity/reset/password", dependencies=[Csrf], response_class=HTMLResponse)
def reset_password_submit(
    request: Request,
    session: DbSession,
    password: Annotated[str, Form(max_length=200)] = "",
    confirm: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    state = _state(request)
    account = _account_in(request, session, state)
    if account is None or state.get("flow") != "reset" or not state.get("factor_done"):
        return _expired(request)
    if password != confirm:
        return _render(
            request,
            "reset_password.html",
            {"error": N_("The two passwords are not the same.")},
            422,
        )
    try:
        accounts.reset_password(session, account, password)
    except DomainError as error:
        return _render(request, "reset_password.html", {"error": message_of(error)}, error.status)
    request.session.pop(STATE_KEY, None)
    return _render(request, "reset_done.html", {})

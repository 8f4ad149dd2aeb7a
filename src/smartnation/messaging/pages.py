"""Messaging pages: broadcasts for officers, sign-up and self-service for subscribers, the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from smartnation.core.config import is_development
from smartnation.core.errors import DomainError, FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import LANGUAGES, N_
from smartnation.core.web.auth import Principal, public, require_role
from smartnation.core.web.csrf import verify_csrf
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import ServiceLink, get_templates
from smartnation.messaging import campaigns, service, subscribers
from smartnation.messaging.campaigns import APPROVER_ROLE, OFFICER_ROLE, CampaignDraft
from smartnation.messaging.channels.config import MessagingSettings

router = APIRouter(include_in_schema=False)
SERVICES = [
    ServiceLink(
        N_("Gov.sg updates"),
        N_("Get government updates on WhatsApp, SMS or Telegram in your language."),
        "/messaging/subscribe",
    ),
    ServiceLink(
        N_("Broadcasts"),
        N_("For officers: write, approve and follow Gov.sg broadcasts."),
        "/messaging/campaigns",
    ),
    ServiceLink(
        N_("Developer inbox"),
        N_("Read the messages the platform would have sent by SMS, WhatsApp or email."),
        "/dev/inbox",
    ),
]
Officer = Annotated[Principal, Depends(require_role(OFFICER_ROLE, APPROVER_ROLE))]
CSRF = [Depends(verify_csrf)]
PUBLIC_FORM = [Depends(public), Depends(verify_csrf)]
CHANNEL_NAMES = {"whatsapp": "WhatsApp", "sms": "SMS", "telegram": "Telegram"}
SINGAPORE = ZoneInfo("Asia/Singapore")
# Campaign and subscriber states as the pages show them (`_(status)` in the templates).
STATUS_LABELS = (
    N_("draft"),
    N_("submitted"),
    N_("approved"),
    N_("sending"),
    N_("paused"),
    N_("completed"),
    N_("cancelled"),
    N_("pending"),
    N_("active"),
    N_("unsubscribed"),
)


def _errors(error: InvalidInput) -> dict[str, str]:
    found: dict[str, str] = {}
    for problem in error.problems:
        found.setdefault(problem.field, problem.message)
    return found


def _secret(request: Request) -> str:
    return str(request.app.state.settings.web.secret_key)


# -- developer inbox ------------------------------------------------------------------------------
def inbox_enabled(request: Request) -> None:
    """The inbox shows one-time codes: only on a development site with local channels."""
    settings = MessagingSettings()
    all_local = all(
        channel.is_local
        for channel in (settings.whatsapp, settings.telegram, settings.sms, settings.email)
    )
    if not is_development(request.app.state.settings.environment) or not all_local:
        raise NotFound("We could not find that page or record.")


@router.get(
    "/dev/inbox",
    response_class=HTMLResponse,
    dependencies=[Depends(public), Depends(inbox_enabled)],
)
def inbox(
    request: Request,
    session: DbSession,
    to: Annotated[str | None, Query(max_length=254)] = None,
) -> HTMLResponse:
    messages = service.local_inbox(session, recipient=to or None, limit=100)
    return get_templates(request).render(
        request, "messaging/inbox.html", {"messages": messages, "to": to or ""}
    )


# -- campaigns (officers) -------------------------------------------------------------------------
@router.get("/messaging/campaigns", response_class=HTMLResponse)
def campaign_list(request: Request, session: DbSession, _officer: Officer) -> HTMLResponse:
    return get_templates(request).render(
        request, "messaging/campaigns.html", {"campaigns": campaigns.recent(session)}
    )


def _form_page(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return get_templates(request).render(
        request,
        "messaging/campaign_new.html",
        {
            "values": values,
            "errors": errors,
            "topics": subscribers.TOPICS,
            "channels": CHANNEL_NAMES,
            "all_languages": LANGUAGES,
        },
        status_code=status,
    )


@router.get("/messaging/campaigns/new", response_class=HTMLResponse)
def campaign_new(request: Request, _officer: Officer) -> HTMLResponse:
    return _form_page(request, {"channel": "whatsapp", "topic": "", "texts": {}}, {})


def _parse_variables(text: str) -> dict[str, str]:
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(
                FieldProblem(
                    "variables", f"Line {number}: write each variable as name=value.", "format"
                )
            )
        variables[name.strip()] = value.strip()
    return variables


def _parse_time(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=SINGAPORE)
    except ValueError:
        raise InvalidInput(
            FieldProblem("scheduled_at", N_("Give a date and time, or leave it empty."), "format")
        ) from None


@router.post("/messaging/campaigns/new", response_class=HTMLResponse, dependencies=CSRF)
def campaign_create(
    request: Request,
    session: DbSession,
    officer: Officer,
    title: Annotated[str, Form(max_length=200)] = "",
    channel: Annotated[str, Form(max_length=16)] = "whatsapp",
    topic: Annotated[str, Form(max_length=40)] = "",
    variables: Annotated[str, Form(max_length=4000)] = "",
    scheduled_at: Annotated[str, Form(max_length=40)] = "",
    text_en: Annotated[str, Form(max_length=4096)] = "",
    text_zh: Annotated[str, Form(max_length=4096)] = "",
    text_ms: Annotated[str, Form(max_length=4096)] = "",
    text_ta: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    texts = {"en": text_en, "zh": text_zh, "ms": text_ms, "ta": text_ta}
    values = {
        "title": title,
        "channel": channel,
        "topic": topic,
        "variables": variables,
        "scheduled_at": scheduled_at,
        "texts": texts,
    }
    try:
        draft = CampaignDraft(
            title=title,
            channel=channel,
            texts={code: text for code, text in texts.items() if text.strip()},
            variables=_parse_variables(variables),
            topic=topic or None,
            scheduled_at=_parse_time(scheduled_at),
        )
        campaign = campaigns.create(session, officer, draft)
    except InvalidInput as error:
        return _form_page(request, values, _errors(error), status=422)
    return RedirectResponse(f"/messaging/campaigns/{campaign.id}", status_code=303)


def _detail_context(
    session: DbSession, officer: Principal, campaign_id: int, error: str | None = None
) -> dict[str, Any]:
    campaign = campaigns.get(session, campaign_id)
    return {
        "campaign": campaign,
        "progress": campaigns.progress(session, campaign_id),
        "is_author": campaign.created_by == officer.actor,
        "can_approve": officer.has_role(APPROVER_ROLE),
        "channels": CHANNEL_NAMES,
        "error": error,
    }


@router.get("/messaging/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_detail(
    campaign_id: int, request: Request, session: DbSession, officer: Officer
) -> HTMLResponse:
    return get_templates(request).render(
        request, "messaging/campaign.html", _detail_context(session, officer, campaign_id)
    )


@router.get("/messaging/campaigns/{campaign_id}/progress", response_class=HTMLResponse)
def campaign_progress(
    campaign_id: int, request: Request, session: DbSession, _officer: Officer
) -> HTMLResponse:
    """The live progress panel, polled by htmx (a reload of the campaign page shows it too)."""
    return get_templates(request).render(
        request,
        "messaging/_progress.html",
        {"progress": campaigns.progress(session, campaign_id)},
    )


_ACTIONS = {
    "submit": campaigns.submit,
    "approve": campaigns.approve,
    "pause": campaigns.pause,
    "resume": campaigns.resume,
    "cancel": campaigns.cancel,
}


@router.post(
    "/messaging/campaigns/{campaign_id}/{action}", response_class=HTMLResponse, dependencies=CSRF
)
def campaign_action(
    campaign_id: int, action: str, request: Request, session: DbSession, officer: Officer
) -> Response:
    act = _ACTIONS.get(action)
    if act is None:
        raise NotFound(N_("We could not find that page or record."))
    try:
        with session.begin_nested():
            act(session, officer, campaign_id)
    except DomainError as error:
        context = _detail_context(session, officer, campaign_id, error=error.message)
        return get_templates(request).render(
            request, "messaging/campaign.html", context, status_code=error.status
        )
    return RedirectResponse(f"/messaging/campaigns/{campaign_id}", status_code=303)


# -- subscribers (public) -------------------------------------------------------------------------
def _subscribe_page(
    request: Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> HTMLResponse:
    return get_templates(request).render(
        request,
        "messaging/subscribe.html",
        {
            "values": values,
            "errors": errors,
            "topics": subscribers.TOPICS,
            "channels": {k: v for k, v in CHANNEL_NAMES.items() if k != "telegram"},
            "all_languages": LANGUAGES,
        },
        status_code=status,
    )


@router.get("/messaging/subscribe", response_class=HTMLResponse, dependencies=[Depends(public)])
def subscribe_form(request: Request) -> HTMLResponse:
    values = {"channel": "whatsapp", "language": "en", "topics": ["general"], "address": ""}
    return _subscribe_page(request, values, {})


@router.post("/messaging/subscribe", response_class=HTMLResponse, dependencies=PUBLIC_FORM)
def subscribe(
    request: Request,
    session: DbSession,
    address: Annotated[str, Form(max_length=64)] = "",
    channel: Annotated[str, Form(max_length=16)] = "whatsapp",
    language: Annotated[str, Form(max_length=2)] = "en",
    topics: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values = {"channel": channel, "language": language, "topics": topics or [], "address": address}
    base = str(request.app.state.settings.web.base_url).rstrip("/")
    try:
        pending = subscribers.start_web_sign_up(
            session,
            channel=channel,
            address=address,
            language=language,
            topics=topics or [],
            confirm_url=f"{base}/messaging/subscribe/confirm",
        )
    except InvalidInput as error:
        return _subscribe_page(request, values, _errors(error), status=422)
    return RedirectResponse(
        f"/messaging/subscribe/confirm?s={pending.subscriber_id}", status_code=303
    )


@router.get(
    "/messaging/subscribe/confirm", response_class=HTMLResponse, dependencies=[Depends(public)]
)
def confirm_form(
    request: Request,
    s: Annotated[int, Query(ge=1)],
    code: Annotated[str, Query(max_length=12)] = "",
) -> HTMLResponse:
    # A link only fills the form: confirming takes a press, so link scanners confirm nothing.
    return get_templates(request).render(
        request, "messaging/confirm.html", {"subscriber_id": s, "code": code, "error": None}
    )


@router.post("/messaging/subscribe/confirm", response_class=HTMLResponse, dependencies=PUBLIC_FORM)
def confirm(
    request: Request,
    session: DbSession,
    subscriber_id: Annotated[int, Form(ge=1)],
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    try:
        # No savepoint: a wrong code's attempt count must be kept.
        subscriber = subscribers.confirm_web_sign_up(session, subscriber_id, code)
    except InvalidInput as error:
        return get_templates(request).render(
            request,
            "messaging/confirm.html",
            {"subscriber_id": subscriber_id, "code": code, "error": error.problems[0].message},
            status_code=422,
        )
    token = subscribers.manage_token(_secret(request), subscriber.id)
    return RedirectResponse(f"/messaging/manage/{token}?welcome=1", status_code=303)


@router.get(
    "/messaging/manage/{token}", response_class=HTMLResponse, dependencies=[Depends(public)]
)
def manage(
    token: str, request: Request, session: DbSession, welcome: int = 0, done: str = ""
) -> HTMLResponse:
    subscriber = subscribers.from_token(session, _secret(request), token)
    return get_templates(request).render(
        request,
        "messaging/manage.html",
        {
            "subscriber": subscriber,
            "topics": subscribers.topics_of(session, subscriber.id),
            "topic_names": subscribers.TOPICS,
            "token": token,
            "welcome": bool(welcome),
            "done": done,
            "channels": CHANNEL_NAMES,
        },
    )


@router.get("/messaging/manage/{token}/export.json", dependencies=[Depends(public)])
def manage_export(token: str, request: Request, session: DbSession) -> JSONResponse:
    subscriber = subscribers.from_token(session, _secret(request), token)
    return JSONResponse(
        subscribers.export(session, subscriber),
        headers={"Content-Disposition": 'attachment; filename="my-gov-sg-data.json"'},
    )


@router.post("/messaging/manage/{token}/unsubscribe", dependencies=PUBLIC_FORM)
def manage_unsubscribe(token: str, request: Request, session: DbSession) -> Response:
    subscriber = subscribers.from_token(session, _secret(request), token)
    if subscriber.status != "unsubscribed":
        subscribers.unsubscribe(
            session, subscriber, method="link", proof={"link": "signed manage link"}
        )
    return RedirectResponse(f"/messaging/manage/{token}?done=unsubscribed", status_code=303)


@router.post(
    "/messaging/manage/{token}/delete", response_class=HTMLResponse, dependencies=PUBLIC_FORM
)
def manage_delete(token: str, request: Request, session: DbSession) -> HTMLResponse:
    subscriber = subscribers.from_token(session, _secret(request), token)
    subscribers.delete_subscriber(session, subscriber)
    return get_templates(request).render(request, "messaging/deleted.html", {})

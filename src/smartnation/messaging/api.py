"""Messaging endpoints under /api/v1/messaging/: campaigns, sign-up, provider webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from smartnation.core.errors import InvalidInput
from smartnation.core.web.auth import Principal, Public, require_role
from smartnation.core.web.deps import DbSession
from smartnation.core.web.problems import PROBLEM_JSON, problem_response
from smartnation.messaging import campaigns, subscribers, webhooks
from smartnation.messaging.channels.config import MessagingSettings
from smartnation.messaging.channels.sms import SIGNATURE_HEADER as TWILIO_SIGNATURE
from smartnation.messaging.channels.whatsapp import SIGNATURE_HEADER as WHATSAPP_SIGNATURE
from smartnation.messaging.schemas import (
    CampaignIn,
    CampaignOut,
    ConfirmIn,
    ProgressOut,
    RejectIn,
    SignUpIn,
    SignUpOut,
    SubscriberOut,
)
from smartnation.messaging.settings import WebhookSettings

router = APIRouter(prefix="/api/v1/messaging", tags=["messaging"])
Officer = Annotated[
    Principal, Depends(require_role(campaigns.OFFICER_ROLE, campaigns.APPROVER_ROLE))
]
Approver = Annotated[Principal, Depends(require_role(campaigns.APPROVER_ROLE))]


async def raw_body(request: Request) -> bytes:
    return await request.body()


async def form_params(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: str(value) for key, value in form.items()}


RawBody = Annotated[bytes, Depends(raw_body)]
FormParams = Annotated[dict[str, str], Depends(form_params)]


def _secret(request: Request) -> str:
    return str(request.app.state.settings.web.secret_key)


# -- campaigns ------------------------------------------------------------------------------------
@router.post("/campaigns", status_code=201)
def create_campaign(body: CampaignIn, session: DbSession, officer: Officer) -> CampaignOut:
    """Save a draft broadcast; its texts and variables are checked now."""
    return CampaignOut.of(campaigns.create(session, officer, body.draft()))


@router.get("/campaigns")
def list_campaigns(session: DbSession, _officer: Officer) -> list[CampaignOut]:
    """The latest campaigns, newest first."""
    return [CampaignOut.of(c) for c in campaigns.recent(session)]


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: int, session: DbSession, _officer: Officer) -> CampaignOut:
    return CampaignOut.of(campaigns.get(session, campaign_id))


@router.get("/campaigns/{campaign_id}/stats")
def campaign_stats(campaign_id: int, session: DbSession, _officer: Officer) -> ProgressOut:
    """Progress and delivery statistics (sent, delivered, read, failed) per language."""
    return ProgressOut.of(campaigns.progress(session, campaign_id))


@router.post("/campaigns/{campaign_id}/submit")
def submit_campaign(campaign_id: int, session: DbSession, officer: Officer) -> CampaignOut:
    """Ask a second officer to approve the broadcast."""
    return CampaignOut.of(campaigns.submit(session, officer, campaign_id))


@router.post("/campaigns/{campaign_id}/approve")
def approve_campaign(campaign_id: int, session: DbSession, approver: Approver) -> CampaignOut:
    """Approve a submitted broadcast (never its own author); it starts at its time."""
    return CampaignOut.of(campaigns.approve(session, approver, campaign_id))


@router.post("/campaigns/{campaign_id}/reject")
def reject_campaign(
    campaign_id: int, body: RejectIn, session: DbSession, approver: Approver
) -> CampaignOut:
    return CampaignOut.of(campaigns.reject(session, approver, campaign_id, body.note))


@router.post("/campaigns/{campaign_id}/pause")
def pause_campaign(campaign_id: int, session: DbSession, officer: Officer) -> CampaignOut:
    return CampaignOut.of(campaigns.pause(session, officer, campaign_id))


@router.post("/campaigns/{campaign_id}/resume")
def resume_campaign(campaign_id: int, session: DbSession, officer: Officer) -> CampaignOut:
    return CampaignOut.of(campaigns.resume(session, officer, campaign_id))


@router.post("/campaigns/{campaign_id}/cancel")
def cancel_campaign(campaign_id: int, session: DbSession, officer: Officer) -> CampaignOut:
    return CampaignOut.of(campaigns.cancel(session, officer, campaign_id))


# -- subscribers ----------------------------------------------------------------------------------
@router.post("/subscriptions", status_code=202, dependencies=[Public])
def sign_up(body: SignUpIn, request: Request, session: DbSession) -> SignUpOut:
    """Start a double opt-in: a code goes to the address; nothing is active until it returns."""
    base = str(request.app.state.settings.web.base_url).rstrip("/")
    pending = subscribers.start_web_sign_up(
        session,
        channel=body.channel,
        address=body.address,
        language=body.language,
        topics=body.topics,
        confirm_url=f"{base}/messaging/subscribe/confirm",
    )
    return SignUpOut(subscriber_id=pending.subscriber_id)


def _subscriber_out(session: DbSession, request: Request, subscriber: Any) -> SubscriberOut:
    return SubscriberOut(
        subscriber_id=subscriber.id,
        status=subscriber.status,
        language=subscriber.language,
        topics=subscribers.topics_of(session, subscriber.id),
        manage_token=subscribers.manage_token(_secret(request), subscriber.id),
    )


@router.post("/subscriptions/confirm", dependencies=[Public], response_model=SubscriberOut)
def confirm(body: ConfirmIn, request: Request, session: DbSession) -> Any:
    """Finish a double opt-in with the code that was sent."""
    try:
        subscriber = subscribers.confirm_web_sign_up(session, body.subscriber_id, body.code)
    except InvalidInput as error:
        # Answered, not raised: the failed attempt is counted when the request commits.
        return problem_response(error.problem())
    return _subscriber_out(session, request, subscriber)


@router.get("/subscriptions/{token}/export", dependencies=[Public])
def export_subscriber(token: str, request: Request, session: DbSession) -> dict[str, Any]:
    """Everything held about the subscriber the signed token names."""
    return subscribers.export(session, subscribers.from_token(session, _secret(request), token))


@router.post("/subscriptions/{token}/unsubscribe", dependencies=[Public])
def unsubscribe(token: str, request: Request, session: DbSession) -> SubscriberOut:
    """Stop at once (the signed link is the proof)."""
    subscriber = subscribers.from_token(session, _secret(request), token)
    if subscriber.status != "unsubscribed":
        subscribers.unsubscribe(
            session, subscriber, method="link", proof={"link": token[:16] + "…"}
        )
    return _subscriber_out(session, request, subscriber)


@router.delete("/subscriptions/{token}", status_code=204, dependencies=[Public])
def delete_subscriber(token: str, request: Request, session: DbSession) -> Response:
    """Erase the subscriber and their consent records."""
    subscribers.delete_subscriber(session, subscribers.from_token(session, _secret(request), token))
    return Response(status_code=204)


# -- provider webhooks ----------------------------------------------------------------------------
def _answer(result: webhooks.WebhookResult, ok: Response | None = None) -> Response:
    if result.unknown:
        # The provider retries a 5xx; by then our send has committed its provider id.
        return JSONResponse(
            webhooks.retry_problem(result),
            status_code=503,
            media_type=PROBLEM_JSON,
            headers={"Retry-After": "30"},
        )
    return ok or JSONResponse({"applied": result.applied, "keywords": result.keywords})


@router.get("/webhooks/whatsapp", dependencies=[Public], response_class=PlainTextResponse)
def whatsapp_handshake(request: Request) -> PlainTextResponse:
    """Meta's subscription check: echo `hub.challenge` when `hub.verify_token` matches."""
    token = MessagingSettings().whatsapp.verify_token.get_secret_value()
    return PlainTextResponse(webhooks.whatsapp_handshake(dict(request.query_params), token))


@router.post("/webhooks/whatsapp", dependencies=[Public])
def whatsapp_webhook(request: Request, body: RawBody, session: DbSession) -> Response:
    """Status reports and inbound messages, signed with X-Hub-Signature-256."""
    secret = MessagingSettings().whatsapp.app_secret.get_secret_value()
    result = webhooks.apply_whatsapp(session, body, request.headers.get(WHATSAPP_SIGNATURE), secret)
    return _answer(result)


def _twilio_url(request: Request, configured: str) -> str:
    return configured or str(request.url)


@router.post("/webhooks/twilio/status", dependencies=[Public])
def twilio_status(request: Request, params: FormParams, session: DbSession) -> Response:
    """Twilio's status callback, signed with X-Twilio-Signature."""
    token = MessagingSettings().sms.auth_token.get_secret_value()
    url = _twilio_url(request, WebhookSettings().twilio_status_url)
    signature = request.headers.get(TWILIO_SIGNATURE)
    return _answer(webhooks.apply_twilio_status(session, url, params, signature, token))


@router.post("/webhooks/twilio/inbound", dependencies=[Public])
def twilio_inbound(request: Request, params: FormParams, session: DbSession) -> Response:
    """An inbound SMS (JOIN, STOP, LANG xx); answered with empty TwiML."""
    token = MessagingSettings().sms.auth_token.get_secret_value()
    url = _twilio_url(request, WebhookSettings().twilio_inbound_url)
    signature = request.headers.get(TWILIO_SIGNATURE)
    result = webhooks.apply_twilio_inbound(session, url, params, signature, token)
    twiml = Response('<?xml version="1.0" encoding="UTF-8"?><Response/>', media_type="text/xml")
    return _answer(result, twiml)


@router.post("/webhooks/telegram", dependencies=[Public])
def telegram_update(request: Request, body: RawBody, session: DbSession) -> Response:
    """A Telegram update (subscribers' /start, /stop, /lang), checked by its secret token."""
    secret = WebhookSettings().telegram_secret_token.get_secret_value()
    header = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
    return _answer(webhooks.apply_telegram(session, body, header, secret))

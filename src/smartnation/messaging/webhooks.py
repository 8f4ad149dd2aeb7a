"""What providers tell us: delivery statuses and subscribers' keywords, verified before use.

Each webhook is checked with the channel's own verifier (`channels.whatsapp`, `channels.sms`)
before its body is trusted. A status for a message id we do not know yet (the provider's answer
raced our commit of the send) is answered so that the provider tries again later; statuses are
applied forward only, so repeats and reordering do no harm.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core.clock import utcnow
from smartnation.core.errors import (
    DomainError,
    FieldProblem,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
)
from smartnation.core.i18n import N_
from smartnation.messaging import service, subscribers
from smartnation.messaging.channels import sms, whatsapp
from smartnation.messaging.channels.base import DeliveryStatus, MalformedWebhook, StatusUpdate
from smartnation.messaging.models import Message


class BadSignature(NotAllowed):
    code = "bad_signature"


class MalformedBody(InvalidInput):
    """A signed webhook whose body is not the provider's format (400, as providers expect)."""

    status = 400


@dataclass
class WebhookResult:
    """What a webhook changed, and which provider ids we could not place yet."""

    applied: int = 0
    unknown: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)


def _unsigned() -> NotAuthenticated:
    return NotAuthenticated(N_("This webhook must be signed by the provider."), code="unsigned")


def _malformed(error: Exception) -> MalformedBody:
    problem = FieldProblem("body", str(error) or "not the provider's format", "malformed")
    return MalformedBody(problem)


def apply_status(session: Session, update: StatusUpdate) -> bool:
    """Apply one provider status report; False when the message is not known (yet)."""
    message = session.scalar(
        select(Message)
        .where(Message.provider_message_id == update.provider_message_id)
        .with_for_update()
    )
    if message is None and update.message_id and update.message_id.isdigit():
        # WhatsApp echoes our id: the report may beat the worker's commit of the provider id.
        candidate = session.get(Message, int(update.message_id), with_for_update=True)
        if (
            candidate is not None
            and candidate.channel == update.channel.value
            and candidate.provider_message_id in (None, update.provider_message_id)
            and candidate.status not in ("queued",)
        ):
            candidate.provider_message_id = update.provider_message_id
            message = candidate
    if message is None:
        return False
    detail: dict[str, object] = {"provider_message_id": update.provider_message_id}
    if update.error_code:
        detail["error_code"] = update.error_code
    if update.status is DeliveryStatus.FAILED and (update.error_code or update.error_text):
        message.error = f"{update.error_code or ''}: {update.error_text or ''}"[:2000]
    service.record_status(session, message, update.status, at=update.occurred_at, detail=detail)
    return True


def _apply_all(session: Session, updates: list[StatusUpdate], result: WebhookResult) -> None:
    for update in updates:
        if apply_status(session, update):
            result.applied += 1
        else:
            result.unknown.append(update.provider_message_id)


# -- WhatsApp Cloud API ---------------------------------------------------------------------------
def whatsapp_handshake(query: Mapping[str, str], verify_token: str) -> str:
    """The GET subscription handshake: the challenge to echo, or refused."""
    challenge = whatsapp.verify_subscription(query, verify_token)
    if challenge is None:
        raise BadSignature(N_("The verify token does not match."))
    return challenge


def _whatsapp_inbound(payload: dict[str, Any]) -> list[tuple[str, str, str, datetime]]:
    """(from, text, message id, time) of each inbound text or quick-reply button message."""
    found = []
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            for item in change.get("value", {}).get("messages", []) or []:
                kind = item.get("type")
                text = (
                    (item.get("text") or {}).get("body")
                    if kind == "text"
                    else (item.get("button") or {}).get("text")
                    if kind == "button"
                    else None
                )
                if not text:
                    continue
                when = datetime.fromtimestamp(int(item["timestamp"]), tz=UTC)
                found.append(
                    ("+" + str(item["from"]).lstrip("+"), str(text), str(item["id"]), when)
                )
    return found


def apply_whatsapp(
    session: Session, raw_body: bytes, signature: str | None, app_secret: str
) -> WebhookResult:
    """A signed WhatsApp webhook: statuses applied forward only; inbound keywords acted on."""
    if not app_secret:
        raise NotAllowed(N_("This webhook is not configured on this site."), code="not_configured")
    if not signature:
        raise _unsigned()
    if not whatsapp.verify_signature(app_secret, raw_body, signature):
        raise BadSignature(N_("The webhook signature does not match its body."))
    try:
        updates = whatsapp.parse_status_webhook(raw_body)
        inbound = _whatsapp_inbound(json.loads(raw_body))
    except (MalformedWebhook, AttributeError, KeyError, TypeError, ValueError) as error:
        raise _malformed(error) from None
    result = WebhookResult()
    _apply_all(session, updates, result)
    for address, text, inbound_id, when in inbound:
        _keyword(session, result, "whatsapp", address, text, inbound_id, when)
    return result


def _keyword(
    session: Session,
    result: WebhookResult,
    channel: str,
    address: str,
    text: str,
    inbound_id: str,
    when: datetime,
) -> None:
    try:
        outcome = subscribers.handle_keyword(
            session,
            channel=channel,
            address=address,
            text=text,
            inbound_id=inbound_id,
            received_at=when,
        )
    except InvalidInput:
        result.keywords.append("ignored")  # a sender we cannot address (e.g. not a mobile)
        return
    result.keywords.append(outcome.action)


# -- Twilio ---------------------------------------------------------------------------------------
def _verify_twilio(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> None:
    if not auth_token:
        raise NotAllowed(N_("This webhook is not configured on this site."), code="not_configured")
    if not signature:
        raise _unsigned()
    if not sms.verify_signature(auth_token, url, params, signature):
        raise BadSignature(N_("The webhook signature does not match its body."))


def apply_twilio_status(
    session: Session, url: str, params: Mapping[str, str], signature: str | None, auth_token: str
) -> WebhookResult:
    """A signed Twilio status callback for one message."""
    _verify_twilio(auth_token, url, params, signature)
    try:
        update = sms.parse_status_callback(params, now=utcnow)
    except MalformedWebhook as error:
        raise _malformed(error) from None
    result = WebhookResult()
    if update is not None and update.status is not DeliveryStatus.QUEUED:
        _apply_all(session, [update], result)
    return result


def apply_twilio_inbound(
    session: Session, url: str, params: Mapping[str, str], signature: str | None, auth_token: str
) -> WebhookResult:
    """A signed inbound SMS (JOIN, STOP, LANG xx)."""
    _verify_twilio(auth_token, url, params, signature)
    sender, text, sid = params.get("From"), params.get("Body"), params.get("MessageSid")
    if not sender or text is None or not sid:
        raise _malformed(ValueError("inbound SMS without From, Body or MessageSid"))
    result = WebhookResult()
    _keyword(session, result, "sms", sender, text, sid, utcnow())
    return result


# -- Telegram -------------------------------------------------------------------------------------
_TELEGRAM_COMMANDS = {"/start": "JOIN", "/stop": "STOP", "/lang": "LANG"}


def apply_telegram(
    session: Session, raw_body: bytes, secret_header: str | None, secret_token: str
) -> WebhookResult:
    """A Telegram update carrying a subscriber's command (/start, /stop, /lang zh) or keyword.

    Telegram reports no delivery statuses; updates are authenticated by the secret token given
    to setWebhook, which Telegram sends back in `X-Telegram-Bot-Api-Secret-Token`.
    """
    if not secret_token:
        raise NotAllowed(N_("This webhook is not configured on this site."), code="not_configured")
    if not secret_header:
        raise _unsigned()
    if not hmac.compare_digest(secret_header.encode(), secret_token.encode()):
        raise BadSignature(N_("The webhook secret token does not match."))
    try:
        update = json.loads(raw_body)
        message = update.get("message") or update.get("edited_message")
        result = WebhookResult()
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            return result  # other update kinds are not ours to act on
        chat_id = str(message["chat"]["id"])
        words = message["text"].strip().split(maxsplit=1)
        if not words:
            return result
        command = words[0].split("@")[0].lower()
        text = " ".join([_TELEGRAM_COMMANDS.get(command, words[0]), *words[1:]])
        inbound_id = f"{chat_id}:{message['message_id']}"
        when = datetime.fromtimestamp(int(message["date"]), tz=UTC)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise _malformed(error) from None
    _keyword(session, result, "telegram", chat_id, text, inbound_id, when)
    return result


def retry_problem(result: WebhookResult) -> dict[str, Any]:
    """The problem document for a webhook naming messages we do not know yet."""
    error = DomainError(
        N_("Some messages in this report are not known yet; send it again later."),
        code="unknown_message",
        unknown=result.unknown[:50],
        applied=result.applied,
    )
    error.status = 503
    return error.problem()

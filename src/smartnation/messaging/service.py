"""What messaging does for the rest of the platform: send a notification, track it, show it.

The only module other domains import. `send` is the one way any domain reaches a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import LANGUAGE_CODES
from smartnation.core.jobs import enqueue
from smartnation.core.validators import parse_phone
from smartnation.messaging import notifications
from smartnation.messaging.channels.base import DeliveryStatus, advance
from smartnation.messaging.models import Message, StatusEvent
from smartnation.messaging.notifications import NotificationTemplate

CHANNELS = ("sms", "whatsapp", "telegram", "email")
DELIVER_JOB = "messaging.deliver"


@dataclass(frozen=True)
class SentMessage:
    """What a caller learns about a message it asked to send."""

    id: int
    channel: str
    recipient: str
    status: str
    created_at: datetime


def register_template(template: NotificationTemplate) -> NotificationTemplate:
    """Make a notification template available to `send` (domains call this at import)."""
    return notifications.register(template)


def _recipient(channel: str, to: str) -> str:
    if channel in ("sms", "whatsapp"):
        return parse_phone(to, "to", mobile_only=True)
    if channel == "email":
        address = to.strip()
        if (
            "@" not in address
            or address.startswith("@")
            or address.endswith("@")
            or len(address) > 254
        ):
            raise InvalidInput(FieldProblem("to", "This is not an email address.", "format"))
        return address
    chat_id = to.strip()
    if not chat_id or len(chat_id) > 64:
        raise InvalidInput(FieldProblem("to", "This is not a Telegram chat id.", "format"))
    return chat_id


def send(
    session: Session,
    *,
    channel: str,
    to: str,
    template: str,
    variables: dict[str, str],
    idempotency_key: str,
    language: str = "en",
) -> SentMessage:
    """Queue a notification; it is delivered by a job after the caller's transaction commits.

    The same `idempotency_key` never sends twice: the first message is returned instead.
    """
    if channel not in CHANNELS:
        raise InvalidInput(
            FieldProblem("channel", f"Use one of: {', '.join(CHANNELS)}.", "unknown")
        )
    if language not in LANGUAGE_CODES:
        raise InvalidInput(FieldProblem("language", "Use en, zh, ms or ta.", "unknown"))
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidInput(
            FieldProblem("idempotency_key", "Give a key of 1 to 200 characters.", "invalid")
        )
    existing = session.scalar(select(Message).where(Message.idempotency_key == idempotency_key))
    if existing is not None:
        return _summary(existing)
    chosen = notifications.get(template)
    body = chosen.render(language, variables)
    message = Message(
        idempotency_key=idempotency_key,
        channel=channel,
        recipient=_recipient(channel, to),
        language=language,
        template=template,
        body=body,
        subject=chosen.subject.get(language) or chosen.subject.get("en"),
        status=DeliveryStatus.QUEUED.value,
        attempts=0,
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    enqueue(session, DELIVER_JOB, {"message_id": message.id})
    return _summary(message)


def _summary(message: Message) -> SentMessage:
    return SentMessage(
        message.id, message.channel, message.recipient, message.status, message.created_at
    )


def get_message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound("No such message.")
    return message


_TIMESTAMP_FIELD = {
    DeliveryStatus.SENT: "sent_at",
    DeliveryStatus.DELIVERED: "delivered_at",
    DeliveryStatus.READ: "read_at",
    DeliveryStatus.FAILED: "failed_at",
}


def record_status(
    session: Session,
    message: Message,
    status: DeliveryStatus,
    *,
    at: datetime | None = None,
    detail: dict[str, object] | None = None,
) -> bool:
    """Record a status report; the message's status only moves forward. Returns whether it did."""
    when = at or utcnow()
    session.add(
        StatusEvent(
            message_id=message.id, status=status.value, occurred_at=when, detail=detail or {}
        )
    )
    if message.status == "cancelled":
        return False
    # A broadcast row marked "sending" before its provider call has not been reported yet.
    current = (
        DeliveryStatus.QUEUED if message.status == "sending" else DeliveryStatus(message.status)
    )
    new = advance(current, status)
    if new == current:
        return False
    message.status = new.value
    message.lease_until = None
    setattr(message, _TIMESTAMP_FIELD[new], when)
    return True


def local_inbox(
    session: Session, *, recipient: str | None = None, limit: int = 50
) -> list[Message]:
    """Messages the local stand-in received, newest first (the developer inbox)."""
    query = select(Message).where(Message.provider_message_id.like("local-%"))
    if recipient:
        query = query.where(Message.recipient == recipient)
    return list(session.scalars(query.order_by(Message.id.desc()).limit(limit)))


def audit_sent(session: Session, message: Message) -> None:
    audit.record(
        session,
        "messaging.message.sent",
        subject_type="message",
        subject_id=message.id,
        details={"channel": message.channel, "template": message.template},
    )

"""Subscribers of the Gov.sg channel: opt-in by keyword or double opt-in on the web, STOP at once.

Every opt-in, confirmation, opt-out and preference change is kept as a `ConsentEvent` with its
proof: the inbound message's provider id and time for a keyword, or the signed link that was used.
A subscriber can export everything held about them as JSON and delete it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import LANGUAGE_CODES, N_
from smartnation.core.validators import parse_phone
from smartnation.messaging import service
from smartnation.messaging.models import ConsentEvent, Message, Subscriber, SubscriberTopic
from smartnation.messaging.notifications import NotificationTemplate

SUBSCRIBER_CHANNELS = ("whatsapp", "sms", "telegram")
TOPICS: dict[str, str] = {
    "general": N_("General announcements"),
    "health": N_("Health advisories"),
    "transport": N_("Transport and travel"),
    "emergencies": N_("Emergencies and safety"),
}
_TOPIC_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
CODE_LIFETIME = timedelta(minutes=30)
MAX_CODE_ATTEMPTS = 5

JOIN_WORDS = frozenset({"JOIN", "START", "SUBSCRIBE", "YES", "UNSTOP"})
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "END", "QUIT", "CANCEL", "停止", "BERHENTI"}
)
LANGUAGE_WORDS = frozenset({"LANG", "LANGUAGE", "语言", "BAHASA", "மொழி"})

CONFIRM = service.register_template(
    NotificationTemplate(
        "messaging.confirm_subscription",
        {
            "en": "Gov.sg: your confirmation code is {code}. Or confirm at {link} . "
            "Ignore this message if you did not sign up.",
            "zh": "Gov.sg：您的确认码是 {code}。也可在 {link} 确认。如果您没有订阅，请忽略此信息。",
            "ms": "Gov.sg: kod pengesahan anda ialah {code}. Atau sahkan di {link} . "
            "Abaikan mesej ini jika anda tidak mendaftar.",
            "ta": "Gov.sg: உங்கள் உறுதிப்படுத்தல் குறியீடு {code}. அல்லது {link} இல் "
            "உறுதிப்படுத்தவும். நீங்கள் பதிவு செய்யவில்லை என்றால் இதைப் புறக்கணிக்கவும்.",
        },
    )
)
WELCOME = service.register_template(
    NotificationTemplate(
        "messaging.welcome",
        {
            "en": "Welcome to Gov.sg. You will receive government updates here. "
            "Reply STOP to unsubscribe, LANG ZH, LANG MS or LANG TA to change language.",
            "zh": "欢迎订阅 Gov.sg。您将在这里收到政府的最新消息。"
            "回复 STOP 取消订阅，回复 LANG EN、LANG MS 或 LANG TA 更改语言。",
            "ms": "Selamat datang ke Gov.sg. Anda akan menerima berita kerajaan di sini. "
            "Balas STOP untuk berhenti melanggan, LANG EN, LANG ZH atau LANG TA untuk "
            "menukar bahasa.",
            "ta": "Gov.sg-க்கு வரவேற்கிறோம். அரசாங்கச் செய்திகளை இங்கே பெறுவீர்கள். "
            "விலக STOP என்றும், மொழியை மாற்ற LANG EN, LANG ZH அல்லது LANG MS என்றும் "
            "பதிலளிக்கவும்.",
        },
    )
)
GOODBYE = service.register_template(
    NotificationTemplate(
        "messaging.goodbye",
        {
            "en": "Gov.sg: you have unsubscribed and will receive no more messages. "
            "Reply JOIN to subscribe again.",
            "zh": "Gov.sg：您已取消订阅，将不会再收到信息。回复 JOIN 可重新订阅。",
            "ms": "Gov.sg: anda telah berhenti melanggan dan tidak akan menerima mesej lagi. "
            "Balas JOIN untuk melanggan semula.",
            "ta": "Gov.sg: நீங்கள் விலகிவிட்டீர்கள், இனி செய்திகள் வராது. மீண்டும் சேர JOIN என்று பதிலளிக்கவும்.",
        },
    )
)


@dataclass(frozen=True)
class KeywordOutcome:
    """What an inbound message did: subscribed, unsubscribed, language, or ignored."""

    action: str
    subscriber_id: int | None


@dataclass(frozen=True)
class PendingSignUp:
    """A web sign-up waiting for its code; `code` is shown to nobody but the message."""

    subscriber_id: int
    code: str


def parse_address(channel: str, address: str, field: str = "address") -> str:
    """A channel address in canonical form: E.164 for WhatsApp and SMS, a chat id for Telegram."""
    if channel not in SUBSCRIBER_CHANNELS:
        raise InvalidInput(
            FieldProblem("channel", N_("Choose WhatsApp, SMS or Telegram."), "unknown")
        )
    if channel == "telegram":
        chat_id = (address or "").strip()
        if not re.fullmatch(r"-?\d{1,20}", chat_id):
            raise InvalidInput(FieldProblem(field, N_("This is not a Telegram chat id."), "format"))
        return chat_id
    return parse_phone(address, field, mobile_only=True)


def parse_topics(topics: list[str] | None, field: str = "topics") -> list[str]:
    chosen = sorted({topic.strip().lower() for topic in topics or [] if topic.strip()})
    for topic in chosen:
        if not _TOPIC_PATTERN.match(topic):
            raise InvalidInput(FieldProblem(field, N_("This is not a topic name."), "format"))
    return chosen or ["general"]


def _language(value: str, field: str = "language") -> str:
    code = (value or "").strip().lower()
    if code not in LANGUAGE_CODES:
        raise InvalidInput(
            FieldProblem(field, N_("Choose English, Chinese, Malay or Tamil."), "unknown")
        )
    return code


def find(session: Session, channel: str, address: str) -> Subscriber | None:
    """The subscriber at this channel address, whatever its status."""
    return session.scalar(
        select(Subscriber).where(Subscriber.channel == channel, Subscriber.address == address)
    )


def get(session: Session, subscriber_id: int) -> Subscriber:
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(N_("We could not find that page or record."))
    return subscriber


def topics_of(session: Session, subscriber_id: int) -> list[str]:
    return list(
        session.scalars(
            select(SubscriberTopic.topic)
            .where(SubscriberTopic.subscriber_id == subscriber_id)
            .order_by(SubscriberTopic.topic)
        )
    )


def _set_topics(session: Session, subscriber_id: int, topics: list[str]) -> None:
    session.execute(delete(SubscriberTopic).where(SubscriberTopic.subscriber_id == subscriber_id))
    session.add_all(SubscriberTopic(subscriber_id=subscriber_id, topic=t) for t in topics)


def _consent(
    session: Session, subscriber: Subscriber, action: str, method: str, proof: dict[str, Any]
) -> None:
    session.add(
        ConsentEvent(
            subscriber_id=subscriber.id,
            action=action,
            method=method,
            proof=proof,
            occurred_at=utcnow(),
        )
    )
    audit.record(
        session,
        f"messaging.subscriber.{action}",
        subject_type="subscriber",
        subject_id=subscriber.id,
        details={"method": method, "channel": subscriber.channel},
    )


def _notify(
    session: Session, subscriber: Subscriber, template: str, key: str, **variables: str
) -> None:
    service.send(
        session,
        channel=subscriber.channel,
        to=subscriber.address,
        template=template,
        variables=variables,
        idempotency_key=key,
        language=subscriber.language,
    )


def _activate(
    session: Session, subscriber: Subscriber, method: str, proof: dict[str, Any], action: str
) -> None:
    subscriber.status = "active"
    subscriber.subscribed_at = utcnow()
    subscriber.unsubscribed_at = None
    subscriber.confirmation_hash = None
    subscriber.confirmation_expires_at = None
    _consent(session, subscriber, action, method, proof)


def handle_keyword(
    session: Session,
    *,
    channel: str,
    address: str,
    text: str,
    inbound_id: str,
    received_at: datetime,
) -> KeywordOutcome:
    """Act on an inbound message: JOIN [topics], STOP, LANG xx. Anything else is ignored.

    The inbound message is the proof: its provider id and time are kept with the consent event.
    STOP takes effect in this transaction, before any further broadcast row is claimed.
    """
    address = parse_address(channel, address)
    words = (text or "").strip().split()
    if not words:
        return KeywordOutcome("ignored", None)
    keyword = words[0].upper()
    proof = {"inbound_id": inbound_id, "received_at": received_at.isoformat(), "text": text[:160]}
    subscriber = find(session, channel, address)
    reply_key = f"keyword:{channel}:{inbound_id}"
    if keyword in STOP_WORDS:
        if subscriber is None or subscriber.status == "unsubscribed":
            return KeywordOutcome("ignored", subscriber.id if subscriber else None)
        unsubscribe(session, subscriber, method="keyword", proof=proof)
        _notify(session, subscriber, GOODBYE.name, reply_key)
        return KeywordOutcome("unsubscribed", subscriber.id)
    if keyword in JOIN_WORDS:
        topics = parse_topics([w for w in words[1:] if _TOPIC_PATTERN.match(w.lower())])
        if subscriber is None:
            subscriber = Subscriber(
                channel=channel,
                address=address,
                language="en",
                status="pending",
                created_at=utcnow(),
            )
            session.add(subscriber)
            session.flush()
        elif subscriber.status == "active":
            _set_topics(
                session, subscriber.id, sorted(set(topics_of(session, subscriber.id)) | set(topics))
            )
            return KeywordOutcome("subscribed", subscriber.id)
        _set_topics(session, subscriber.id, topics)
        _activate(session, subscriber, "keyword", proof, "subscribed")
        _notify(session, subscriber, WELCOME.name, reply_key)
        return KeywordOutcome("subscribed", subscriber.id)
    if keyword in LANGUAGE_WORDS and len(words) > 1 and subscriber is not None:
        code = words[1].lower()
        if code in LANGUAGE_CODES and subscriber.status == "active":
            subscriber.language = code
            _consent(
                session, subscriber, "language_changed", "keyword", {**proof, "language": code}
            )
            return KeywordOutcome("language", subscriber.id)
    return KeywordOutcome("ignored", subscriber.id if subscriber else None)


def _code_hash(subscriber_id: int, code: str) -> str:
    return hashlib.sha256(f"{subscriber_id}:{code}".encode()).hexdigest()


def start_web_sign_up(
    session: Session,
    *,
    channel: str,
    address: str,
    language: str,
    topics: list[str],
    confirm_url: str,
) -> PendingSignUp:
    """First half of the double opt-in: send a code to the address; nothing is active yet.

    `confirm_url` is the confirmation page; the code and subscriber id are added to it. The
    requested language and topics are applied only when the code comes back.
    """
    problems: list[FieldProblem] = []
    try:
        address = parse_address(channel, address)
    except InvalidInput as error:
        problems += error.problems
    try:
        language = _language(language)
    except InvalidInput as error:
        problems += error.problems
    try:
        topics = parse_topics(topics)
    except InvalidInput as error:
        problems += error.problems
    if problems:
        raise InvalidInput(problems)
    subscriber = find(session, channel, address)
    if subscriber is None:
        subscriber = Subscriber(
            channel=channel,
            address=address,
            language=language,
            status="pending",
            created_at=utcnow(),
        )
        session.add(subscriber)
        session.flush()
    code = f"{secrets.randbelow(1_000_000):06d}"
    subscriber.confirmation_hash = _code_hash(subscriber.id, code)
    subscriber.confirmation_expires_at = utcnow() + CODE_LIFETIME
    subscriber.confirmation_attempts = 0
    _consent(session, subscriber, "requested", "web", {"language": language, "topics": topics})
    link = f"{confirm_url}?s={subscriber.id}&code={code}"
    service.send(
        session,
        channel=channel,
        to=address,
        template=CONFIRM.name,
        variables={"code": code, "link": link},
        idempotency_key=f"confirm:{subscriber.id}:{secrets.token_hex(8)}",
        language=language,
    )
    return PendingSignUp(subscriber.id, code)


def confirm_web_sign_up(session: Session, subscriber_id: int, code: str) -> Subscriber:
    """Second half of the double opt-in: the right code activates the requested preferences."""
    wrong = InvalidInput(FieldProblem("code", N_("This code is wrong or has expired."), "invalid"))
    subscriber = session.get(Subscriber, subscriber_id, with_for_update=True)
    if subscriber is None or subscriber.confirmation_hash is None:
        raise wrong
    expires = subscriber.confirmation_expires_at
    if (
        expires is None
        or expires < utcnow()
        or subscriber.confirmation_attempts >= MAX_CODE_ATTEMPTS
    ):
        raise wrong
    given = _code_hash(subscriber.id, (code or "").strip())
    if not hmac.compare_digest(given, subscriber.confirmation_hash):
        subscriber.confirmation_attempts += 1
        raise wrong
    requested = session.scalar(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id, ConsentEvent.action == "requested")
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )
    wanted = requested.proof if requested is not None else {}
    subscriber.language = str(wanted.get("language") or subscriber.language)
    _set_topics(session, subscriber.id, list(wanted.get("topics") or ["general"]))
    _activate(
        session,
        subscriber,
        "web",
        {"confirmed_with": "code", "requested_event": requested.id if requested else None},
        "confirmed",
    )
    _notify(session, subscriber, WELCOME.name, f"welcome:{subscriber.id}:{secrets.token_hex(8)}")
    return subscriber


def unsubscribe(
    session: Session, subscriber: Subscriber, *, method: str, proof: dict[str, Any]
) -> None:
    """Stop at once: no further broadcast row is queued, and rows not yet claimed are cancelled."""
    subscriber.status = "unsubscribed"
    subscriber.unsubscribed_at = utcnow()
    _consent(session, subscriber, "unsubscribed", method, proof)
    session.execute(
        update(Message)
        .where(Message.subscriber_id == subscriber.id, Message.status == "queued")
        .values(status="cancelled", error="recipient unsubscribed", lease_until=None)
    )


def set_preferences(
    session: Session,
    subscriber: Subscriber,
    *,
    language: str,
    topics: list[str],
    proof: dict[str, Any],
) -> None:
    """Change language and topics (from the subscriber's own signed link)."""
    subscriber.language = _language(language)
    _set_topics(session, subscriber.id, parse_topics(topics))
    _consent(
        session,
        subscriber,
        "preferences_changed",
        "link",
        {**proof, "language": subscriber.language},
    )


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="messaging.subscriber.manage")


def manage_token(secret: str, subscriber_id: int) -> str:
    """A signed token naming a subscriber: the link to unsubscribe, export or delete."""
    return _serializer(secret).dumps({"s": subscriber_id})


def from_token(session: Session, secret: str, token: str) -> Subscriber:
    """The subscriber a signed link names; a forged or stale link is not found."""
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        raise NotFound(N_("This link is not valid. Use the latest link we sent you.")) from None
    subscriber = session.get(Subscriber, int(data.get("s", 0))) if isinstance(data, dict) else None
    if subscriber is None:
        raise NotFound(N_("This link is not valid. Use the latest link we sent you."))
    return subscriber


def export(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything held about a subscriber, as JSON-ready data (their own data export)."""
    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.id)
    )
    messages = session.scalars(
        select(Message).where(Message.subscriber_id == subscriber.id).order_by(Message.id)
    )
    audit.record(
        session,
        "messaging.subscriber.exported",
        subject_type="subscriber",
        subject_id=subscriber.id,
    )
    return {
        "subscriber": {
            "channel": subscriber.channel,
            "address": subscriber.address,
            "language": subscriber.language,
            "status": subscriber.status,
            "segment": subscriber.segment,
            "topics": topics_of(session, subscriber.id),
            "created_at": subscriber.created_at.isoformat(),
            "subscribed_at": subscriber.subscribed_at.isoformat()
            if subscriber.subscribed_at
            else None,
            "unsubscribed_at": subscriber.unsubscribed_at.isoformat()
            if subscriber.unsubscribed_at
            else None,
        },
        "consent": [
            {
                "action": e.action,
                "method": e.method,
                "proof": e.proof,
                "at": e.occurred_at.isoformat(),
            }
            for e in events
        ],
        "messages": [
            {
                "campaign_id": m.campaign_id,
                "language": m.language,
                "body": m.body,
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in messages
        ],
    }


def delete_subscriber(session: Session, subscriber: Subscriber) -> None:
    """Erase a subscriber: their row, topics and consent proof; their messages lose the address.

    Message rows stay (delivery statistics count them) but no longer say who received them.
    """
    session.execute(
        update(Message)
        .where(Message.subscriber_id == subscriber.id)
        .values(
            recipient="erased",
            subscriber_id=None,
            status="cancelled",
        )
        .where(Message.status == "queued")
    )
    session.execute(
        update(Message)
        .where(Message.subscriber_id == subscriber.id)
        .values(recipient="erased", subscriber_id=None)
    )
    audit.record(
        session,
        "messaging.subscriber.deleted",
        subject_type="subscriber",
        subject_id=subscriber.id,
        details={"channel": subscriber.channel},
    )
    session.delete(subscriber)
    session.flush()

"""SMS to people: acknowledgements, invitations, confirmations and reminders.

Every message goes through `send_sms`, the one place that hands text to a channel. Until the
messaging domain provides `smartnation.messaging.service.send`, messages land in the local stand-in
inbox (`appointments_sms`); the idempotency key makes a message sent twice arrive once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartnation.appointments.models import SmsMessage
from smartnation.core.clock import utcnow
from smartnation.core.i18n import DEFAULT_LANGUAGE, LANGUAGE_CODES, N_, translations

TEMPLATES: dict[str, str] = {
    "registered": N_(
        "Thank you for registering for COVID-19 vaccination. We will send you an SMS when you "
        "can book."
    ),
    "invitation": N_(
        "You can now book your COVID-19 vaccination. Your booking code is {code}. Use it with "
        "your NRIC/FIN at {url} by {expires}."
    ),
    "confirmation": N_(
        "Booked: dose 1 on {first}, dose 2 on {second}, at {centre}. Bring your NRIC/FIN."
    ),
    "cancellation": N_("Your vaccination appointments at {centre} are cancelled."),
    "reminder": N_(
        "Reminder: your vaccination (dose {dose}) is tomorrow, {when}, at {centre}. Bring your "
        "NRIC/FIN."
    ),
}


def render(template: str, variables: dict[str, Any], language: str) -> str:
    """The text of a message in a language (English when the language is not offered)."""
    language = language if language in LANGUAGE_CODES else DEFAULT_LANGUAGE
    return translations(language).gettext(TEMPLATES[template]).format(**variables)


def send_sms(
    session: Session,
    *,
    to: str,
    template: str,
    variables: dict[str, Any],
    language: str,
    idempotency_key: str,
) -> None:
    """Send an SMS in the caller's transaction; a repeated idempotency key sends nothing."""
    if session.scalar(select(SmsMessage.id).where(SmsMessage.idempotency_key == idempotency_key)):
        return
    session.add(
        SmsMessage(
            to=to,
            template=template,
            language=language,
            body=render(template, variables, language),
            idempotency_key=idempotency_key,
            created_at=utcnow(),
        )
    )


def inbox(session: Session, to: str) -> list[SmsMessage]:
    """Messages sent to a number, newest first (the local stand-in inbox)."""
    return list(
        session.scalars(
            select(SmsMessage).where(SmsMessage.to == to).order_by(SmsMessage.id.desc())
        )
    )

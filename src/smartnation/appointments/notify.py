"""SMS to people: acknowledgements, invitations, confirmations and reminders.

Every message goes through `send_sms`, which hands it to the messaging domain
(`smartnation.messaging.service.send`): queued in the caller's transaction, delivered by a job
after it commits, never twice for one idempotency key. The texts are this package's page text
(translated in its catalogues), registered with messaging as notification templates.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from smartnation.core.i18n import LANGUAGE_CODES, N_, translations
from smartnation.messaging import service as messaging

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


def template_name(template: str) -> str:
    return f"appointments.{template}"


def register_templates() -> None:
    """Give messaging our texts in all four languages, from our catalogues."""
    for name, text in TEMPLATES.items():
        messaging.register_template(
            messaging.NotificationTemplate(  # type: ignore[attr-defined]
                name=template_name(name),
                texts={code: translations(code).gettext(text) for code in sorted(LANGUAGE_CODES)},
            )
        )


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
    messaging.send(
        session,
        channel="sms",
        to=to,
        template=template_name(template),
        variables={key: str(value) for key, value in variables.items()},
        language=language if language in LANGUAGE_CODES else "en",
        idempotency_key=idempotency_key,
    )


register_templates()

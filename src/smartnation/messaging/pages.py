"""Messaging pages: the developer inbox where the local stand-in's messages can be read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from smartnation.core.errors import NotFound
from smartnation.core.i18n import N_
from smartnation.core.web.auth import public
from smartnation.core.web.deps import DbSession
from smartnation.core.web.templates import ServiceLink, get_templates
from smartnation.messaging import service
from smartnation.messaging.channels.config import MessagingSettings

router = APIRouter(include_in_schema=False)
SERVICES = [
    ServiceLink(
        N_("Developer inbox"),
        N_("Read the messages the platform would have sent by SMS, WhatsApp or email."),
        "/dev/inbox",
    ),
]


def inbox_enabled(request: Request) -> None:
    """The inbox shows one-time codes: only on a development site with local channels."""
    settings = MessagingSettings()
    all_local = all(
        channel.is_local
        for channel in (settings.whatsapp, settings.telegram, settings.sms, settings.email)
    )
    if request.app.state.settings.environment != "development" or not all_local:
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

"""CSRF protection for forms: a per-session token that every state-changing form sends back.

APIs are not covered: they authenticate with bearer tokens, which a browser never sends by itself.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from smartnation.core.errors import DomainError
from smartnation.core.i18n import N_

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
FORM_EXPIRED = N_("The form could not be checked. Please go back, reload and try again.")


class CsrfFailure(DomainError):
    status = 400
    title = N_("This form has expired")
    code = "csrf_failed"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    if "session" not in request.scope:
        return ""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


async def verify_csrf(request: Request) -> None:
    """A dependency for every form POST: the form's token must match the session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD) or request.headers.get("x-csrf-token", "")
    expected = request.session.get(CSRF_SESSION_KEY) if "session" in request.scope else None
    if not isinstance(sent, str) or not isinstance(expected, str) or not sent:
        raise CsrfFailure(FORM_EXPIRED)
    if not hmac.compare_digest(sent, expected):
        raise CsrfFailure(FORM_EXPIRED)

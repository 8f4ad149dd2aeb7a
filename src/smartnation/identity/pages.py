"""The identity domain's pages: accounts, consents, officers' and administrators' pages, and
the developer guide. The login pages (for services and for the platform itself) are included
with the protocol endpoints in :mod:`smartnation.identity.api`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from smartnation.core.i18n import N_
from smartnation.core.web.auth import Public
from smartnation.core.web.templates import ServiceLink
from smartnation.identity import account_pages, admin_pages

router = APIRouter(include_in_schema=False)
router.include_router(account_pages.router)
router.include_router(admin_pages.router)
SERVICES = [
    ServiceLink(
        N_("My SingPass account"),
        N_("Activate your account, set up second factors, and see who you share data with."),
        "/identity/account",
    ),
    ServiceLink(
        N_("Log in with SingPass: for developers"),
        N_("Integrate your service with the national login, MyInfo and CorpPass."),
        "/identity/developers",
    ),
]
_PASSKEY_JS = (Path(__file__).parent / "static" / "passkey.js").read_text()


@router.get("/id/static/passkey.js", dependencies=[Public])
def passkey_script() -> Response:
    """The small script that asks the browser for a passkey (WebAuthn needs JavaScript)."""
    return Response(
        _PASSKEY_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )

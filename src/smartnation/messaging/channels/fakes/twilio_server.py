"""A local Twilio Messages API: `POST /2010-04-01/Accounts/{sid}/Messages.json`.

Form-encoded parameters, HTTP Basic auth (account SID, auth token); `201` with the message
resource, or `{"code", "message", "more_info", "status"}`. It can also build the signed
status callbacks Twilio would POST back.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartnation.messaging.channels.fakes.common import FakeProvider
from smartnation.messaging.channels.fakes.server import cli_arguments, serve_foreground
from smartnation.messaging.channels.sms import compute_signature

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def twilio_error(
    status_code: int, code: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status_code,
        },
        status_code=status_code,
        headers=headers,
    )


@dataclass
class FakeTwilio(FakeProvider):
    account_sid: str = "AC" + "0" * 32
    auth_token: str = "test-auth-token"  # noqa: S105  (the fake's own test credential)
    # Recipients who replied STOP (21610).
    unsubscribed: set[str] = field(default_factory=set)
    # sid -> (recipient, sender)
    sent: dict[str, tuple[str, str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{sid}/Messages.json", self._create, methods=["POST"])
            ]
        )

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return (
            request.headers.get("authorization") == f"Basic {expected}"
            and request.path_params["sid"] == self.account_sid
        )

    # One early answer per provider error, in the order the provider checks them.
    async def _create(self, request: Request) -> Response:
        self.note_peer(request)
        if not self._authorised(request):
            return twilio_error(401, 20003, "Authenticate")
        form = await request.form()
        to = str(form.get("To") or "")
        sender = str(form.get("From") or form.get("MessagingServiceSid") or "")
        body = str(form.get("Body") or "")
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not sender:
            return twilio_error(
                400,
                21603,
                "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
            )
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if not _E164.match(to):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        scripted = await self.scripted(to)
        if scripted is not None:
            return scripted
        if to in self.server_errors:
            return twilio_error(500, 20500, "An internal server error has occurred")
        if self.over_rate(to):
            return twilio_error(429, 20429, "Too Many Requests", self.retry_headers())
        if to in self.unsubscribed:
            return twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        params = {key: str(value) for key, value in form.items()}
        self.keep(params)
        if self.record:
            self.sent[sid] = (to, sender)
        now = format_datetime(datetime.now(UTC))
        return JSONResponse(self._resource(sid, params, now), status_code=201)

    def _resource(self, sid: str, params: dict[str, str], now: str) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": params["Body"],
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": params.get("From"),
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if params.get("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": params["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def status_callback(
        self, sid: str, status: str, url: str, *, error_code: str | None = None
    ) -> tuple[dict[str, str], str]:
        """The form Twilio would POST to `url` for `sid`, and its `X-Twilio-Signature`."""
        to, sender = self.sent[sid]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "From": sender,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": to,
        }
        if error_code is not None:
            params["ErrorCode"] = error_code
        return params, compute_signature(self.auth_token, url, params)


def main() -> None:
    parser = cli_arguments("A local Twilio Messages API stand-in.")
    args = parser.parse_args()
    fake = FakeTwilio(rate_per_second=args.rate, record=False)
    serve_foreground(fake.app(), args.host, args.port)


if __name__ == "__main__":
    main()

"""A local WhatsApp Business Cloud API: `POST /{version}/{phone-number-id}/messages`.

Replies as the Graph API does: `200 {"messaging_product", "contacts", "messages": [{"id"}]}`,
or an error object `{"error": {"message", "type", "code", "error_data": {"details"},
"fbtrace_id"}}` with the HTTP status Meta documents for that code (throughput errors such as
130429 come back as 400, not 429). It can also build the signed status webhooks Meta would
POST back for the messages it accepted.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartnation.messaging.channels.fakes.common import FakeProvider
from smartnation.messaging.channels.fakes.lean import LeanReply, LeanRequest
from smartnation.messaging.channels.fakes.server import (
    cli_arguments,
    serve_foreground,
    serve_lean_foreground,
)
from smartnation.messaging.channels.whatsapp import sign_payload

# A reply as plain data (status, JSON body, extra headers): both servers below encode it.
Reply = tuple[int, dict[str, Any], dict[str, str]]


def graph_error_reply(
    code: int,
    message: str,
    details: str,
    *,
    status_code: int = 400,
    error_type: str = "OAuthException",
    headers: dict[str, str] | None = None,
) -> Reply:
    body = {
        "error": {
            "message": message,
            "type": error_type,
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details},
            "fbtrace_id": secrets.token_urlsafe(16),
        }
    }
    return status_code, body, headers or {}


def _json_response(reply: Reply) -> JSONResponse:
    status, body, headers = reply
    return JSONResponse(body, status_code=status, headers=headers)


@dataclass
class FakeWhatsApp(FakeProvider):
    access_token: str = "test-access-token"  # noqa: S105  (the fake's own test credential)
    phone_number_id: str = "106540352242922"
    waba_id: str = "102290129340398"
    display_phone_number: str = "6580000000"
    app_secret: str = "test-app-secret"  # noqa: S105  (the fake's own test credential)
    # Like a test number: only these may receive (131030 for others). None: anyone.
    allowed_recipients: set[str] | None = None
    # Numbers not on WhatsApp (131026).
    undeliverable: set[str] = field(default_factory=set)
    # Approved templates: name -> {language code: number of body parameters}. None: any.
    templates: dict[str, dict[str, int]] | None = None
    # wamid -> (recipient, biz_opaque_callback_data), for building status webhooks.
    sent: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count, init=False, repr=False)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/{version}/{phone_id}/messages", self._send, methods=["POST"])]
        )

    async def _send(self, request: Request) -> Response:
        self.note_peer(request)
        checked = self.check(
            request.headers.get("authorization"),
            request.path_params["phone_id"],
            await request.body(),
        )
        if not isinstance(checked, dict):
            return _json_response(checked)
        scripted = await self.scripted(checked["to"])
        if scripted is not None:
            return scripted
        return _json_response(self.answer(checked))

    def lean_handler(self, request: LeanRequest) -> LeanReply:
        """The same provider behind the bare server (no scripted delays or bare statuses)."""
        parts = request.path.split("/")
        if request.method != "POST" or len(parts) != 4 or parts[3] != "messages":
            return LeanReply(404, b'{"error":{"message":"Unknown path","code":100}}')
        checked = self.check(request.headers.get("authorization"), parts[2], request.body)
        status, body, headers = checked if not isinstance(checked, dict) else self.answer(checked)
        return LeanReply(status, json.dumps(body, separators=(",", ":")).encode(), headers=headers)

    # One early answer per provider error, in the order the provider checks them.
    def check(self, authorization: str | None, phone_id: str, raw: bytes) -> dict[str, Any] | Reply:
        """The request's payload if it may be sent, else the provider's refusal."""
        if authorization != f"Bearer {self.access_token}":
            return graph_error_reply(
                190,
                "Invalid OAuth access token - Cannot parse access token",
                "Invalid OAuth access token",
                status_code=401,
            )
        if phone_id != self.phone_number_id:
            return graph_error_reply(
                100,
                f"Unsupported post request. Object with ID '{phone_id}' "
                "does not exist, cannot be loaded due to missing permissions, or does not "
                "support this operation.",
                "Unknown phone number id",
                error_type="GraphMethodException",
            )
        try:
            payload = json.loads(raw)
        except ValueError:
            return graph_error_reply(100, "(#100) Invalid parameter", "Request body is not JSON")
        problem = self._validate(payload)
        if problem is not None:
            return problem
        assert isinstance(payload, dict)
        return payload

    def answer(self, payload: dict[str, Any]) -> Reply:
        """Accept a valid payload, or refuse it for its recipient or for the rate."""
        recipient = payload["to"]
        if recipient in self.server_errors:
            return graph_error_reply(
                131000, "(#131000) Something went wrong", "Something went wrong", status_code=500
            )
        if self.over_rate(recipient):
            return graph_error_reply(
                130429,
                "(#130429) Rate limit hit",
                "Cloud API message throughput has been reached.",
                headers=self.retry_headers(),
            )
        if self.allowed_recipients is not None and recipient not in self.allowed_recipients:
            return graph_error_reply(
                131030,
                "(#131030) Recipient phone number not in allowed list",
                "Recipient phone number not in allowed list: Add recipient phone number to "
                "recipient list and try again.",
            )
        if recipient in self.undeliverable:
            return graph_error_reply(
                131026,
                "(#131026) Message Undeliverable.",
                "Message Undeliverable.",
            )
        wamid = f"wamid.{next(self._ids):020d}{secrets.token_hex(6)}"
        self.keep(payload)
        if self.record:
            self.sent[wamid] = (recipient, payload.get("biz_opaque_callback_data"))
        body = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": recipient, "wa_id": recipient.lstrip("+")}],
            "messages": [{"id": wamid, "message_status": "accepted"}],
        }
        return 200, body, {}

    # One early answer per provider error, in the order the provider checks them.
    def _validate(self, payload: Any) -> Reply | None:
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp":
            return graph_error_reply(
                100,
                "(#100) The parameter messaging_product is required.",
                "messaging_product must be whatsapp",
            )
        if not payload.get("to"):
            return graph_error_reply(100, "(#100) The parameter to is required.", "to is required")
        kind = payload.get("type", "text")
        if kind == "text":
            if not (payload.get("text") or {}).get("body"):
                return graph_error_reply(
                    100, "(#100) The parameter text['body'] is required.", "text body required"
                )
            return None
        if kind != "template":
            return graph_error_reply(100, "(#100) Invalid parameter", f"unsupported type {kind}")
        template = payload.get("template") or {}
        name = template.get("name")
        language = (template.get("language") or {}).get("code")
        if not name or not language:
            return graph_error_reply(
                100,
                "(#100) The parameter template['name'] is required.",
                "template name and language code are required",
            )
        if self.templates is None:
            return None
        languages = self.templates.get(name, {})
        if language not in languages:
            return graph_error_reply(
                132001,
                "(#132001) Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        given = sum(
            len(component.get("parameters", []))
            for component in template.get("components", [])
            if component.get("type") == "body"
        )
        if given != languages[language]:
            return graph_error_reply(
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                f"body: number of localizable_params ({given}) does not match the expected "
                f"number of params ({languages[language]})",
            )
        return None

    def status_webhook(
        self,
        wamid: str,
        status: str,
        *,
        timestamp: int | None = None,
        error_code: int | None = None,
        error_title: str | None = None,
    ) -> bytes:
        """The raw body Meta would POST to report `status` for a message this fake accepted."""
        recipient, opaque = self.sent[wamid]
        report: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(timestamp if timestamp is not None else int(time.time())),
            "recipient_id": recipient.lstrip("+"),
        }
        if opaque is not None:
            report["biz_opaque_callback_data"] = opaque
        if status in ("sent", "delivered", "read"):
            report["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
        if error_code is not None:
            report["errors"] = [
                {
                    "code": error_code,
                    "title": error_title or "Message failed",
                    "message": error_title or "Message failed",
                    "error_data": {"details": error_title or "Message failed"},
                }
            ]
        body = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": self.waba_id,
                    "changes": [
                        {
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": self.display_phone_number,
                                    "phone_number_id": self.phone_number_id,
                                },
                                "statuses": [report],
                            },
                            "field": "messages",
                        }
                    ],
                }
            ],
        }
        return json.dumps(body, separators=(",", ":")).encode()

    def signed_status_webhook(self, wamid: str, status: str, **kwargs: Any) -> tuple[bytes, str]:
        """The body and its `X-Hub-Signature-256` header value."""
        body = self.status_webhook(wamid, status, **kwargs)
        return body, sign_payload(self.app_secret, body)


def main() -> None:
    parser = cli_arguments("A local WhatsApp Cloud API stand-in.")
    parser.add_argument("--access-token", default="test-access-token")
    parser.add_argument("--phone-number-id", default="106540352242922")
    parser.add_argument(
        "--asgi",
        action="store_true",
        help="serve the Starlette app under uvicorn instead of the bare server",
    )
    args = parser.parse_args()
    fake = FakeWhatsApp(
        rate_per_second=args.rate,
        record=False,
        access_token=args.access_token,
        phone_number_id=args.phone_number_id,
    )
    if args.asgi:
        serve_foreground(fake.app(), args.host, args.port)
    else:
        serve_lean_foreground(fake.lean_handler, args.host, args.port)


if __name__ == "__main__":
    main()

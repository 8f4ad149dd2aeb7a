"""A local Telegram Bot API: `POST /bot<token>/sendMessage` with JSON or form parameters.

Replies `{"ok": true, "result": Message}` or `{"ok": false, "error_code", "description"}`,
adding `"parameters": {"retry_after": N}` to flood-control (429) answers as Telegram does.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartnation.messaging.channels.fakes.common import FakeProvider
from smartnation.messaging.channels.fakes.server import cli_arguments, serve_foreground


def bot_error(
    status_code: int, description: str, parameters: dict[str, Any] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": status_code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, status_code=status_code)


@dataclass
class FakeTelegram(FakeProvider):
    bot_token: str = "123456:TEST-bot-token"  # noqa: S105  (the fake's own test credential)
    # Chats the bot can reach ("chat not found" for others). None: any.
    known_chats: set[str] | None = None
    # Users who blocked the bot (403).
    blocked: set[str] = field(default_factory=set)
    flood_wait_seconds: int = 3
    _ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(1), init=False, repr=False
    )

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/bot{token}/{method}", self._call, methods=["POST"])])

    # One early answer per provider error, in the order the provider checks them.
    async def _call(self, request: Request) -> Response:
        self.note_peer(request)
        if request.path_params["token"] != self.bot_token:
            return bot_error(401, "Unauthorized")
        if request.path_params["method"].lower() != "sendmessage":
            return bot_error(404, "Not Found: method not found")
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                params = await request.json()
            except ValueError:
                return bot_error(400, "Bad Request: can't parse JSON")
        else:
            params = dict(await request.form())
        chat_id = str(params.get("chat_id") or "")
        text = params.get("text") or ""
        if not chat_id:
            return bot_error(400, "Bad Request: chat_id is empty")
        if not text:
            return bot_error(400, "Bad Request: message text is empty")
        scripted = await self.scripted(chat_id)
        if scripted is not None:
            return scripted
        if chat_id in self.server_errors:
            return bot_error(500, "Internal Server Error")
        if self.over_rate(chat_id):
            wait = (
                int(self.retry_after) if self.retry_after is not None else self.flood_wait_seconds
            )
            return bot_error(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        if self.known_chats is not None and chat_id not in self.known_chats:
            return bot_error(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            return bot_error(403, "Forbidden: bot was blocked by the user")
        self.keep(params)
        chat_key: int | str = int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id
        return JSONResponse(
            {
                "ok": True,
                "result": {
                    "message_id": next(self._ids),
                    "from": {
                        "id": int(self.bot_token.split(":", 1)[0]),
                        "is_bot": True,
                        "first_name": "Gov.sg",
                        "username": "govsg_bot",
                    },
                    "chat": {"id": chat_key, "type": "private"},
                    "date": int(time.time()),
                    "text": text,
                },
            }
        )


def main() -> None:
    parser = cli_arguments("A local Telegram Bot API stand-in.")
    parser.add_argument("--bot-token", default="123456:TEST-bot-token")
    args = parser.parse_args()
    fake = FakeTelegram(rate_per_second=args.rate, record=False, bot_token=args.bot_token)
    serve_foreground(fake.app(), args.host, args.port)


if __name__ == "__main__":
    main()

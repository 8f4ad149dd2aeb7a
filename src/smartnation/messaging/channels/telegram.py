"""Telegram Bot API: `POST {base}/bot<token>/sendMessage {chat_id, text}`.

Every reply is `{"ok": true, "result": Message}` or `{"ok": false, "error_code", "description",
"parameters": {"retry_after", "migrate_to_chat_id"}}`. Telegram's `description` is the
precise part; `error_code` mirrors the HTTP status. A bot may send about 30 messages a second.
Telegram has no template mechanism, so only a rendered `body` can be sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp

from smartnation.messaging.channels.base import (
    ChannelKind,
    Failure,
    InvalidRecipient,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    SendPolicy,
    SendResult,
    TemporaryFailure,
)
from smartnation.messaging.channels.httpcommon import (
    TRANSPORT_ERRORS,
    HttpChannel,
    ProviderResponse,
    retry_after_header,
    transport_failure,
)

# 400 descriptions that mean the chat cannot be reached, rather than a malformed request.
_UNREACHABLE_CHAT = (
    "chat not found",
    "peer_id_invalid",
    "user not found",
    "chat_id is empty",
    "group chat was upgraded to a supergroup chat",
)

MAX_TEXT_LENGTH = 4096


class TelegramBotChannel(HttpChannel):
    kind = ChannelKind.TELEGRAM

    def __init__(
        self,
        *,
        bot_token: str,
        base_url: str = "https://api.telegram.org",
        timeout: float = 10.0,
        parse_mode: str | None = None,
        policy: SendPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(base_url=base_url, timeout=timeout, policy=policy, session=session)
        self.parse_mode = parse_mode
        # The token is part of the path: never log request URLs from this client.
        self._path = f"/bot{bot_token}/sendMessage"

    def build_payload(self, message: OutboundMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "chat_id": message.recipient,
            "text": message.body,
            "link_preview_options": {"is_disabled": True},
        }
        if self.parse_mode:
            payload["parse_mode"] = self.parse_mode
        return payload

    async def send(self, message: OutboundMessage) -> SendResult:
        if not message.body:
            return SendResult.failed(
                message, PermanentFailure("no-body", "Telegram needs a rendered body")
            )
        if len(message.body) > MAX_TEXT_LENGTH:
            return SendResult.failed(
                message, PermanentFailure("too-long", f"text over {MAX_TEXT_LENGTH} characters")
            )
        try:
            response = await self._post(self._path, json=self.build_payload(message))
        except TRANSPORT_ERRORS as exc:
            return SendResult.failed(message, transport_failure(exc))
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code == 200 and isinstance(body, dict) and body.get("ok") is True:
            result = body.get("result") or {}
            chat_id = (result.get("chat") or {}).get("id", message.recipient)
            # Telegram numbers messages per chat, so the chat is part of the identity.
            return SendResult.ok(message, f"{chat_id}:{result.get('message_id')}")
        return SendResult.failed(message, classify_error(response, body))


def classify_error(response: ProviderResponse, body: Any) -> Failure:
    error: Mapping[str, Any] = body if isinstance(body, dict) else {}
    status = error.get("error_code") or response.status_code
    description = str(error.get("description") or response.reason_phrase or "")
    parameters = error.get("parameters")
    if not isinstance(parameters, dict):
        parameters = {}
    code = str(status)
    lowered = description.lower()

    if status == 429:
        retry_after = parameters.get("retry_after")
        if not isinstance(retry_after, int | float):
            retry_after = retry_after_header(response) or 1.0
        return RateLimited(code, description, retry_after=float(retry_after))
    if status == 403:
        # Blocked by the user, user deactivated, bot kicked, or the user never started it.
        return InvalidRecipient(code, description)
    if status == 400 and (
        "migrate_to_chat_id" in parameters or any(s in lowered for s in _UNREACHABLE_CHAT)
    ):
        return InvalidRecipient(code, description)
    if isinstance(status, int) and status >= 500:
        return TemporaryFailure(code, description)
    return PermanentFailure(code, description)

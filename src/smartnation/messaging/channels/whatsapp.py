"""WhatsApp Business Cloud API: template sends, status webhooks and their verification.

Send: `POST {base}/{version}/{phone-number-id}/messages` with a Bearer token. Outside the
24-hour customer window only pre-approved templates may be sent, so a message with a
`template_name` goes out as a template in the subscriber's language; a plain `body` goes out as
a text message (valid only inside the window).

Status webhooks arrive as `POST`s signed with `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
the raw body keyed by the app secret>`; the subscription is confirmed once with a `GET` carrying
`hub.mode=subscribe`, `hub.verify_token` and `hub.challenge`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from smartnation.messaging.channels.base import (
    ChannelKind,
    DeliveryStatus,
    Failure,
    InvalidRecipient,
    InvalidSignature,
    Language,
    MalformedWebhook,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    SendPolicy,
    SendResult,
    StatusUpdate,
    TemporaryFailure,
)
from smartnation.messaging.channels.httpcommon import (
    TRANSPORT_ERRORS,
    HttpChannel,
    ProviderResponse,
    retry_after_header,
    transport_failure,
)

SIGNATURE_HEADER = "X-Hub-Signature-256"

# Template language codes as WhatsApp names them; Chinese templates are Simplified (zh_CN).
DEFAULT_LANGUAGE_CODES: Mapping[Language, str] = {
    Language.EN: "en",
    Language.ZH: "zh_CN",
    Language.MS: "ms",
    Language.TA: "ta",
}

# Graph API error codes that mean "too fast", with how long to wait when the reply gives no
# Retry-After: throughput is counted per second; a business may send one message every six
# seconds to the same user (pair rate limit); account and app limits reset over minutes.
RATE_LIMIT_CODES: Mapping[int, float] = {
    130429: 1.0,  # Cloud API message throughput reached
    131056: 6.0,  # pair rate limit: too many messages to the same recipient
    80007: 60.0,  # WhatsApp Business Account rate limit
    4: 60.0,  # application request limit
}
INVALID_RECIPIENT_CODES = frozenset(
    {
        131026,  # message undeliverable: not on WhatsApp, old client, or has not accepted terms
        131030,  # recipient not in the allowed list (test numbers)
        131021,  # recipient is the sender
    }
)
TEMPORARY_CODES = frozenset(
    {
        1,  # API unknown
        2,  # API service: downtime or overload
        131000,  # something went wrong
        131016,  # service unavailable
        131049,  # not delivered to keep engagement healthy; may succeed later
        133004,  # server temporarily unavailable
    }
)

_STATUS_BY_NAME: Mapping[str, DeliveryStatus] = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    # A voice message was played: at least read.
    "played": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


class WhatsAppCloudChannel(HttpChannel):
    kind = ChannelKind.WHATSAPP

    def __init__(
        self,
        *,
        phone_number_id: str,
        access_token: str,
        base_url: str = "https://graph.facebook.com",
        api_version: str = "v23.0",
        timeout: float = 10.0,
        policy: SendPolicy | None = None,
        language_codes: Mapping[Language, str] | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__(base_url=base_url, timeout=timeout, policy=policy, session=session)
        # Overrides are merged over the defaults: configuring one language keeps the others.
        self.language_codes = {**DEFAULT_LANGUAGE_CODES, **(language_codes or {})}
        self._path = f"/{api_version}/{phone_number_id}/messages"
        self._headers = {"Authorization": f"Bearer {access_token}"}

    def build_payload(self, message: OutboundMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.recipient,
            # Echoed back in every status webhook for this message: ties reports to our row.
            "biz_opaque_callback_data": message.message_id,
        }
        if message.template_name is not None:
            template: dict[str, Any] = {
                "name": message.template_name,
                "language": {"code": self.language_codes[message.language]},
            }
            if message.template_parameters:
                template["components"] = [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": value} for value in message.template_parameters
                        ],
                    }
                ]
            payload["type"] = "template"
            payload["template"] = template
        else:
            payload["type"] = "text"
            payload["text"] = {"preview_url": False, "body": message.body}
        return payload

    async def send(self, message: OutboundMessage) -> SendResult:
        try:
            response = await self._post(
                self._path, json=self.build_payload(message), headers=self._headers
            )
        except TRANSPORT_ERRORS as exc:
            return SendResult.failed(message, transport_failure(exc))
        if response.status_code == 200:
            try:
                provider_id = response.json()["messages"][0]["id"]
            except (ValueError, LookupError, TypeError):
                return SendResult.failed(
                    message,
                    TemporaryFailure("bad-response", "200 without a message id", ambiguous=True),
                )
            return SendResult.ok(message, str(provider_id))
        return SendResult.failed(message, classify_error(response))


def classify_error(response: ProviderResponse) -> Failure:
    """Map a Graph API error reply to a typed failure, by error code first (as Meta advises)."""
    error: Mapping[str, Any] = {}
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            error = body["error"]
    except ValueError:
        pass
    raw_code = error.get("code")
    code = raw_code if isinstance(raw_code, int) else None
    message = str(error.get("message") or response.reason_phrase or "")
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    text = f"{message}: {details}" if details else message
    code_text = str(code) if code is not None else f"http-{response.status_code}"
    retry_after = retry_after_header(response)

    if code is not None and code in RATE_LIMIT_CODES:
        return RateLimited(code_text, text, retry_after=retry_after or RATE_LIMIT_CODES[code])
    if code in INVALID_RECIPIENT_CODES:
        return InvalidRecipient(code_text, text)
    if code in TEMPORARY_CODES:
        return TemporaryFailure(code_text, text)
    if response.status_code == 429:
        return RateLimited(code_text, text, retry_after=retry_after or 1.0)
    if response.status_code >= 500:
        return TemporaryFailure(code_text, text)
    return PermanentFailure(code_text, text)


def sign_payload(app_secret: str | bytes, raw_body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `raw_body`."""
    key = app_secret.encode() if isinstance(app_secret, str) else app_secret
    return "sha256=" + hmac.new(key, raw_body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str | bytes, raw_body: bytes, header: str | None) -> bool:
    """True when `header` is the HMAC of exactly these bytes (verify before parsing JSON)."""
    if not header or not header.startswith("sha256="):
        return False
    try:
        given = header.removeprefix("sha256=").strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = sign_payload(app_secret, raw_body).removeprefix("sha256=").encode("ascii")
    return hmac.compare_digest(expected, given)


def verify_subscription(query: Mapping[str, str], verify_token: str) -> str | None:
    """The GET handshake: the challenge to echo back, or None to answer 403."""
    if query.get("hub.mode") != "subscribe":
        return None
    token = query.get("hub.verify_token", "")
    if not verify_token or not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge")


def parse_status_webhook(raw_body: bytes) -> list[StatusUpdate]:
    """Every status report in a `messages` webhook; inbound messages are ignored here."""
    try:
        payload = json.loads(raw_body)
    except ValueError as exc:
        raise MalformedWebhook("webhook body is not JSON") from exc
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        raise MalformedWebhook("not a WhatsApp Business Account webhook")
    updates: list[StatusUpdate] = []
    try:
        for entry in payload.get("entry", []):
            for change in entry.get("changes", []):
                value = change.get("value", {})
                for status in value.get("statuses", []):
                    update = _parse_status(status)
                    if update is not None:
                        updates.append(update)
    except (AttributeError, TypeError, KeyError, ValueError) as exc:
        raise MalformedWebhook("unexpected shape in statuses") from exc
    return updates


def parse_verified_status_webhook(
    app_secret: str | bytes, raw_body: bytes, signature_header: str | None
) -> list[StatusUpdate]:
    if not verify_signature(app_secret, raw_body, signature_header):
        raise InvalidSignature("X-Hub-Signature-256 does not match the body")
    return parse_status_webhook(raw_body)


def _parse_status(status: Mapping[str, Any]) -> StatusUpdate | None:
    delivery = _STATUS_BY_NAME.get(status["status"])
    if delivery is None:
        # e.g. "deleted" or statuses Meta adds later: not a delivery state we track.
        return None
    errors = status.get("errors") or []
    first_error = errors[0] if errors else {}
    error_code = first_error.get("code")
    error_text = first_error.get("message") or first_error.get("title")
    details = (first_error.get("error_data") or {}).get("details")
    if details:
        error_text = f"{error_text}: {details}" if error_text else details
    return StatusUpdate(
        channel=ChannelKind.WHATSAPP,
        provider_message_id=str(status["id"]),
        status=delivery,
        occurred_at=datetime.fromtimestamp(int(status["timestamp"]), tz=UTC),
        recipient=status.get("recipient_id"),
        message_id=status.get("biz_opaque_callback_data"),
        error_code=str(error_code) if error_code is not None else None,
        error_text=error_text,
    )

"""SMS over a Twilio-shaped HTTP API, its status callbacks and `X-Twilio-Signature`.

Send: `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded `To`, `From`
(or `MessagingServiceSid`), `Body` and optionally `StatusCallback`, with HTTP Basic auth
(account SID, auth token). Success is `201` with the message resource (`sid`, `status`);
errors are `{"code", "message", "more_info", "status"}`.

Status callbacks are form-encoded POSTs to `StatusCallback` (`MessageSid`, `MessageStatus`,
`ErrorCode`, ...), signed with `X-Twilio-Signature`: base64 of HMAC-SHA1, keyed by the auth
token, over the full callback URL followed by every POST parameter's name and value, sorted by
name, with no separators.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp

from smartnation.messaging.channels.base import (
    ChannelKind,
    DeliveryStatus,
    Failure,
    InvalidRecipient,
    InvalidSignature,
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

SIGNATURE_HEADER = "X-Twilio-Signature"

RATE_LIMIT_CODES = frozenset({20429, 14107})
INVALID_RECIPIENT_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number
        21214,  # 'To' number cannot be reached
        21408,  # no permission to send to this region
        21610,  # recipient replied STOP (unsubscribed)
        21612,  # cannot route to this number
        21614,  # 'To' number is not a mobile number
    }
)

_STATUS_BY_NAME: Mapping[str, DeliveryStatus] = {
    "accepted": DeliveryStatus.QUEUED,
    "scheduled": DeliveryStatus.QUEUED,
    "queued": DeliveryStatus.QUEUED,
    "sending": DeliveryStatus.SENT,
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


class TwilioSmsChannel(HttpChannel):
    kind = ChannelKind.SMS

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback_url: str | None = None,
        base_url: str = "https://api.twilio.com",
        timeout: float = 10.0,
        policy: SendPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("an SMS sender needs a From number or a Messaging Service SID")
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            policy=policy,
            session=session,
            auth=(account_sid, auth_token),
        )
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_url = status_callback_url
        self._path = f"/2010-04-01/Accounts/{account_sid}/Messages.json"

    def build_form(self, message: OutboundMessage) -> dict[str, str]:
        form = {"To": message.recipient, "Body": message.body or ""}
        if self.messaging_service_sid:
            form["MessagingServiceSid"] = self.messaging_service_sid
        else:
            form["From"] = self.from_number or ""
        if self.status_callback_url:
            form["StatusCallback"] = self.status_callback_url
        return form

    async def send(self, message: OutboundMessage) -> SendResult:
        if not message.body:
            return SendResult.failed(
                message, PermanentFailure("no-body", "SMS needs a rendered body")
            )
        try:
            response = await self._post(self._path, data=self.build_form(message))
        except TRANSPORT_ERRORS as exc:
            return SendResult.failed(message, transport_failure(exc))
        if response.status_code in (200, 201):
            try:
                sid = response.json()["sid"]
            except (ValueError, LookupError, TypeError):
                return SendResult.failed(
                    message,
                    TemporaryFailure("bad-response", "2xx without a sid", ambiguous=True),
                )
            return SendResult.ok(message, str(sid))
        return SendResult.failed(message, classify_error(response))


def classify_error(response: ProviderResponse) -> Failure:
    error: Mapping[str, Any] = {}
    try:
        body = response.json()
        if isinstance(body, dict):
            error = body
    except ValueError:
        pass
    raw_code = error.get("code")
    code = raw_code if isinstance(raw_code, int) else None
    text = str(error.get("message") or response.reason_phrase or "")
    code_text = str(code) if code is not None else f"http-{response.status_code}"

    if code in RATE_LIMIT_CODES or response.status_code == 429:
        return RateLimited(code_text, text, retry_after=retry_after_header(response) or 1.0)
    if code in INVALID_RECIPIENT_CODES:
        return InvalidRecipient(code_text, text)
    if response.status_code >= 500:
        return TemporaryFailure(code_text, text)
    return PermanentFailure(code_text, text)


def _pairs(params: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(str(name), str(value)) for name, value in items]


def compute_signature(
    auth_token: str, url: str, params: Mapping[str, str] | Iterable[tuple[str, str]]
) -> str:
    """The `X-Twilio-Signature` for a POST of `params` to `url` (the URL exactly as called).

    A name repeated in the form contributes each of its values, in sorted order, as Twilio's
    own validators do.
    """
    data = url + "".join(name + value for name, value in sorted(set(_pairs(params))))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(
    auth_token: str,
    url: str,
    params: Mapping[str, str] | Iterable[tuple[str, str]],
    header: str | None,
) -> bool:
    if not header:
        return False
    expected = compute_signature(auth_token, url, params)
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), given)


def parse_status_callback(
    params: Mapping[str, str], *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> StatusUpdate | None:
    """The status report in a callback's form, or None for a status we do not track.

    Twilio's callbacks carry no event time, so the time of receipt stands in.
    """
    sid = params.get("MessageSid") or params.get("SmsSid")
    status_name = params.get("MessageStatus") or params.get("SmsStatus")
    if not sid or not status_name:
        raise MalformedWebhook("status callback without MessageSid or MessageStatus")
    status = _STATUS_BY_NAME.get(status_name)
    if status is None:
        return None
    error_code = params.get("ErrorCode") or None
    return StatusUpdate(
        channel=ChannelKind.SMS,
        provider_message_id=sid,
        status=status,
        occurred_at=now(),
        recipient=params.get("To"),
        error_code=error_code,
        error_text=params.get("ErrorMessage") or None,
    )


def parse_verified_status_callback(
    auth_token: str, url: str, params: Mapping[str, str], signature_header: str | None
) -> StatusUpdate | None:
    if not verify_signature(auth_token, url, params, signature_header):
        raise InvalidSignature("X-Twilio-Signature does not match the request")
    return parse_status_callback(params)

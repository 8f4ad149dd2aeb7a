"""What the HTTP adapters share: reading Retry-After and naming transport faults."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import httpx

from smartnation.messaging.channels.base import BoundedChannel, SendPolicy, TemporaryFailure

# The request never left us, so retrying cannot deliver twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def transport_failure(exc: httpx.TransportError) -> TemporaryFailure:
    """A timeout or broken connection, marked ambiguous when the provider may have acted."""
    # The class name, not str(exc): some providers put secrets in the URL (Telegram's token).
    name = type(exc).__name__
    code = "timeout" if isinstance(exc, httpx.TimeoutException) else "transport"
    return TemporaryFailure(code, name, ambiguous=not isinstance(exc, _NOT_SENT))


def retry_after_header(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header, in either of its HTTP forms; None when absent."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HttpChannel(BoundedChannel):
    """An adapter over one pooled `httpx.AsyncClient`, sized to the send policy's concurrency.

    Keep-alive connections are most of the throughput: a new TLS connection per message would
    cost more than the request itself.
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        policy: SendPolicy | None,
        client: httpx.AsyncClient | None,
        auth: httpx.Auth | tuple[str, str] | None = None,
    ) -> None:
        self.policy = policy or SendPolicy()
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            auth=auth,
            limits=httpx.Limits(
                max_connections=self.policy.concurrency,
                max_keepalive_connections=self.policy.concurrency,
            ),
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

"""What the HTTP adapters share: pooled connections, Retry-After, and naming transport faults."""

from __future__ import annotations

import asyncio
import email.utils
import ssl
from datetime import UTC, datetime
from typing import Any

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
    """An adapter over pooled keep-alive HTTP connections, as many as the policy has in flight.

    Each connection has its own small `httpx.AsyncClient`, lent to one request at a time. One
    client with many connections costs about three times the CPU a request: its pool scans
    every connection (polling idle ones) to place each request. The clients share one TLS
    context, since building one per client costs more than a hundred milliseconds.
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
        # A caller's client (a test's mock transport, a proxy set-up) is used as it is.
        self._given_client = client
        self._base_url = base_url
        self._timeout = timeout
        self._auth = auth
        self._ssl_context: ssl.SSLContext | None = None
        self._idle: list[httpx.AsyncClient] = []
        self._created: list[httpx.AsyncClient] = []
        self._slots = asyncio.Semaphore(self.policy.concurrency)

    def _new_client(self) -> httpx.AsyncClient:
        if self._ssl_context is None:
            self._ssl_context = httpx.create_ssl_context()
        client = httpx.AsyncClient(
            base_url=self._base_url,
            timeout=self._timeout,
            auth=self._auth,
            verify=self._ssl_context,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self._created.append(client)
        return client

    async def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        if self._given_client is not None:
            return await self._given_client.post(path, **kwargs)
        async with self._slots:
            # Last in, first out: the most recently used connection is the likeliest alive.
            client = self._idle.pop() if self._idle else self._new_client()
            try:
                return await client.post(path, **kwargs)
            finally:
                self._idle.append(client)

    async def aclose(self) -> None:
        created, self._created, self._idle = self._created, [], []
        for client in created:
            await client.aclose()

"""What the HTTP adapters share: pooled connections, Retry-After, and naming transport faults.

The adapters speak HTTP through aiohttp: one `ClientSession` per adapter whose keep-alive pool
holds as many connections as the adapter has requests in flight. aiohttp parses HTTP in C and
places a request on an idle connection in constant time; the per-request CPU of the client is
what bounds a broadcast worker (see docs/dependencies.md for the measurements).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from smartnation.messaging.channels.base import BoundedChannel, SendPolicy, TemporaryFailure

# Errors raised by the client for a request that never left us: retrying cannot deliver twice.
_NOT_SENT: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.InvalidURL,
)
# What a send may raise besides a reply: the client's own errors and its timeouts.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (aiohttp.ClientError, asyncio.TimeoutError)


@dataclass(frozen=True, slots=True)
class ProviderResponse:
    """A provider's reply, read whole: status, headers (case-insensitive) and body bytes."""

    status_code: int
    reason_phrase: str
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """The body as JSON; raises ValueError when it is not."""
        return json.loads(self.content)


def transport_failure(exc: BaseException) -> TemporaryFailure:
    """A timeout or broken connection, marked ambiguous when the provider may have acted."""
    # The class name, not str(exc): some providers put secrets in the URL (Telegram's token).
    name = type(exc).__name__
    code = "timeout" if isinstance(exc, asyncio.TimeoutError) else "transport"
    return TemporaryFailure(code, name, ambiguous=not isinstance(exc, _NOT_SENT))


def retry_after_header(response: ProviderResponse) -> float | None:
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

    Requests in flight are bounded by a semaphore of the pool's size, so a request never waits
    for a connection: waiting for our own pool is not a provider fault and must not time out
    (a pool timeout used to leave rows retrying long after the provider was idle). The timeout
    covers connecting (nothing sent: safe to retry) and waiting for the reply (ambiguous).
    """

    def __init__(
        self,
        *,
        base_url: str,
        timeout: float,
        policy: SendPolicy | None,
        session: aiohttp.ClientSession | None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.policy = policy or SendPolicy()
        # A caller's session (a proxy set-up, say) is used as it is.
        self._given_session = session
        self._session: aiohttp.ClientSession | None = None
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        self._default_headers = {"Authorization": aiohttp.encode_basic_auth(*auth)} if auth else {}
        self._slots = asyncio.Semaphore(self.policy.concurrency)
        self._urls: dict[str, URL] = {}

    def _client(self) -> aiohttp.ClientSession:
        if self._given_session is not None:
            return self._given_session
        if self._session is None:
            # Created on first use: a session belongs to the event loop that runs it.
            connector = aiohttp.TCPConnector(
                limit=self.policy.concurrency, limit_per_host=0, ttl_dns_cache=300
            )
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self._timeout, headers=self._default_headers
            )
        return self._session

    def _url(self, path: str) -> URL:
        # Parsed once per path: each adapter posts to one or two fixed paths.
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = URL(self._base_url + path)
        return url

    async def _post(
        self,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> ProviderResponse:
        """POST and read the whole reply; raises one of `TRANSPORT_ERRORS` on a transport fault."""
        client = self._client()
        async with (
            self._slots,
            client.post(self._url(path), json=json, data=data, headers=headers) as response,
        ):
            content = await response.read()
            return ProviderResponse(
                response.status, response.reason or "", response.headers, content
            )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

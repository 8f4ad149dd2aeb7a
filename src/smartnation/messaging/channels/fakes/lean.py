"""A bare HTTP/1.1 server for stand-ins under load: httptools on an asyncio protocol, no framework.

A throughput benchmark's stand-in shares the machine's cores with the workers it measures, so
each request must cost it as little as possible. Starlette under uvicorn spends about ten times
the CPU of the stand-in's own logic on routing, the ASGI request and response objects and their
tasks; this server parses with httptools (the parser uvicorn itself uses), calls a plain
function with the request, and writes the reply, on the same keep-alive connection, with no
task per request. Handlers are synchronous: no scripted delays here (tests that need them use
the Starlette apps).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import cast

import httptools


@dataclass(frozen=True, slots=True)
class LeanRequest:
    method: str
    path: str
    # Lower-case names.
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class LeanReply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: Mapping[str, str] | None = None


Handler = Callable[[LeanRequest], LeanReply]
_REASONS = {status.value: status.phrase for status in HTTPStatus}


def encode(reply: LeanReply, keep_alive: bool) -> bytes:
    head = [
        f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Unknown')}",
        f"content-type: {reply.content_type}",
        f"content-length: {len(reply.body)}",
    ]
    if not keep_alive:
        head.append("connection: close")
    for name, value in (reply.headers or {}).items():
        head.append(f"{name}: {value}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + reply.body


class _Connection(asyncio.Protocol):
    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            assert self._transport is not None
            self._transport.write(encode(LeanReply(400, b"bad request", "text/plain"), False))
            self._transport.close()

    # httptools callbacks, one request at a time (pipelined requests are answered in order).
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = {}
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        transport = self._transport
        assert transport is not None
        method = self._parser.get_method().decode("latin-1")
        path = httptools.parse_url(self._url).path.decode("latin-1")
        request = LeanRequest(method, path, self._headers, b"".join(self._body))
        try:
            reply = self._handler(request)
        except Exception:  # a stand-in's bug must show up as a 500, as a real server's would
            reply = LeanReply(500, b"internal error", "text/plain")
        keep_alive = self._parser.should_keep_alive()
        transport.write(encode(reply, keep_alive))
        if not keep_alive:
            transport.close()


async def serve(handler: Handler, sock: socket.socket) -> None:
    """Answer on `sock` until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(handler), sock=sock, backlog=2048)
    async with server:
        await server.serve_forever()

"""Running a fake provider app with uvicorn, in a background thread or in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import uvicorn
import uvloop
from starlette.types import ASGIApp

from smartnation.messaging.channels.fakes import lean
from smartnation.messaging.channels.fakes.lean import Handler


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket; port 0 lets the kernel pick a free one, with no race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _config(app: ASGIApp) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        # httptools parses HTTP/1.1 several times faster than h11: the fake must not be the
        # bottleneck of a throughput benchmark.
        http="httptools",
        backlog=2048,
        # Longer than any pause between a client's requests: a connection closed under a
        # client about to reuse it shows up as a lost reply, which is not what we measure.
        timeout_keep_alive=60,
        # A handler told to sleep past a client's timeout must not hold up shutdown for long.
        timeout_graceful_shutdown=1,
    )


@dataclass
class ServerThread:
    """A uvicorn server on 127.0.0.1 in a daemon thread; use as a context manager."""

    app: ASGIApp
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(_config(self.app))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("fake provider server did not start")
            time.sleep(0.005)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> ServerThread:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_foreground(app: ASGIApp, host: str, port: int) -> None:
    """Serve until interrupted, printing the URL first (a parent process reads it)."""
    sock = bind(host, port)
    print(f"listening on http://{host}:{sock.getsockname()[1]}", flush=True)
    uvicorn.Server(_config(app)).run(sockets=[sock])


@dataclass
class LeanServerThread:
    """The bare server (`fakes.lean`) on 127.0.0.1 in a daemon thread; a context manager."""

    handler: Handler
    host: str = "127.0.0.1"
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> LeanServerThread:
        sock = bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        loop = self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            self._task = loop.create_task(lean.serve(self.handler, sock))
            loop.call_soon(ready.set)
            with contextlib.suppress(asyncio.CancelledError):
                loop.run_until_complete(self._task)
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            self._thread.join(timeout=10)


def serve_lean_foreground(handler: Handler, host: str, port: int) -> None:
    """`serve_foreground` for the bare server (uvloop, one process, no framework)."""
    sock = bind(host, port)
    print(f"listening on http://{host}:{sock.getsockname()[1]}", flush=True)
    uvloop.run(lean.serve(handler, sock))


def cli_arguments(description: str, **extra: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description, **extra)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--rate", type=float, default=None, help="messages a second before throttling"
    )
    return parser

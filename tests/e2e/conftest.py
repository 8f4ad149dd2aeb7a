"""Browser tests: a real `smartnation serve` with demo data, and Debian's Chromium driving it.

`live_server` (session-scoped, one per xdist worker) starts the platform the way a person would:
a fresh SQLite database, `smartnation demo load --people 300`, then `smartnation serve` on a free
port of 127.0.0.1, stopped when the session ends. `browser` (per test module) launches /usr/bin/chromium
through Playwright (never a downloaded browser); `page` is a fresh context per test, so no cookies
leak.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import itsdangerous
import pytest
import uvicorn
from e2e_support import SECRET
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from live_server import LiveServer as PlatformServer
from live_server import running_platform
from smartnation.app import create_app
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings, JobSettings, Settings, WebSettings
from smartnation.core.db import Database
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal, public

ROOT = Path(__file__).resolve().parents[2]
# A busy machine takes a while to import the whole platform and migrate a fresh database.
STARTUP_SECONDS = 240
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Every WCAG 2.0, 2.1 and 2.2 success criterion at levels A and AA that axe-core can check.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smartnation_command() -> str:
    """The `smartnation` script of the environment running the tests."""
    script = Path(sys.executable).parent / "smartnation"
    return str(script) if script.exists() else shutil.which("smartnation") or "smartnation"


@dataclass(frozen=True)
class LiveServer:
    """A running `smartnation serve`: its address, environment and data folder."""

    url: str
    env: dict[str, str]
    folder: Path

    def session_cookie(self, principal: dict[str, Any]) -> dict[str, str]:
        """A signed session cookie holding `principal`, as a login leaves one (for Playwright).

        The session is a cookie signed with the server's secret key (Starlette's
        SessionMiddleware): this is exactly what a completed login stores.
        """
        data = base64.b64encode(json.dumps({PRINCIPAL_SESSION_KEY: principal}).encode())
        signer = itsdangerous.TimestampSigner(self.env["SMARTNATION_WEB_SECRET_KEY"])
        value = signer.sign(data).decode()
        return {"name": "smartnation_session", "value": value, "url": self.url}

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows from the server's SQLite database (read-only)."""
        path = self.env["SMARTNATION_DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            return connection.execute(sql).fetchall()

    def cli(self, *args: str) -> str:
        """Run a `smartnation` command against this server's database; returns its output."""
        done = subprocess.run(
            [smartnation_command(), *args],
            env=self.env,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"smartnation serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(
        f"smartnation serve did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The platform on SQLite with the small demo loaded, served on a free local port."""
    folder = tmp_path_factory.mktemp("live-server")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": f"sqlite:///{folder / 'smartnation.db'}",
        "SMARTNATION_WEB_BASE_URL": url,
        "SMARTNATION_WEB_SECRET_KEY": secrets.token_urlsafe(32),
        "SMARTNATION_WEB_EMBEDDED_WORKER": "true",
        "NO_COLOR": "1",
        # The demo's DNS table and certificate files, kept out of the checkout's own var/.
        "SMARTNATION_HEALTHCERTS_DNS": str(folder / "healthcerts" / "dns-records.json"),
    }
    server = LiveServer(url, env, folder)
    server.cli("demo", "load", "--people", "300")
    log = folder / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [smartnation_command(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,  # where node_modules (the design system) is found
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright, for one test module.

    Playwright's sync API holds an event loop in the main thread while it runs, which would break
    later tests that start their own; so the browser lives only as long as a module.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A page in a fresh browser context (no cookies) aimed at the live server.

    The context bypasses the content security policy only so that axe-core can be injected; the
    pages' own scripts are still served from 'self'.
    """
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-SG",
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    # A server error on any request the pages make fails the test, even if the page looked fine.
    server_errors: list[str] = []
    context.on(
        "response",
        lambda response: (
            server_errors.append(f"{response.status} {response.url}")
            if response.status >= 500
            else None
        ),
    )
    new_page = context.new_page()
    yield new_page
    context.close()
    assert server_errors == [], f"the server answered with an error: {server_errors}"


def run_axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` at the repository root (make setup)")
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_TAGS,
    )
    return list(result["violations"])


def describe_violations(violations: list[dict[str, Any]]) -> str:
    """axe-core violations as readable lines: rule, impact, help, and where."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation.get('impact')}): {violation['help']}\n"
            f"  {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Any, what: str) -> None:
    violations = run_axe(page)
    assert not violations, f"axe-core found WCAG violations on {what}:\n" + describe_violations(
        violations
    )


@pytest.fixture
def check_accessibility() -> Any:
    """`check_accessibility(page, "what")`: fails listing axe-core's WCAG 2.x A/AA violations."""
    return assert_accessible


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformServer]:
    """The demo nation served on `localhost` (a host name, so passkeys have a valid RP ID)."""
    with running_platform(tmp_path_factory.mktemp("e2e"), host="localhost") as server:
        yield server


@pytest.fixture(scope="session")
def e2e_database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="smartnation-e2e-") as folder:
        url = f"sqlite:///{folder}/e2e.db"
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session")
def e2e_server(e2e_database_url: str) -> Iterator[str]:
    """The base URL of a running server; stopped at the end of the session."""
    port = free_port()
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": e2e_database_url,
        "SMARTNATION_WEB_SECRET_KEY": SECRET,
        "SMARTNATION_WEB_EMBEDDED_WORKER": "true",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from smartnation.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass(frozen=True)
class ModuleServer:
    """A server of one test module, with its own environment (see `live_server_env`)."""

    base_url: str
    database_url: str
    folder: Path


@pytest.fixture(scope="module")
def live_server_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="smartnation-e2e-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def live_server_env() -> dict[str, str]:
    """Extra environment for the server; override in a test module."""
    return {}


@pytest.fixture(scope="module")
def module_live_server(
    live_server_folder: Path, live_server_env: dict[str, str]
) -> Iterator[ModuleServer]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database_url = f"sqlite:///{live_server_folder}/e2e.db"
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": database_url,
        "SMARTNATION_WEB_BASE_URL": base_url,
        "SMARTNATION_WEB_SECRET_KEY": "e2e-secret",
        **live_server_env,
    }
    command = [str(Path(sys.executable).parent / "smartnation"), "serve", "--port", str(port)]
    log = (live_server_folder / "server.log").open("w")
    process = subprocess.Popen(
        command, cwd=live_server_folder, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                output = (live_server_folder / "server.log").read_text()[-3000:]
                pytest.fail(f"smartnation serve did not start:\n{output}")
            time.sleep(0.2)
        yield ModuleServer(base_url, database_url, live_server_folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture
def blank_page(browser: Any) -> Iterator[Any]:
    """A page in a fresh browser context, aimed at nothing yet."""
    context = browser.new_context()
    new_page = context.new_page()
    yield new_page
    context.close()


def login_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(public)])

    @router.get("/test/login")
    def login(
        request: Request,
        person_id: str = Query(alias="id"),
        roles: str = "",
        nric: str = "",
        next_path: str = Query("/", alias="next"),
    ) -> RedirectResponse:
        principal = Principal(
            "person",
            person_id,
            person_id,
            frozenset(r for r in roles.split(",") if r),
            {"nric": nric} if nric else {},
        )
        request.session[PRINCIPAL_SESSION_KEY] = principal.to_session()
        return RedirectResponse(next_path if next_path.startswith("/") else "/", status_code=303)

    return router


@dataclass
class InProcessServer:
    """The application served from a thread of the test process, with a test-only login."""

    url: str
    database: Database


@pytest.fixture(scope="session")
def inprocess_server() -> Iterator[InProcessServer]:
    with tempfile.TemporaryDirectory(prefix="smartnation-e2e-") as folder:
        url = f"sqlite:///{Path(folder) / 'e2e.db'}"
        upgrade_database(url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        settings = Settings(
            database=DatabaseSettings(url=url),
            web=WebSettings(base_url=base, secret_key="e2e-secret", embedded_worker=True),
            jobs=JobSettings(poll_seconds=0.2),
        )
        database = Database.from_settings(settings.database)
        app = create_app(settings, database)
        app.include_router(login_router())
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        try:
            yield InProcessServer(base, database)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            database.engine.dispose()


@pytest.fixture
def axe() -> Callable[[object], list[dict[str, object]]]:
    """A check of a page against WCAG 2.2 AA with axe-core."""
    return axe_violations


def axe_violations(page: object) -> list[dict[str, object]]:
    """WCAG 2.2 AA violations axe-core finds on the page (the context must bypass the CSP)."""
    if not AXE.is_file():
        pytest.skip(f"{AXE} is missing: run npm ci")
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ]

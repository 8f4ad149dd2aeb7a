"""Browser tests: a real `smartnation serve` with demo data, and Debian's Chromium driving it.

`live_server` (session-scoped, one per xdist worker) starts the platform the way a person would:
a fresh SQLite database, `smartnation demo load --people 300`, then `smartnation serve` on a free
port of 127.0.0.1, stopped when the session ends. `browser` launches /usr/bin/chromium through
Playwright (never a downloaded browser); `page` is a fresh context per test, so no cookies leak.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_server import LiveServer as PlatformServer
from live_server import running_platform

ROOT = Path(__file__).resolve().parents[2]
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"smartnation serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"smartnation serve did not answer within 60 s:\n{log.read_text()[-3000:]}")


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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright."""
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
    new_page = context.new_page()
    yield new_page
    context.close()


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

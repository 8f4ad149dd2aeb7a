"""Browser tests: a real `smartnation serve` on a free loopback port, and Debian's Chromium.

`live_server` starts the platform on a fresh SQLite database in a temporary folder and yields its
base URL and database URL (tests may prepare records through the database directly). A test
module can add environment variables for the server by overriding `live_server_env`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database_url: str
    folder: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live_server_folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="smartnation-e2e-") as folder:
        yield Path(folder)


@pytest.fixture(scope="module")
def live_server_env() -> dict[str, str]:
    """Extra environment for the server; override in a test module."""
    return {}


@pytest.fixture(scope="module")
def live_server(live_server_folder: Path, live_server_env: dict[str, str]) -> Iterator[LiveServer]:
    port = _free_port()
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
        deadline = time.monotonic() + 60
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
        yield LiveServer(base_url, database_url, live_server_folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()

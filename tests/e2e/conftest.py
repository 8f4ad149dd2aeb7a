"""Browser tests: a real `smartnation serve` on a free port, driven by Debian's Chromium.

The server runs on a SQLite file of its own; tests put their data in through the services (the
same file) and log people in by handing the browser a signed session cookie, as the identity
domain's login would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from e2e_support import ROOT, SECRET

from smartnation.cli import upgrade_database

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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def e2e_database_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="smartnation-e2e-") as folder:
        url = f"sqlite:///{folder}/e2e.db"
        upgrade_database(url)
        yield url


@pytest.fixture(scope="session")
def e2e_server(e2e_database_url: str) -> Iterator[str]:
    """The base URL of a running server; stopped at the end of the session."""
    port = _free_port()
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
        deadline = time.monotonic() + 120
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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()

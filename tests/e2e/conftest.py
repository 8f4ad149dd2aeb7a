"""Browser tests: Debian's Chromium driven by Playwright against a real `smartnation serve`."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from live_server import LiveServer, running_platform

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The demo nation served on localhost (a host name, so passkeys have a valid RP ID)."""
    with running_platform(tmp_path_factory.mktemp("e2e"), host="localhost") as server:
        yield server


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Module-scoped: Playwright's sync API keeps an event loop marked running while open,
    which would break the asyncio tests that run after the browser tests."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()

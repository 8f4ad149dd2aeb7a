"""Browser tests: a real server on a free local port with a fresh database, and Debian's Chromium.

The server runs the whole application (with its embedded job worker) in a thread of the test
process, on SQLite in a temporary folder. Until the identity domain's login is available, a
test-only route `/test/login` puts a principal in the session the way a login would.
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from smartnation.app import create_app
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings, JobSettings, Settings, WebSettings
from smartnation.core.db import Database
from smartnation.core.web.auth import PRINCIPAL_SESSION_KEY, Principal, public

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
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
class LiveServer:
    url: str
    database: Database


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    with tempfile.TemporaryDirectory(prefix="smartnation-e2e-") as folder:
        url = f"sqlite:///{Path(folder) / 'e2e.db'}"
        upgrade_database(url)
        port = _free_port()
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
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        try:
            yield LiveServer(base, database)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            database.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for one test module: Playwright's sync API holds an event loop in the main thread
    while it runs, which would break later tests that start their own."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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

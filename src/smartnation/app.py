"""Builds the web application from the domains."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from smartnation import __version__
from smartnation.core.config import Settings, get_settings
from smartnation.core.db import Database
from smartnation.core.jobs import Worker, start_background_loops
from smartnation.core.web import routes as core_routes
from smartnation.core.web.middleware import PlatformMiddleware
from smartnation.core.web.problems import install_error_handlers
from smartnation.core.web.routing import gate_routers_by_prefix
from smartnation.core.web.templates import Templates
from smartnation.domains import DOMAINS, domain_modules, register_jobs
from smartnation.identity.sealing import require_own_key

log = logging.getLogger(__name__)


def find_vendor_dir() -> Path | None:
    """The node_modules folder the setup step filled with the design system and htmx."""
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for folder in (start, *start.parents):
            candidate = folder / "node_modules"
            if (candidate / "@govtechsg" / "sgds").is_dir():
                return candidate
    return None


def _mount_static(app: FastAPI) -> None:
    here = Path(__file__).resolve().parent
    app.mount("/static/core", StaticFiles(directory=here / "core" / "static"), name="static-core")
    vendor = find_vendor_dir()
    if vendor is None:
        log.warning("node_modules not found: run the setup step; pages will lack the design system")
        return
    app.mount(
        "/static/vendor/sgds",
        StaticFiles(directory=vendor / "@govtechsg" / "sgds" / "css"),
        name="vendor-sgds",
    )
    app.mount(
        "/static/vendor/htmx",
        StaticFiles(directory=vendor / "htmx.org" / "dist"),
        name="vendor-htmx",
    )


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """The whole platform as one ASGI application."""
    settings = settings or get_settings()
    # Outside development, refuse to start on a public development key.
    require_own_key(settings.environment)
    database = database or Database.from_settings(settings.database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Plain-function endpoints run in a thread pool as large as the connection pool: a thread
        # never waits for a connection, and the pool never opens and closes connections beyond
        # its size under steady load. With the default 40 threads over 10 connections, 1 in 100
        # requests to /healthz under 32 clients waited about a second (now about 35 ms).
        to_thread.current_default_thread_limiter().total_tokens = settings.database.pool_size
        worker = None
        stopping = threading.Event()
        if settings.web.embedded_worker:
            start_background_loops(database, stopping)
            worker = Worker(
                database,
                lease_seconds=settings.jobs.lease_seconds,
                batch_size=settings.jobs.batch_size,
            )
            thread = threading.Thread(
                target=worker.run_forever,
                args=(settings.jobs.poll_seconds,),
                daemon=True,
                name="embedded-worker",
            )
            thread.start()
        try:
            yield
        finally:
            stopping.set()
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="smartnation",
        version=__version__,
        description="APIs of the smartnation digital government platform.",
        docs_url="/api/docs",
        redoc_url="/api/redoc",
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = database
    register_jobs()  # the embedded worker runs every domain's jobs
    templates = Templates(["smartnation.core", *(f"smartnation.{d}" for d in DOMAINS)])
    app.state.templates = templates

    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.web.secret_key,
        session_cookie="smartnation_session",
        same_site="lax",
        https_only=settings.web.secure_cookies,
        max_age=8 * 3600,
    )
    app.add_middleware(PlatformMiddleware, hsts=settings.web.secure_cookies)
    install_error_handlers(app)
    _mount_static(app)

    app.include_router(core_routes.router)
    for _domain, module in domain_modules("api"):
        app.include_router(module.router)
    for _domain, module in domain_modules("pages"):
        app.include_router(module.router)
        templates.services.extend(getattr(module, "SERVICES", []))
    gate_routers_by_prefix(app)
    return app

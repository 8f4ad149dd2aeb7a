"""The application as `smartnation serve` runs it: the platform, settled for serving."""

from __future__ import annotations

from fastapi import FastAPI

from smartnation.app import create_app as build_app
from smartnation.core.memory import settle_after_start_up


def create_app() -> FastAPI:
    """The whole platform, with its start-up objects frozen out of the garbage collector."""
    app = build_app()
    settle_after_start_up()
    return app

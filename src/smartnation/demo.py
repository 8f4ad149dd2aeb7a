"""Demo data beyond the registry: each domain's ready-made records for trying the platform."""

from __future__ import annotations

from smartnation.core.db import Database


def load_demo_extras(database: Database, seed: int) -> list[str]:
    """Load each domain's demo data; returns lines to show the person who ran the command."""
    del database, seed
    return []

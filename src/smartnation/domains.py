"""The domains the platform is built from, in one place for the app, the CLI and the worker."""

from __future__ import annotations

import importlib

# Each domain's jobs module registers its job kinds when imported.
JOB_MODULES: tuple[str, ...] = ()
# Each domain's models module, so that metadata (and Alembic) knows every table.
MODEL_MODULES: tuple[str, ...] = (
    "smartnation.core.audit",
    "smartnation.core.jobs",
    "smartnation.core.web.auth",
    "smartnation.registry.models",
)


def register_jobs() -> None:
    """Import every domain's jobs so the worker knows their handlers."""
    for module in JOB_MODULES:
        importlib.import_module(module)


def register_models() -> None:
    """Import every domain's models so their tables are in the shared metadata."""
    for module in MODEL_MODULES:
        importlib.import_module(module)

"""The domains the platform is built from, and how the app, CLI and worker find their parts.

A domain is a package `smartnation.<name>` whose modules follow one layout (docs/architecture.md):
`models` (tables), `api` and `pages` (each with a `router`), `pages.SERVICES` (home page links),
`cli` (a Typer `app`), `jobs` (job handlers) and `demo` (`load_demo(database, seed)`, with an
optional `LOAD_AFTER`: the domains whose demo data it builds on). Adding a domain is adding its name
here.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType

# In the order their services appear on the home page.
DOMAINS: tuple[str, ...] = (
    "registry",
    "identity",
    "healthcerts",
    "appointments",
    "tracing",
    "messaging",
)
CORE_MODEL_MODULES = (
    "smartnation.core.attempts",
    "smartnation.core.audit",
    "smartnation.core.jobs",
    "smartnation.core.web.auth",
)


def domain_modules(part: str) -> Iterator[tuple[str, ModuleType]]:
    """Each domain's `part` module (e.g. "api"), for the domains that have one."""
    for domain in DOMAINS:
        name = f"smartnation.{domain}.{part}"
        if importlib.util.find_spec(name) is not None:
            yield domain, importlib.import_module(name)


def demo_modules() -> list[tuple[str, ModuleType]]:
    """Each domain's `demo` module, in home page order except that one declaring `LOAD_AFTER`
    comes after the domains it names."""
    pending = list(domain_modules("demo"))
    ordered: list[tuple[str, ModuleType]] = []
    while pending:
        waiting = {name for name, _ in pending}
        ready = next(
            ((d, m) for d, m in pending if not waiting & set(getattr(m, "LOAD_AFTER", ()))), None
        )
        if ready is None:
            raise RuntimeError(f"The demo modules of {sorted(waiting)} wait for each other.")
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def register_jobs() -> None:
    """Import every domain's jobs so the worker knows their handlers."""
    for _ in domain_modules("jobs"):
        pass


def register_models() -> None:
    """Import every domain's models so their tables are in the shared metadata."""
    for module in CORE_MODEL_MODULES:
        importlib.import_module(module)
    for _ in domain_modules("models"):
        pass

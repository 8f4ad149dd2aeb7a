"""Memory management for bulk work: pausing the cyclic garbage collector over a block."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a block that makes many objects without cycles.

    Bulk work (a parsed 50,000-record upload, a batch of wrapped certificates) allocates millions
    of acyclic containers; each collection triggered meanwhile walks all of them again, which can
    cost as much as the work itself. Reference counting still frees everything as usual. The
    pause is process-wide, so keep the block to the bulk work.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def settle_after_start_up() -> None:
    """Take everything loaded at start-up out of the cyclic collector's sight.

    A web process imports the whole platform (FastAPI, SQLAlchemy, pydantic models, templates):
    hundreds of thousands of long-lived objects that every full collection would walk again,
    a pause of tens of milliseconds in the middle of some request. Frozen, they are never
    walked; objects made while serving are collected as usual. Called once, by the server, when
    the application is built and before the first request.
    """
    gc.collect()
    gc.freeze()

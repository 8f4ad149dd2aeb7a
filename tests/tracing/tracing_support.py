"""Helpers for the tracing tests: vectors read in place from ../shared, clocks, IVs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from smartnation.tracing.timestamps import instant_from_ms

REPO_ROOT = Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT.parent / "shared" / "vectors"


def load_vectors(name: str) -> dict[str, Any]:
    """A vector file from ../shared/vectors, or skip the test saying where it was looked for."""
    path = VECTORS / name
    if not path.is_file():
        pytest.skip(f"vector file {path} is absent (the shared folder sits beside the repository)")
    return json.loads(path.read_text(encoding="utf-8"))


def at_ms(ms: int) -> datetime:
    """The instant a vector's `now_ms` stands for."""
    return instant_from_ms(ms)


def fixed_ivs(*hex_ivs: str) -> Callable[[int], bytes]:
    """A `random_bytes` stand-in that returns the given IVs in order, like the patched Node RNG."""
    supply: Iterator[bytes] = iter(bytes.fromhex(iv) for iv in hex_ivs)

    def random_bytes(size: int) -> bytes:
        value = next(supply)
        assert len(value) == size
        return value

    return random_bytes

"""The compiled leaf hashing (`_speedups.c`), when the install could compile it.

`native` is None where no C compiler was available at install time; every caller then takes the
pure Python route, which produces the same bytes (tests compare the two on random documents).
Setting SMARTNATION_OA_PURE_PYTHON=1 forces the Python route.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Native(Protocol):
    """What `_speedups` offers (see `_speedups.pyi`)."""

    def salt_and_hash(
        self,
        data: dict[str, Any],
        number_text: Callable[[Any], str],
        random_source: Callable[[int], bytes],
    ) -> tuple[dict[str, Any], str] | None: ...

    def salt_and_hash_many(
        self,
        datas: Sequence[Any],
        number_text: Callable[[Any], str],
        random_source: Callable[[int], bytes],
    ) -> list[tuple[dict[str, Any], str] | None]: ...

    def target_hashes(
        self, datas: Sequence[Any], obfuscateds: Sequence[Any], number_json: Callable[[Any], str]
    ) -> list[str | None]: ...

    def target_hash(
        self, data: Any, obfuscated: Any, number_json: Callable[[Any], str]
    ) -> str | None: ...

    def keccak256(self, data: bytes) -> bytes: ...

    def keccak256_many(self, messages: Sequence[bytes]) -> list[bytes]: ...


def _load() -> Native | None:
    if os.environ.get("SMARTNATION_OA_PURE_PYTHON") == "1":
        return None
    try:
        from . import _speedups
    except ImportError:  # not compiled on this machine
        return None
    return _speedups


native: Native | None = _load()

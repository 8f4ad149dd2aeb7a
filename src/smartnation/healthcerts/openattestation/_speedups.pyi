from collections.abc import Callable, Sequence
from typing import Any

def salt_and_hash(
    data: dict[str, Any],
    number_text: Callable[[Any], str],
    random_source: Callable[[int], bytes],
) -> tuple[dict[str, Any], str] | None: ...
def salt_and_hash_many(
    datas: Sequence[Any],
    number_text: Callable[[Any], str],
    random_source: Callable[[int], bytes],
) -> list[tuple[dict[str, Any], str] | None]: ...
def target_hashes(
    datas: Sequence[Any], obfuscateds: Sequence[Any], number_json: Callable[[Any], str]
) -> list[str | None]: ...
def target_hash(data: Any, obfuscated: Any, number_json: Callable[[Any], str]) -> str | None: ...
def keccak256(data: bytes) -> bytes: ...
def keccak256_many(messages: Sequence[bytes]) -> list[bytes]: ...

LANES: int

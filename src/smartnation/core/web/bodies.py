"""Request bodies read with a size limit, for endpoints that take uploads."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from smartnation.core.errors import DomainError, FieldProblem, InvalidInput


def check_declared_length(
    request: Request, limit: int, too_large: Callable[[], DomainError]
) -> None:
    """Refuse by the Content-Length header before reading anything."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise InvalidInput(FieldProblem("content-length", "is not a number")) from None
        if length > limit:
            raise too_large()


async def read_limited_body(
    request: Request, limit: int, too_large: Callable[[], DomainError]
) -> bytes:
    """The request body, refused with `too_large()` as soon as it passes `limit` bytes, whether
    declared or actually sent."""
    check_declared_length(request, limit, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)

"""Reading uploaded documents safely: size limits, JSON that is really JSON, bounded nesting.

Whatever arrives (a huge file, truncated JSON, binary, a million nested arrays) ends as a clear
refusal, never as an exception page.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from smartnation.core.errors import DomainError, FieldProblem, InvalidInput
from smartnation.core.i18n import N_
from smartnation.core.web.bodies import check_declared_length, read_limited_body
from smartnation.healthcerts.config import get_healthcerts_settings

MAX_DEPTH = 64


class PayloadTooLarge(DomainError):
    status = 413
    title = N_("The file is too large")
    code = "payload_too_large"


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The upload is larger than {limit // 1024:,} KiB; a HealthCert is far smaller.",
        limit_bytes=limit,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _depth_within(value: Any, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(node, dict):
            stack.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
    return True


def parse_json_document(raw: bytes, field: str = "document") -> Any:
    """Parse uploaded JSON or raise InvalidInput that says what is wrong with it."""
    if not raw.strip():
        raise InvalidInput(FieldProblem(field, "The file is empty.", "empty"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            FieldProblem(field, "The file is not text (a HealthCert is a .json file).", "not_json")
        ) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise InvalidInput(
            FieldProblem(field, "The JSON is nested too deeply.", "too_deep")
        ) from None
    except ValueError as exc:
        raise InvalidInput(
            FieldProblem(field, f"The file is not valid JSON ({exc}); is it complete?", "not_json")
        ) from None
    if not _depth_within(value, MAX_DEPTH):
        raise InvalidInput(FieldProblem(field, "The JSON is nested too deeply.", "too_deep"))
    return value


async def json_document_body(request: Request) -> Any:
    """A dependency: the request body parsed as one JSON document, within the upload limit."""
    limit = get_healthcerts_settings().max_upload_bytes
    return parse_json_document(await read_limited_body(request, limit, lambda: too_large(limit)))


async def json_batch_body(request: Request) -> Any:
    """A dependency: a batch body, allowed the upload limit for each document it may hold."""
    settings = get_healthcerts_settings()
    limit = settings.max_upload_bytes * min(settings.max_batch_documents, 100)
    return parse_json_document(
        await read_limited_body(request, limit, lambda: too_large(limit)), "documents"
    )


def upload_size_guard(request: Request) -> None:
    """A dependency for upload forms, placed before the CSRF check so nothing huge is parsed."""
    limit = get_healthcerts_settings().max_upload_bytes + 64 * 1024
    check_declared_length(request, limit, lambda: too_large(limit))

"""A lean request handler for `POST /api/v1/appointments/bookings`, the busiest route at a surge.

FastAPI's general handler resolves the route's dependencies, reads and decodes the body and then
validates it field by field on every request; for this one route that was a large share of the
CPU a booking costs. `BookingRoute` keeps everything the route declares (its OpenAPI schema, the
`Public` marker the route-guard test looks for, the platform middleware and error handlers
around it) and replaces only the handler: the body is validated in one pass from its raw bytes
by pydantic (`TypeAdapter.validate_json`), the Idempotency-Key header against its declared
length, and bad input raises the same `RequestValidationError` (so the same problem+json 422,
with the same field names) as any other route. Then the waiting room gives a turn, and the
endpoint function runs with the validated values.

Input is validated before the waiting room, so a malformed request never takes a turn.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import StringConstraints, TypeAdapter, ValidationError

from smartnation.appointments.schemas import BookingIn
from smartnation.appointments.waiting import Turn

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 80

_BODY = TypeAdapter(BookingIn)
_KEY = TypeAdapter(Annotated[str, StringConstraints(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)])


def _is_json(content_type: str | None, strict: bool) -> bool:
    """As FastAPI decides: JSON when the content type says so (or, when not strict, is absent)."""
    if not content_type:
        return not strict
    if content_type == "application/json" or content_type.startswith("application/json;"):
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _errors(error: ValidationError, *loc: str) -> list[dict[str, Any]]:
    return [{**item, "loc": (*loc, *item["loc"])} for item in error.errors(include_url=False)]


async def parse_booking(request: Request, strict: bool = True) -> tuple[BookingIn, str | None]:
    """The booking asked for and its Idempotency-Key, or `RequestValidationError`."""
    raw = await request.body()
    errors: list[dict[str, Any]] = []
    body = None
    if not raw:
        errors.append({"type": "missing", "loc": ("body",), "msg": "Field required", "input": None})
    else:
        try:
            if _is_json(request.headers.get("content-type"), strict):
                body = _BODY.validate_json(raw)
            else:
                body = _BODY.validate_python(raw)  # refused: not an object, as FastAPI says
        except ValidationError as error:
            errors += _errors(error, "body")
    key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
    if key is not None:
        try:
            _KEY.validate_python(key)
        except ValidationError as error:
            errors += _errors(error, "header", IDEMPOTENCY_KEY_HEADER)
    if errors or body is None:
        raise RequestValidationError(errors)
    return body, key


class BookingRoute(APIRoute):
    """The booking route with the lean handler; its endpoint is called as
    `endpoint(body, request, idempotency_key)`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        strict = bool(getattr(self.strict_content_type, "value", self.strict_content_type))

        async def handle(request: Request) -> Response:
            body, idempotency_key = await parse_booking(request, strict)
            async with Turn():
                response: Response = await endpoint(body, request, idempotency_key)
                return response

        return handle

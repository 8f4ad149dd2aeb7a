"""Typed domain errors, shown as `application/problem+json` on APIs or as a friendly page."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from smartnation.core.i18n import N_


class DomainError(Exception):
    """Something a person or a client can fix or should know; never a bug.

    `code` is a stable machine name, `message` a sentence a person can read.
    """

    status = 400
    title = N_("The request could not be completed")
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details

    def problem(self) -> dict[str, Any]:
        """The RFC 9457 problem document for this error."""
        body: dict[str, Any] = {
            "type": f"https://smartnation.example/problems/{self.code.replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
            "code": self.code,
        }
        body.update(self.details)
        return body


@dataclass(frozen=True)
class FieldProblem:
    """One field that failed validation, and why."""

    field: str
    message: str
    code: str = "invalid"
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}


class InvalidInput(DomainError):
    """One or more fields are wrong; each is named with its reason."""

    status = 422
    title = N_("Some of the information given is not valid")
    code = "invalid_input"

    def __init__(self, problems: list[FieldProblem] | FieldProblem) -> None:
        self.problems = problems if isinstance(problems, list) else [problems]
        summary = "; ".join(f"{p.field}: {p.message}" for p in self.problems)
        super().__init__(summary, errors=[p.as_dict() for p in self.problems])


class NotFound(DomainError):
    status = 404
    title = N_("Not found")
    code = "not_found"


class Conflict(DomainError):
    status = 409
    title = N_("This conflicts with the current state")
    code = "conflict"


class NotAllowed(DomainError):
    status = 403
    title = N_("You are not allowed to do this")
    code = "forbidden"


class NotAuthenticated(DomainError):
    status = 401
    title = N_("Please log in")
    code = "unauthenticated"


class TooManyRequests(DomainError):
    status = 429
    title = N_("Too many requests")
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after

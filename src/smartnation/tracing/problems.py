"""The library's `TracingError`s as platform `DomainError`s, mapped at the service boundary.

The standards library (bluetrace, gaen, proximity) knows nothing of the web or the platform; the
domain's services catch its typed errors and raise these instead, so the web layer answers with
the right status and a problem document, never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from smartnation.core.errors import DomainError, FieldProblem, InvalidInput
from smartnation.core.i18n import N_
from smartnation.tracing import errors as lib


class UploadNotAuthorised(DomainError):
    """An upload token or upload code that is forged, expired, unknown or already used."""

    status = 401
    title = N_("The upload is not authorised")
    code = "tracing_upload_not_authorised"


class UploadTooLarge(DomainError):
    status = 413
    title = N_("The upload is too large")
    code = "tracing_upload_too_large"


class UploadMalformed(DomainError):
    status = 422
    title = N_("The upload could not be read")
    code = "tracing_upload_malformed"


class DeviceNotAuthorised(DomainError):
    status = 401
    title = N_("This device is not registered")
    code = "tracing_device_not_authorised"


class TracingUnavailable(DomainError):
    """The service is misconfigured (keys); operators must act, the client cannot."""

    status = 503
    title = N_("The service is not available")
    code = "tracing_unavailable"


def as_domain_error(error: lib.TracingError, field: str = "request") -> DomainError:
    """The platform error for a library error; keeps the library's code and message."""
    problem: DomainError
    if isinstance(error, lib.InvalidUploadToken | lib.InvalidUploadCode):
        problem = UploadNotAuthorised(error.message)
    elif isinstance(error, lib.UploadRefused):
        too_big = "larger than" in error.message or "more than" in error.message
        problem = (UploadTooLarge if too_big else UploadMalformed)(error.message)
    elif isinstance(error, lib.DiagnosisKeyError):
        problem = InvalidInput(
            [FieldProblem("keys", message, error.code) for message in error.problems]
        )
    elif isinstance(error, lib.KeyConfigurationError | lib.CalibrationError):
        problem = TracingUnavailable(N_("The tracing service is not configured correctly."))
    else:
        problem = InvalidInput(FieldProblem(field, error.message, error.code))
    problem.code = error.code if not isinstance(problem, InvalidInput) else problem.code
    return problem


@contextmanager
def library_errors(field: str = "request") -> Iterator[None]:
    """Run library code; its `TracingError`s leave as `DomainError`s."""
    try:
        yield
    except lib.TracingError as error:
        raise as_domain_error(error, field) from error

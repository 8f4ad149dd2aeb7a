"""Typed errors of the tracing library: bad input is refused with one of these, never a crash.

Each carries a stable machine `code` and a sentence a person can read, so the web layer can map
it to a problem document without knowing the details.
"""

from __future__ import annotations


class TracingError(ValueError):
    """Base of every error this library raises on bad input or configuration."""

    code = "tracing_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KeyConfigurationError(TracingError):
    """The encryption keys could not be read from configuration."""

    code = "tracing_key_configuration"


class InvalidUid(TracingError):
    """A user id is not the 28-character base64 form a TempID can carry."""

    code = "tracing_invalid_uid"


class InvalidTempID(TracingError):
    """A TempID is malformed, or no configured key opens it."""

    code = "tracing_invalid_tempid"


class InvalidUploadCode(TracingError):
    """An upload code is not one the health authority issued."""

    code = "tracing_invalid_upload_code"


class InvalidUploadToken(TracingError):
    """An upload token is malformed, forged, or carries an invalid upload code."""

    code = "tracing_invalid_upload_token"


class UploadTokenExpired(InvalidUploadToken):
    """An upload token is older than its validity period."""

    code = "tracing_upload_token_expired"


class UploadRefused(TracingError):
    """An encounter-log upload is malformed or larger than the limits allow."""

    code = "tracing_upload_refused"


class DiagnosisKeyError(TracingError):
    """Diagnosis keys submitted for publication break the key-server rules."""

    code = "tracing_invalid_diagnosis_keys"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class ExportFormatError(TracingError):
    """An Exposure Notification export file is malformed or its signature does not verify."""

    code = "tracing_invalid_export"


class CalibrationError(TracingError):
    """The RSSI calibration table is malformed."""

    code = "tracing_invalid_calibration"

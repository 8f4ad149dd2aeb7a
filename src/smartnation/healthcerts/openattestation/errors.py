"""Errors the OpenAttestation library raises for input it refuses."""

from __future__ import annotations


class OpenAttestationError(ValueError):
    """Input that cannot become, or be read as, an OpenAttestation document."""


class KeyWithPeriodError(OpenAttestationError):
    """A key contains `.`, which the flattened leaf paths cannot represent."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Key names must not have . in them (found {key!r})")
        self.key = key


class SchemaValidationError(OpenAttestationError):
    """The document does not match the OpenAttestation 2.0 schema."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message + (": " + "; ".join(errors) if errors else ""))
        self.errors = errors


class ObfuscationError(OpenAttestationError):
    """Removing the requested fields would produce a document that no longer verifies."""


class SigningError(OpenAttestationError):
    """The key or document cannot be used for signing."""


class DecryptionError(OpenAttestationError):
    """An encrypted document cannot be decrypted with the given key."""

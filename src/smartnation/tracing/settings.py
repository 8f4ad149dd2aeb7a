"""Configuration of the tracing domain, from `SMARTNATION_TRACING_*` variables.

The BlueTrace keys are read by the library (`SMARTNATION_TRACING_KEYS`, see docs/tracing.md);
everything else about how the service behaves is here, each with a safe local default.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from smartnation.tracing.bluetrace import ConfiguredKeyring, keyring_from_environment
from smartnation.tracing.bluetrace.keyring import ENVIRONMENT_ENV_VAR, KEYS_ENV_VAR
from smartnation.tracing.proximity import CloseContactRule


class TracingSettings(BaseSettings):
    """How TraceTogether, SafeEntry and the exposure-key server behave."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_TRACING_", extra="ignore")

    # Close contact: within this distance for at least this long (Singapore: 2 m, 30 minutes).
    close_contact_distance_m: float = 2.0
    close_contact_minutes: float = 30.0
    # Encounters, uploads and check-ins are kept this long, then purged.
    retention_days: int = 25
    # Daily partitions created this many days ahead (PostgreSQL).
    partitions_ahead_days: int = 3
    # An upload code is valid this long after an officer issues it.
    upload_code_hours: float = 24.0
    # Uploads larger than this are refused before they are read in full.
    upload_max_bytes: int = 64 * 1024 * 1024
    # SafeEntry overlap: visits within this buffer of each other count as overlapping.
    safeentry_buffer_minutes: int = 30
    # A visit without a check-out is taken to have lasted this long.
    safeentry_default_stay_minutes: int = 60
    # Stays longer than this are cut (a forgotten check-out); bounds the overlap search.
    safeentry_max_stay_hours: int = 12
    # Phone verification at registration.
    otp_minutes: int = 10
    otp_attempts: int = 5
    # Abuse limits, per window: codes sent per phone and per NRIC/FIN at registration, and
    # refused upload codes per device (an upload code cannot be guessed in a few tries).
    limit_window_minutes: int = 15
    otp_sends_per_phone: int = 3
    otp_sends_per_nric: int = 5
    upload_code_attempts: int = 5
    # Quarantine ordered for close contacts: days after the last exposure.
    quarantine_days: int = 14
    # Exposure Notification key server.
    verification_code_hours: float = 24.0
    export_region: str = "SG"
    export_key_id: str = "smartnation"
    export_key_version: str = "v1"
    # PEM of the ECDSA P-256 key that signs export files; a public development key when unset.
    export_signing_key: str = ""

    def close_contact_rule(self) -> CloseContactRule:
        return CloseContactRule(
            max_distance_m=self.close_contact_distance_m,
            min_close_seconds=self.close_contact_minutes * 60,
        )


@lru_cache(maxsize=1)
def get_tracing_settings() -> TracingSettings:
    """The process-wide tracing settings, read once."""
    return TracingSettings()


_KEYRINGS: dict[str, ConfiguredKeyring] = {}


def current_keyring() -> ConfiguredKeyring:
    """The BlueTrace key ring from `SMARTNATION_TRACING_KEYS`, built once per configured value.

    Changing the variable (a rotation) takes effect for the next call without a restart of the
    library objects; a process restart is the usual way.
    """
    marker = os.environ.get(KEYS_ENV_VAR, "") + "|" + os.environ.get(ENVIRONMENT_ENV_VAR, "")
    configured = _KEYRINGS.get(marker)
    if configured is None:
        configured = _KEYRINGS[marker] = keyring_from_environment()
    return configured

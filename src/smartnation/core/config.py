"""Configuration: one small settings object per concern, read from `SMARTNATION_*` variables.

Every setting has a safe local default so that nothing must be set to run the embedded demo.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Final

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class DatabaseSettings(BaseSettings):
    """Where the data lives: a SQLite file under ./var by default, PostgreSQL in production."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_DATABASE_")

    url: str = Field(default=f"sqlite:///{VAR_DIR / 'smartnation.db'}")
    pool_size: int = 10
    # A pooled connection that has sat idle this long is checked with a round trip before use (a
    # database restart or a dropped idle connection is then never seen by a request); one in
    # steady use is not, which saves a round trip on every request under load.
    ping_after_idle_seconds: float = 10.0
    echo: bool = False

    @property
    def pool_overflow(self) -> int:
        """Connections the pool may open beyond `pool_size` when all are busy."""
        return self.pool_size

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


class WebSettings(BaseSettings):
    """The web application: its public address and secrets for sessions and CSRF."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_WEB_")

    base_url: str = "http://127.0.0.1:8000"
    # A random key per process is safe for the demo; production sets one shared key so that
    # sessions survive across processes behind a load balancer.
    secret_key: str = Field(default_factory=lambda: secrets.token_urlsafe(32))
    secure_cookies: bool = False
    embedded_worker: bool = True
    # One log line per request costs about a tenth of a simple request's CPU. Request counts and
    # latencies are always in /metrics and consequential actions in the audit log; turn this on
    # where per-request lines are wanted and no proxy in front already writes them.
    access_log: bool = False


class JobSettings(BaseSettings):
    """The background job queue."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_JOBS_")

    lease_seconds: int = 300
    poll_seconds: float = 0.5
    batch_size: int = 10


DEVELOPMENT: Final = "development"


def is_development(environment: str | None) -> bool:
    """The one rule every part of the platform applies: only the `development` environment (the
    default) may run on the public development keys and show the developer pages; any other
    name (`production`, `staging`, ...) is treated as a real deployment."""
    return (environment or DEVELOPMENT).strip().lower() == DEVELOPMENT


class Settings(BaseSettings):
    """All settings, grouped by concern."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_")

    environment: str = DEVELOPMENT
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()

"""Settings of the Gov.sg channel itself (the adapters' own settings are in `channels.config`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DispatchSettings(BaseSettings):
    """How broadcast workers claim and send message rows."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_DISPATCH_")

    enabled: bool = True
    # Rows claimed (and marked "sending") per round; also the most a killed worker leaves
    # ambiguous. Kept near what a channel sends in about a second.
    window: int = Field(default=1000, ge=1, le=10_000)
    # Subscribers queued per committed step when a campaign's audience is queued: a national
    # audience is never one long transaction, and its progress shows as it goes.
    queue_step: int = Field(default=200_000, ge=1)
    # Rounds in flight at once in one process (one claims while another sends).
    lanes: int = Field(default=2, ge=1, le=16)
    # Requests in flight per lane.
    concurrency: int = Field(default=100, ge=1, le=2000)
    # A claimed row whose worker has not answered within this is taken to be orphaned.
    lease_seconds: float = Field(default=60.0, gt=0)
    # WhatsApp echoes our message id in its status webhooks: an orphaned "sending" row waits
    # this long for one before it is sent again (Meta reports every message it accepted).
    ambiguous_hold_seconds: float = Field(default=900.0, ge=0)
    # Rate-limit or outage retries of one message before it is marked failed.
    max_attempts: int = Field(default=10, ge=1)
    retry_backoff_seconds: float = Field(default=5.0, ge=0)
    poll_seconds: float = Field(default=1.0, gt=0)
    # When set, processes sharing a provider number share one token bucket in Redis.
    redis_url: str = ""


class RetentionSettings(BaseSettings):
    """How long message rows (recipients and texts) are kept."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_RETENTION_")

    days: int = Field(default=180, ge=1)


class WebhookSettings(BaseSettings):
    """What inbound webhooks are checked against."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_WEBHOOKS_")

    # The secret_token given to Telegram's setWebhook, echoed in X-Telegram-Bot-Api-Secret-Token.
    telegram_secret_token: SecretStr = SecretStr("")
    # The public URLs registered with Twilio: its signatures cover the URL exactly as called,
    # which behind a proxy differs from the one the application sees.
    twilio_status_url: str = ""
    twilio_inbound_url: str = ""

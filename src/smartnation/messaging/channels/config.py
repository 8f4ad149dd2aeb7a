"""Channel settings from `SMARTNATION_MESSAGING_*` variables, and the factory that uses them.

Every channel defaults to the local inbox, so nothing must be set to run the platform. A
channel goes to its real provider only when its `..._BACKEND` names that provider, and then
its credentials must be set too: a half-configured provider fails at start-up rather than
quietly falling back to the inbox.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from smartnation.messaging.channels.base import Channel, ChannelKind, Language, SendPolicy
from smartnation.messaging.channels.email import SmtpEmailChannel
from smartnation.messaging.channels.local import InboxStore, InMemoryInboxStore, LocalChannel
from smartnation.messaging.channels.ratelimit import TokenBucket
from smartnation.messaging.channels.sms import TwilioSmsChannel
from smartnation.messaging.channels.telegram import TelegramBotChannel
from smartnation.messaging.channels.whatsapp import DEFAULT_LANGUAGE_CODES, WhatsAppCloudChannel


class ChannelSettings(BaseSettings):
    """What every channel has: its pace and patience."""

    backend: str = "local"
    rate_per_second: float | None = None
    # Largest burst above the rate; defaults to a twentieth of a second's worth.
    burst: float | None = None
    concurrency: int = Field(default=64, ge=1)
    timeout_seconds: float = Field(default=10.0, gt=0)
    rate_limit_retries: int = Field(default=3, ge=0)

    @field_validator("rate_per_second")
    @classmethod
    def _zero_is_no_cap(cls, value: float | None) -> float | None:
        # `..._RATE_PER_SECOND=0` in the environment: no pacing on our side at all (a provider
        # stand-in with no cap, or a provider that throttles by itself).
        if value is not None and value < 0:
            raise ValueError("a rate is zero (no cap) or above zero")
        return value or None

    @property
    def is_local(self) -> bool:
        return self.backend == "local"

    def send_policy(self) -> SendPolicy:
        limiter = None
        if self.rate_per_second and not self.is_local:
            limiter = TokenBucket(self.rate_per_second, self.burst)
        return SendPolicy(
            concurrency=self.concurrency,
            limiter=limiter,
            rate_limit_retries=self.rate_limit_retries,
        )

    def _require(self, **values: str | SecretStr | None) -> None:
        missing = [
            name
            for name, value in values.items()
            if not (value.get_secret_value() if isinstance(value, SecretStr) else value)
        ]
        if missing:
            prefix = str(self.model_config.get("env_prefix", ""))
            names = ", ".join(prefix + name.upper() for name in missing)
            raise ValueError(f"backend {self.backend!r} needs {names}")


class WhatsAppSettings(ChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_WHATSAPP_")

    backend: Literal["local", "cloud_api"] = "local"
    base_url: str = "https://graph.facebook.com"
    api_version: str = "v23.0"
    phone_number_id: str = ""
    access_token: SecretStr = SecretStr("")
    # Keys the X-Hub-Signature-256 of status webhooks.
    app_secret: SecretStr = SecretStr("")
    # Echoed in the GET hub.verify_token handshake when subscribing the webhook.
    verify_token: SecretStr = SecretStr("")
    # Meta's default per business number; raised to 1,000/s on request.
    rate_per_second: float | None = 80.0
    # Requests in flight a process needs: rate times the reply's latency (1,000/s at 250 ms).
    concurrency: int = Field(default=256, ge=1)
    # Our language -> WhatsApp template language code; JSON in the environment.
    language_codes: dict[Language, str] = Field(
        default_factory=lambda: dict(DEFAULT_LANGUAGE_CODES)
    )

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.backend == "cloud_api":
            self._require(phone_number_id=self.phone_number_id, access_token=self.access_token)
        return self


class TelegramSettings(ChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_TELEGRAM_")

    backend: Literal["local", "bot_api"] = "local"
    base_url: str = "https://api.telegram.org"
    bot_token: SecretStr = SecretStr("")
    parse_mode: Literal["HTML", "MarkdownV2"] | None = None
    # Telegram's guidance for one bot broadcasting to many chats.
    rate_per_second: float | None = 30.0

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.backend == "bot_api":
            self._require(bot_token=self.bot_token)
        return self


class SmsSettings(ChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_SMS_")

    backend: Literal["local", "twilio"] = "local"
    base_url: str = "https://api.twilio.com"
    account_sid: str = ""
    # Both the Basic-auth password and the key of X-Twilio-Signature on callbacks.
    auth_token: SecretStr = SecretStr("")
    from_number: str = ""
    messaging_service_sid: str = ""
    status_callback_url: str = ""
    rate_per_second: float | None = 10.0

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.backend == "twilio":
            self._require(account_sid=self.account_sid, auth_token=self.auth_token)
            if not (self.from_number or self.messaging_service_sid):
                self._require(from_number=self.from_number)
        return self


class EmailSettings(ChannelSettings):
    model_config = SettingsConfigDict(env_prefix="SMARTNATION_MESSAGING_EMAIL_")

    backend: Literal["local", "smtp"] = "local"
    host: str = ""
    port: int = 587
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str = ""
    password: SecretStr = SecretStr("")
    from_address: str = "no-reply@localhost"
    from_name: str = ""
    concurrency: int = Field(default=8, ge=1)
    timeout_seconds: float = Field(default=30.0, gt=0)
    # Postman's email rate in one job.
    rate_per_second: float | None = 225.0

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.backend == "smtp":
            self._require(host=self.host, from_address=self.from_address)
        return self


class MessagingSettings(BaseModel):
    """One settings object per channel, each read from its own variables."""

    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    sms: SmsSettings = Field(default_factory=SmsSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)


def build_channels(
    settings: MessagingSettings | None = None, *, inbox: InboxStore | None = None
) -> dict[ChannelKind, Channel]:
    """One adapter per channel, real or local as configured; local ones share `inbox`."""
    settings = settings or MessagingSettings()
    inbox = inbox or InMemoryInboxStore()
    return {
        ChannelKind.WHATSAPP: _whatsapp(settings.whatsapp, inbox),
        ChannelKind.TELEGRAM: _telegram(settings.telegram, inbox),
        ChannelKind.SMS: _sms(settings.sms, inbox),
        ChannelKind.EMAIL: _email(settings.email, inbox),
    }


def _whatsapp(settings: WhatsAppSettings, inbox: InboxStore) -> Channel:
    if settings.is_local:
        return LocalChannel(ChannelKind.WHATSAPP, inbox)
    return WhatsAppCloudChannel(
        phone_number_id=settings.phone_number_id,
        access_token=settings.access_token.get_secret_value(),
        base_url=settings.base_url,
        api_version=settings.api_version,
        timeout=settings.timeout_seconds,
        policy=settings.send_policy(),
        language_codes=settings.language_codes,
    )


def _telegram(settings: TelegramSettings, inbox: InboxStore) -> Channel:
    if settings.is_local:
        return LocalChannel(ChannelKind.TELEGRAM, inbox)
    return TelegramBotChannel(
        bot_token=settings.bot_token.get_secret_value(),
        base_url=settings.base_url,
        timeout=settings.timeout_seconds,
        parse_mode=settings.parse_mode,
        policy=settings.send_policy(),
    )


def _sms(settings: SmsSettings, inbox: InboxStore) -> Channel:
    if settings.is_local:
        return LocalChannel(ChannelKind.SMS, inbox)
    return TwilioSmsChannel(
        account_sid=settings.account_sid,
        auth_token=settings.auth_token.get_secret_value(),
        from_number=settings.from_number or None,
        messaging_service_sid=settings.messaging_service_sid or None,
        status_callback_url=settings.status_callback_url or None,
        base_url=settings.base_url,
        timeout=settings.timeout_seconds,
        policy=settings.send_policy(),
    )


def _email(settings: EmailSettings, inbox: InboxStore) -> Channel:
    if settings.is_local:
        return LocalChannel(ChannelKind.EMAIL, inbox)
    return SmtpEmailChannel(
        host=settings.host,
        port=settings.port,
        from_address=settings.from_address,
        from_name=settings.from_name or None,
        username=settings.username or None,
        password=settings.password.get_secret_value() or None,
        security=settings.security,
        timeout=settings.timeout_seconds,
        policy=settings.send_policy(),
    )

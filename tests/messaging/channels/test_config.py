import os

import pytest
from pydantic import ValidationError

from smartnation.messaging.channels.base import ChannelKind, Language
from smartnation.messaging.channels.config import (
    EmailSettings,
    MessagingSettings,
    SmsSettings,
    TelegramSettings,
    WhatsAppSettings,
    build_channels,
)
from smartnation.messaging.channels.email import SmtpEmailChannel
from smartnation.messaging.channels.local import LocalChannel
from smartnation.messaging.channels.sms import TwilioSmsChannel
from smartnation.messaging.channels.telegram import TelegramBotChannel
from smartnation.messaging.channels.whatsapp import WhatsAppCloudChannel

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("SMARTNATION_MESSAGING_"):
            monkeypatch.delenv(name)


async def test_with_nothing_set_every_channel_is_local():
    channels = build_channels()
    assert set(channels) == set(ChannelKind)
    assert all(isinstance(c, LocalChannel) for c in channels.values())
    assert {c.kind for c in channels.values()} == set(ChannelKind)


async def test_environment_selects_the_real_adapters(monkeypatch):
    env = {
        "SMARTNATION_MESSAGING_WHATSAPP_BACKEND": "cloud_api",
        "SMARTNATION_MESSAGING_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "SMARTNATION_MESSAGING_WHATSAPP_ACCESS_TOKEN": "EAAG-secret",
        "SMARTNATION_MESSAGING_WHATSAPP_RATE_PER_SECOND": "1000",
        "SMARTNATION_MESSAGING_WHATSAPP_LANGUAGE_CODES": '{"zh": "zh_HK"}',
        "SMARTNATION_MESSAGING_TELEGRAM_BACKEND": "bot_api",
        "SMARTNATION_MESSAGING_TELEGRAM_BOT_TOKEN": "1:abc",
        "SMARTNATION_MESSAGING_SMS_BACKEND": "twilio",
        "SMARTNATION_MESSAGING_SMS_ACCOUNT_SID": "AC123",
        "SMARTNATION_MESSAGING_SMS_AUTH_TOKEN": "tok",
        "SMARTNATION_MESSAGING_SMS_FROM_NUMBER": "+6560000000",
        "SMARTNATION_MESSAGING_EMAIL_BACKEND": "smtp",
        "SMARTNATION_MESSAGING_EMAIL_HOST": "smtp.example.gov.sg",
        "SMARTNATION_MESSAGING_EMAIL_FROM_ADDRESS": "no-reply@example.gov.sg",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = MessagingSettings()
    assert settings.whatsapp.language_codes == {Language.ZH: "zh_HK"}
    assert "EAAG-secret" not in repr(settings)
    channels = build_channels(settings)
    try:
        whatsapp = channels[ChannelKind.WHATSAPP]
        assert isinstance(whatsapp, WhatsAppCloudChannel)
        assert whatsapp.policy.limiter is not None
        assert whatsapp.policy.limiter.rate == 1000
        assert whatsapp.language_codes[Language.ZH] == "zh_HK"
        assert whatsapp.language_codes[Language.EN] == "en"
        assert isinstance(channels[ChannelKind.TELEGRAM], TelegramBotChannel)
        assert isinstance(channels[ChannelKind.SMS], TwilioSmsChannel)
        assert isinstance(channels[ChannelKind.EMAIL], SmtpEmailChannel)
    finally:
        for channel in channels.values():
            await channel.aclose()


@pytest.mark.parametrize(
    ("settings_class", "backend", "missing"),
    [
        (WhatsAppSettings, "cloud_api", "SMARTNATION_MESSAGING_WHATSAPP_PHONE_NUMBER_ID"),
        (TelegramSettings, "bot_api", "SMARTNATION_MESSAGING_TELEGRAM_BOT_TOKEN"),
        (SmsSettings, "twilio", "SMARTNATION_MESSAGING_SMS_ACCOUNT_SID"),
        (EmailSettings, "smtp", "SMARTNATION_MESSAGING_EMAIL_HOST"),
    ],
)
def test_a_real_backend_without_credentials_fails_at_start_up(settings_class, backend, missing):
    with pytest.raises(ValidationError, match=missing):
        settings_class(backend=backend)


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValidationError):
        WhatsAppSettings(backend="carrier_pigeon")


def test_local_channels_are_not_rate_limited():
    assert WhatsAppSettings().send_policy().limiter is None

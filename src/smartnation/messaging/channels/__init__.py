"""Channel adapters: the layer that talks to WhatsApp, Telegram, SMS and email providers.

Each channel has a real adapter and the local inbox stand-in, chosen by configuration
(`config.build_channels`). Nothing here touches the database.
"""

from smartnation.messaging.channels.base import (
    Channel,
    ChannelKind,
    DeliveryStatus,
    Failure,
    InvalidRecipient,
    InvalidSignature,
    Language,
    MalformedWebhook,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    SendPolicy,
    SendResult,
    StatusUpdate,
    TemporaryFailure,
    advance,
)
from smartnation.messaging.channels.config import MessagingSettings, build_channels

__all__ = [
    "Channel",
    "ChannelKind",
    "DeliveryStatus",
    "Failure",
    "InvalidRecipient",
    "InvalidSignature",
    "Language",
    "MalformedWebhook",
    "MessagingSettings",
    "OutboundMessage",
    "PermanentFailure",
    "RateLimited",
    "SendPolicy",
    "SendResult",
    "StatusUpdate",
    "TemporaryFailure",
    "advance",
    "build_channels",
]

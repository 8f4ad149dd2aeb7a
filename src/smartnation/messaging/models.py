"""Messaging tables: subscribers and their consent, broadcast campaigns, and every message.

Every message the platform sends is a row with its status history; a broadcast adds one row per
recipient, keyed (campaign, subscriber) so nobody receives a campaign twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from smartnation.core.clock import utcnow
from smartnation.core.db import Base, BigId, UTCDateTime


class Message(Base):
    """One message to one recipient on one channel, in the recipient's language.

    The idempotency key is unique: asking twice to send the same logical message (a retried
    request, a job run twice) finds the first row instead of sending again.
    """

    __tablename__ = "messaging_message"
    __table_args__ = (
        Index("ix_messaging_message_status_created", "status", "created_at"),
        Index("ix_messaging_message_recipient", "recipient"),
        Index("ix_messaging_message_campaign_status", "campaign_id", "status", "id"),
        # STOP, a subscriber's data export and their deletion look up their messages.
        Index("ix_messaging_message_subscriber", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # whatsapp, telegram, sms, email
    recipient: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    template: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(String(200))
    # queued -> (sending) -> sent -> delivered -> read; failed and cancelled are terminal;
    # statuses only move forward. "sending" is set before a broadcast row's provider call.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    provider_message_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Broadcast rows only: which campaign and subscriber, and the dispatcher's lease on the row.
    # No foreign key: its check per row was a fifth to a third of queueing a national audience,
    # and campaigns are never deleted (cancelled instead); rows leave by retention.
    campaign_id: Mapped[int | None] = mapped_column(BigId)
    subscriber_id: Mapped[int | None] = mapped_column(BigId)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))


class StatusEvent(Base):
    """A status report about a message, as the provider sent it (kept even when out of order)."""

    __tablename__ = "messaging_status_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messaging_message.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Subscriber(Base):
    """A person subscribed to the Gov.sg channel on one channel address, in one language.

    `status` is pending (web sign-up awaiting its confirmation code), active or unsubscribed.
    The proof of each opt-in and opt-out is kept in `ConsentEvent` rows.
    """

    __tablename__ = "messaging_subscriber"
    __table_args__ = (
        UniqueConstraint("channel", "address"),
        Index("ix_messaging_subscriber_audience", "channel", "status", "language"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    # E.164 number (WhatsApp, SMS) or Telegram chat id.
    address: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))
    # A group chosen by the agency (e.g. "healthcare-workers"); audiences may select by it.
    segment: Mapped[str | None] = mapped_column(String(60))
    confirmation_hash: Mapped[str | None] = mapped_column(String(64))
    confirmation_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubscriberTopic(Base):
    """One topic a subscriber follows (an audience may select by topic)."""

    __tablename__ = "messaging_subscriber_topic"
    __table_args__ = (Index("ix_messaging_subscriber_topic_topic", "topic", "subscriber_id"),)

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("messaging_subscriber.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(40), primary_key=True)


class ConsentEvent(Base):
    """Proof of an opt-in, confirmation, opt-out or preference change, as it happened.

    `proof` holds the inbound message id and time for a keyword, or the signed link used.
    """

    __tablename__ = "messaging_consent_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("messaging_subscriber.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(24))
    method: Mapped[str] = mapped_column(String(16))  # keyword, web, link, officer
    proof: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Campaign(Base):
    """A broadcast: one text per language, an audience, a schedule, an approval, a state.

    draft -> submitted -> approved (waits for its time) -> sending <-> paused -> completed;
    cancelled from any state before completed. A second officer approves; never the author.
    """

    __tablename__ = "messaging_campaign"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(16))
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    variables: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # An approved WhatsApp template to send instead of free text (outside the 24-hour window).
    whatsapp_template: Mapped[str | None] = mapped_column(String(120))
    topic: Mapped[str | None] = mapped_column(String(40))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: every language
    segment: Mapped[str | None] = mapped_column(String(60))
    rate_per_second: Mapped[float | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), index=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_note: Mapped[str | None] = mapped_column(Text)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # True once the audience has been queued as message rows.
    queued: Mapped[bool] = mapped_column(Boolean, default=False)
    # Queueing goes in committed steps over subscriber ids: the last id a committed step
    # covered, where the next step (or a worker resuming after a crash) goes on.
    queued_through: Mapped[int | None] = mapped_column(BigId)

"""Helpers for broadcast tests: officers, subscribers made in bulk, a campaign through approval."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert

from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.web.auth import Principal
from smartnation.messaging import campaigns
from smartnation.messaging.campaigns import CampaignDraft
from smartnation.messaging.dispatch import Dispatcher
from smartnation.messaging.models import Subscriber, SubscriberTopic
from smartnation.messaging.settings import DispatchSettings

AUTHOR = Principal("person", "officer-1", "Officer Tan", frozenset({"messaging.officer"}))
APPROVER = Principal(
    "person", "approver-1", "Officer Lim", frozenset({"messaging.officer", "messaging.approver"})
)
LANGUAGES = ("en", "zh", "ms", "ta")
TEXTS = {
    "en": "Vaccination centres open on {date}.",
    "zh": "疫苗接种中心将于 {date} 开放。",
    "ms": "Pusat vaksinasi dibuka pada {date}.",
    "ta": "தடுப்பூசி மையங்கள் {date} அன்று திறக்கப்படும்.",
}


def phone(index: int) -> str:
    return f"+659{index:07d}"


def add_subscribers(
    database: Database,
    count: int,
    *,
    channel: str = "whatsapp",
    topic: str = "health",
    start: int = 0,
) -> list[int]:
    now = utcnow()
    rows = [
        {
            "channel": channel,
            "address": phone(start + i) if channel != "telegram" else str(100000 + start + i),
            "language": LANGUAGES[i % 4],
            "status": "active",
            "confirmation_attempts": 0,
            "created_at": now,
            "subscribed_at": now,
        }
        for i in range(count)
    ]
    with database.transaction() as session:
        ids = list(session.scalars(insert(Subscriber).returning(Subscriber.id), rows))
        session.execute(
            insert(SubscriberTopic), [{"subscriber_id": i, "topic": topic} for i in ids]
        )
    return ids


def approved_campaign(database: Database, *, channel: str = "whatsapp", **extra: object) -> int:
    draft = CampaignDraft(
        title="Vaccination update",
        channel=channel,
        texts=dict(TEXTS),
        variables={"date": "1 June"},
        topic="health",
        **extra,  # type: ignore[arg-type]
    )
    with database.transaction() as session:
        campaign = campaigns.create(session, AUTHOR, draft)
        campaigns.submit(session, AUTHOR, campaign.id)
        campaigns.approve(session, APPROVER, campaign.id)
        return campaign.id


def dispatch_until_idle(database: Database, **settings: object) -> int:
    dispatcher = Dispatcher(database, DispatchSettings(**settings))  # type: ignore[arg-type]

    async def run() -> int:
        try:
            return await dispatcher.run_until_idle()
        finally:
            await dispatcher.aclose()

    return asyncio.run(run())

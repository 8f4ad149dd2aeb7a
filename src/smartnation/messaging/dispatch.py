"""Broadcast delivery: workers claim windows of message rows, send them at the channel's rate.

One round: claim up to `window` queued rows of a sending campaign with `FOR UPDATE SKIP LOCKED`,
marking them "sending" with a lease (committed before any provider call); send them with bounded
concurrency through the channel adapter, paced by a token bucket; record each outcome. Several
rounds ("lanes") overlap in one process, and any number of processes share the table.

Nothing is lost and nothing is sent twice:
- A row is only ever claimed while "queued", so two workers never send it together.
- A worker that dies leaves its window "sending" with a lease that runs out. Such a row is
  ambiguous (the provider may have it). It is sent again only where that cannot duplicate: the
  local stand-in dedupes on the idempotency key; WhatsApp echoes our id in its status webhooks,
  so the row waits `ambiguous_hold_seconds` for one and is sent again only if none came; other
  providers have neither, so the row is marked failed ("outcome-unknown") rather than risk a
  second copy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import string
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Table, bindparam, case, func, select, update

from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.messaging import campaigns
from smartnation.messaging.channels.base import (
    Channel,
    ChannelKind,
    InvalidRecipient,
    Language,
    OutboundMessage,
    PermanentFailure,
    RateLimited,
    SendPolicy,
    SendResult,
    TemporaryFailure,
    send_bounded,
)
from smartnation.messaging.channels.config import MessagingSettings, build_channels
from smartnation.messaging.channels.ratelimit import TokenBucket
from smartnation.messaging.models import Campaign, Message
from smartnation.messaging.ratelimit_redis import RedisTokenBucket
from smartnation.messaging.settings import DispatchSettings

log = logging.getLogger(__name__)

_TABLE: Table = Message.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    campaign_id: int
    channel: str
    recipient: str
    language: str
    body: str
    idempotency_key: str
    attempts: int


@dataclass(frozen=True)
class CampaignInfo:
    channel: str
    rate_per_second: float | None
    whatsapp_template: str | None
    parameters: tuple[str, ...]


@dataclass
class RoundOutcome:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    held: int = 0


def _rate_limiter(rate: float | None, redis_url: str, key: str) -> TokenBucket | None:
    if not rate:
        return None
    if redis_url:
        # A shared bucket: every process sending from this number draws from one rate.
        return RedisTokenBucket(redis_url, key, rate)
    return TokenBucket(rate)


class Dispatcher:
    """The broadcast sender of one worker process."""

    def __init__(
        self,
        database: Database,
        settings: DispatchSettings | None = None,
        *,
        channel_settings: MessagingSettings | None = None,
        adapters: dict[ChannelKind, Channel] | None = None,
    ) -> None:
        self.db = database
        self.settings = settings or DispatchSettings()
        self.channel_settings = channel_settings or MessagingSettings()
        self._adapters = adapters
        self.identity = f"{socket.gethostname()}:{os.getpid()}"
        self._limiters: dict[tuple[str, float | None], TokenBucket | None] = {}
        self._campaigns: dict[int, CampaignInfo] = {}
        self._campaigns_at = 0.0
        self._cursor = 0
        self.sent_total = 0

    # -- channels ---------------------------------------------------------------------------
    def adapters(self) -> dict[ChannelKind, Channel]:
        if self._adapters is None:
            self._adapters = build_channels(self.channel_settings)
        return self._adapters

    def _channel_settings(self, channel: str):  # type: ignore[no-untyped-def]
        return getattr(self.channel_settings, channel)

    def is_idempotent(self, channel: str) -> bool:
        """Whether sending a message again with the same idempotency key cannot duplicate it."""
        return bool(self._channel_settings(channel).is_local)

    def _limiter(self, channel: str, campaign_rate: float | None) -> TokenBucket | None:
        channel_rate = self._channel_settings(channel).rate_per_second
        if self._channel_settings(channel).is_local:
            channel_rate = None
        rates = [r for r in (channel_rate, campaign_rate) if r]
        rate = min(rates) if rates else None
        key = (channel, rate)
        if key not in self._limiters:
            self._limiters[key] = _rate_limiter(
                rate, self.settings.redis_url, f"smartnation:rate:{channel}"
            )
        return self._limiters[key]

    # -- database steps (synchronous; run in threads) -----------------------------------------
    def sending_campaigns(self) -> list[int]:
        """Campaigns whose rows may be claimed now (cached for a second)."""
        if time.monotonic() - self._campaigns_at > 1.0:
            with self.db.transaction() as session:
                rows = session.execute(
                    select(
                        Campaign.id,
                        Campaign.channel,
                        Campaign.rate_per_second,
                        Campaign.whatsapp_template,
                        Campaign.texts,
                        Campaign.variables,
                    ).where(Campaign.status == "sending")
                ).all()
            self._campaigns = {
                row.id: CampaignInfo(
                    row.channel,
                    row.rate_per_second,
                    row.whatsapp_template,
                    _template_parameters(row.texts, row.variables),
                )
                for row in rows
            }
            self._campaigns_at = time.monotonic()
        return sorted(self._campaigns)

    def claim(self, campaign_id: int, limit: int) -> list[ClaimedRow]:
        """Take up to `limit` queued rows of a campaign and mark them sending, leased to us."""
        now = utcnow()
        with self.db.transaction() as session:
            ids = (
                select(Message.id)
                .where(
                    Message.campaign_id == campaign_id,
                    Message.status == "queued",
                    (Message.lease_until.is_(None)) | (Message.lease_until <= now),
                )
                .order_by(Message.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            statement = (
                update(_TABLE)
                .where(_TABLE.c.id.in_(ids.scalar_subquery()))
                .values(
                    status="sending",
                    lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                    claimed_by=self.identity,
                    attempts=_TABLE.c.attempts + 1,
                )
                .returning(
                    _TABLE.c.id,
                    _TABLE.c.campaign_id,
                    _TABLE.c.channel,
                    _TABLE.c.recipient,
                    _TABLE.c.language,
                    _TABLE.c.body,
                    _TABLE.c.idempotency_key,
                    _TABLE.c.attempts,
                )
            )
            return [ClaimedRow(*row) for row in session.execute(statement).all()]

    def record(self, rows: Sequence[ClaimedRow], results: Sequence[SendResult]) -> RoundOutcome:
        """Write each outcome in one transaction (a few executemany statements per round)."""
        now = utcnow()
        outcome = RoundOutcome()
        sent: list[dict[str, object]] = []
        delivered: list[dict[str, object]] = []
        failed: list[dict[str, object]] = []
        retry: list[dict[str, object]] = []
        hold: list[dict[str, object]] = []
        by_id = {str(row.id): row for row in rows}
        for result in results:
            row = by_id[result.message_id]
            if result.accepted:
                pid = result.provider_message_id or ""
                (delivered if pid.startswith("local-") else sent).append(
                    {"b_id": row.id, "b_pid": pid}
                )
                continue
            failure = result.failure
            assert failure is not None
            text = f"{failure.code}: {failure.text}"[:2000]
            if isinstance(failure, InvalidRecipient | PermanentFailure) or not failure.retryable:
                failed.append({"b_id": row.id, "b_error": text})
            elif isinstance(failure, TemporaryFailure) and failure.ambiguous:
                if self.is_idempotent(row.channel):
                    retry.append({"b_id": row.id, "b_until": now, "b_error": text})
                elif row.channel == ChannelKind.WHATSAPP:
                    hold.append({"b_id": row.id, "b_error": text})
                else:
                    failed.append({"b_id": row.id, "b_error": "outcome-unknown: " + text})
            elif row.attempts >= self.settings.max_attempts:
                failed.append({"b_id": row.id, "b_error": text})
            else:
                wait = failure.retry_after if isinstance(failure, RateLimited) else 0.0
                backoff = self.settings.retry_backoff_seconds * 2 ** min(row.attempts - 1, 8)
                until = now + timedelta(seconds=max(wait, backoff))
                retry.append({"b_id": row.id, "b_until": until, "b_error": text})
        with self.db.transaction() as session:
            by = _TABLE.c.id == bindparam("b_id")
            if sent or delivered:
                for params, status in ((sent, "sent"), (delivered, "delivered")):
                    if not params:
                        continue
                    session.execute(
                        update(_TABLE)
                        .where(by)
                        .values(
                            status=case(
                                (_TABLE.c.status == "sending", status), else_=_TABLE.c.status
                            ),
                            provider_message_id=bindparam("b_pid"),
                            sent_at=func.coalesce(_TABLE.c.sent_at, now),
                            delivered_at=(
                                func.coalesce(_TABLE.c.delivered_at, now)
                                if status == "delivered"
                                else _TABLE.c.delivered_at
                            ),
                            lease_until=None,
                            error=None,
                        ),
                        params,
                    )
            sending = _TABLE.c.status == "sending"
            if failed:
                session.execute(
                    update(_TABLE)
                    .where(by, sending)
                    .values(
                        status="failed", failed_at=now, error=bindparam("b_error"), lease_until=None
                    ),
                    failed,
                )
            if retry:
                session.execute(
                    update(_TABLE)
                    .where(by, sending)
                    .values(
                        status="queued",
                        lease_until=bindparam("b_until"),
                        error=bindparam("b_error"),
                    ),
                    retry,
                )
            if hold:
                # The lease ends now: the resolver waits for WhatsApp's webhook from here.
                session.execute(
                    update(_TABLE)
                    .where(by, sending)
                    .values(lease_until=now, error=bindparam("b_error")),
                    hold,
                )
        outcome.sent, outcome.failed = len(sent) + len(delivered), len(failed)
        outcome.retried, outcome.held = len(retry), len(hold)
        return outcome

    def resolve_orphans(self, limit: int = 1000) -> int:
        """Settle "sending" rows whose lease ran out (their worker died or gave up waiting)."""
        now = utcnow()
        hold = timedelta(seconds=self.settings.ambiguous_hold_seconds)
        with self.db.transaction() as session:
            rows = session.execute(
                select(Message.id, Message.channel, Message.lease_until)
                .where(Message.status == "sending", Message.lease_until < now)
                .order_by(Message.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            resend, unknown = [], []
            for row in rows:
                if self.is_idempotent(row.channel):
                    resend.append({"b_id": row.id})
                elif row.channel == ChannelKind.WHATSAPP:
                    if row.lease_until + hold <= now:
                        resend.append({"b_id": row.id})
                else:
                    unknown.append({"b_id": row.id})
            by = (_TABLE.c.id == bindparam("b_id")) & (_TABLE.c.status == "sending")
            if resend:
                session.execute(
                    update(_TABLE).where(by).values(status="queued", lease_until=None), resend
                )
            if unknown:
                session.execute(
                    update(_TABLE)
                    .where(by)
                    .values(
                        status="failed",
                        failed_at=now,
                        lease_until=None,
                        error="outcome-unknown: the worker stopped during the provider call and "
                        "this provider cannot tell; not sent again to avoid a second copy",
                    ),
                    unknown,
                )
            return len(resend) + len(unknown)

    def queue_due(self) -> int:
        """Queue the audience of approved campaigns whose time has come."""
        with self.db.transaction() as session:
            due = campaigns.due_for_queueing(session)
        added = 0
        for campaign_id in due:
            with self.db.transaction() as session:
                added += campaigns.queue_audience(session, campaign_id)
        return added

    def complete(self, campaign_id: int) -> bool:
        with self.db.transaction() as session:
            done = campaigns.complete_if_done(session, campaign_id)
        if done:
            self._campaigns_at = 0.0
        return done

    # -- sending --------------------------------------------------------------------------------
    def _outbound(self, row: ClaimedRow, info: CampaignInfo | None) -> OutboundMessage:
        template = info.whatsapp_template if info and row.channel == ChannelKind.WHATSAPP else None
        return OutboundMessage(
            message_id=str(row.id),
            channel=ChannelKind(row.channel),
            recipient=row.recipient,
            language=Language(row.language),
            body=row.body,
            template_name=template,
            template_parameters=info.parameters if template and info else (),
            idempotency_key=row.idempotency_key,
        )

    async def send_rows(self, rows: Sequence[ClaimedRow]) -> list[SendResult]:
        results: list[SendResult] = []
        groups: dict[tuple[str, int], list[ClaimedRow]] = {}
        for row in rows:
            groups.setdefault((row.channel, row.campaign_id), []).append(row)
        for (channel, campaign_id), group in groups.items():
            info = self._campaigns.get(campaign_id)
            adapter = self.adapters()[ChannelKind(channel)]
            # Never more in flight than the adapter's own connection pool holds.
            pool = self._channel_settings(channel).concurrency
            policy = SendPolicy(
                concurrency=max(1, min(self.settings.concurrency, pool // self.settings.lanes)),
                limiter=self._limiter(channel, info.rate_per_second if info else None),
            )
            outbound = [self._outbound(row, info) for row in group]
            results += await send_bounded(adapter.send, outbound, policy)
        return results

    async def run_round(self) -> int:
        """Claim, send and record one window; returns how many rows it handled."""
        campaign_ids = await asyncio.to_thread(self.sending_campaigns)
        if not campaign_ids:
            return 0
        for offset in range(len(campaign_ids)):
            campaign_id = campaign_ids[(self._cursor + offset) % len(campaign_ids)]
            rows = await asyncio.to_thread(self.claim, campaign_id, self.settings.window)
            if rows:
                self._cursor += 1
                results = await self.send_rows(rows)
                outcome = await asyncio.to_thread(self.record, rows, results)
                self.sent_total += outcome.sent
                return len(rows)
            await asyncio.to_thread(self.complete, campaign_id)
        return 0

    async def _maintain(self) -> None:
        await asyncio.to_thread(self.queue_due)
        await asyncio.to_thread(self.resolve_orphans)

    async def run(self, stop: threading.Event) -> None:
        """Run lanes and upkeep until `stop` is set."""

        async def lane() -> None:
            while not stop.is_set():
                try:
                    handled = await self.run_round()
                except Exception:  # the database or a provider may be briefly unreachable
                    log.exception("broadcast round failed")
                    handled = 0
                if handled == 0:
                    await asyncio.sleep(self.settings.poll_seconds)

        async def upkeep() -> None:
            while not stop.is_set():
                try:
                    await self._maintain()
                except Exception:
                    log.exception("broadcast upkeep failed")
                await asyncio.sleep(self.settings.poll_seconds)

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(upkeep())
                for _ in range(self.settings.lanes):
                    group.create_task(lane())
        finally:
            await self.aclose()

    async def run_until_idle(self, max_rounds: int = 100_000) -> int:
        """Queue what is due, then send until nothing is claimable (tests and commands)."""
        await self._maintain()
        handled = 0
        for _ in range(max_rounds):
            count = await self.run_round()
            if count == 0:
                break
            handled += count
        return handled

    async def aclose(self) -> None:
        if self._adapters is not None:
            for adapter in self._adapters.values():
                await adapter.aclose()
            self._adapters = None


def _template_parameters(texts: dict[str, str], variables: dict[str, str]) -> tuple[str, ...]:
    """The campaign's values in the order the English text uses them (WhatsApp's {{1}}, {{2}})."""
    order: list[str] = []
    for _, name, _, _ in string.Formatter().parse(
        texts.get("en") or next(iter(texts.values()), "")
    ):
        if name and name not in order:
            order.append(name)
    return tuple(str(variables.get(name, "")) for name in order)


def run_dispatcher(database: Database, stop: threading.Event) -> None:
    """The worker's broadcast loop (registered with `core.jobs.background_loop`)."""
    settings = DispatchSettings()
    if not settings.enabled:
        return
    # One INFO line per provider request would be most of a broadcast's cost.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(Dispatcher(database, settings).run(stop))

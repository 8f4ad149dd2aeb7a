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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import uvloop
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    create_engine,
    func,
    select,
    text,
    update,
)

from smartnation.core.clock import utcnow
from smartnation.core.db import Database, UTCDateTime
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

# Every outcome of a window in one statement. A row's status only moves forward: an accepted
# send moves "sending" to sent (or delivered), and leaves a status a webhook already moved
# further; a refusal, a retry or a hold applies only to a row still "sending" (a row the
# orphan resolver has taken back is not touched).
_OUTCOME_SET = """
    status = CASE WHEN m.status <> 'sending' THEN m.status
                  WHEN v.outcome = 'retry' THEN 'queued'
                  WHEN v.outcome = 'hold' THEN m.status
                  ELSE v.outcome END,
    provider_message_id = CASE WHEN v.outcome IN ('sent', 'delivered') THEN v.pid
                               ELSE m.provider_message_id END,
    sent_at = CASE WHEN v.outcome IN ('sent', 'delivered') THEN COALESCE(m.sent_at, :now)
                   ELSE m.sent_at END,
    delivered_at = CASE WHEN v.outcome = 'delivered' THEN COALESCE(m.delivered_at, :now)
                        ELSE m.delivered_at END,
    failed_at = CASE WHEN v.outcome = 'failed' THEN :now ELSE m.failed_at END,
    lease_until = CASE WHEN v.outcome IN ('retry', 'hold') THEN v.until END,
    error = CASE WHEN v.outcome IN ('sent', 'delivered') THEN NULL ELSE v.error END
"""
_OUTCOME_WHERE = "m.id = v.id AND (v.outcome IN ('sent', 'delivered') OR m.status = 'sending')"
# PostgreSQL: the window's outcomes as five arrays, whatever its size: one small statement
# that the server plans once and joins by primary key.
_RECORD_POSTGRESQL = text(
    "UPDATE messaging_message AS m SET"
    + _OUTCOME_SET
    + "FROM unnest(CAST(:ids AS bigint[]), CAST(:outcomes AS text[]), CAST(:pids AS text[]), "
    "CAST(:errors AS text[]), CAST(:untils AS timestamptz[])) AS v(id, outcome, pid, error, until) "
    "WHERE " + _OUTCOME_WHERE
).bindparams(bindparam("now", type_=UTCDateTime()))
# SQLite (one process, embedded): the same statement, one row of values at a time.
_RECORD_SQLITE = text(
    "UPDATE messaging_message AS m SET"
    + _OUTCOME_SET
    + "FROM (SELECT :id AS id, :outcome AS outcome, :pid AS pid, :error AS error, "
    ":until AS until) AS v WHERE " + _OUTCOME_WHERE
).bindparams(bindparam("now", type_=UTCDateTime()), bindparam("until", type_=UTCDateTime()))


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
        self._statements: Engine | None = None

    @contextmanager
    def _one_statement(self) -> Iterator[Connection]:
        """A connection for a statement that is a transaction by itself.

        On PostgreSQL the dispatcher keeps its own small pool in autocommit: a claim or a
        window's record is then one round trip, not four (pool ping, BEGIN, statement,
        COMMIT). A broken connection is replaced at the next checkout after its error.
        """
        if self.db.dialect != "postgresql" or self.db.bind is not None:
            with self.db.connection() as connection:
                yield connection
            return
        if self._statements is None:
            self._statements = create_engine(
                self.db.engine.url,
                isolation_level="AUTOCOMMIT",
                pool_size=self.settings.lanes + 1,
                max_overflow=self.settings.lanes + 1,
            )
        with self._statements.connect() as connection:
            yield connection

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
        """Take up to `limit` queued rows of a campaign and mark them sending, leased to us.

        One statement: the rows are locked, skipped if another worker holds them, updated and
        returned together, and committed before any of them is sent.
        """
        now = utcnow()
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
        with self._one_statement() as connection:
            return [ClaimedRow(*row) for row in connection.execute(statement).all()]

    def record(self, rows: Sequence[ClaimedRow], results: Sequence[SendResult]) -> RoundOutcome:
        """Write every outcome of a window with one statement (statuses only move forward)."""
        now = utcnow()
        outcome = RoundOutcome()
        by_id = {str(row.id): row for row in rows}
        ids: list[int] = []
        outcomes: list[str] = []
        pids: list[str | None] = []
        errors: list[str | None] = []
        untils: list[datetime] = []

        def add(
            row: ClaimedRow, kind: str, pid: str | None, error: str | None, until: datetime
        ) -> None:
            ids.append(row.id)
            outcomes.append(kind)
            pids.append(pid)
            errors.append(error)
            untils.append(until)

        for result in results:
            row = by_id[result.message_id]
            if result.accepted:
                pid = result.provider_message_id or ""
                add(row, "delivered" if pid.startswith("local-") else "sent", pid, None, now)
                outcome.sent += 1
                continue
            failure = result.failure
            assert failure is not None
            text_ = f"{failure.code}: {failure.text}"[:2000]
            if isinstance(failure, InvalidRecipient | PermanentFailure) or not failure.retryable:
                add(row, "failed", None, text_, now)
                outcome.failed += 1
            elif isinstance(failure, TemporaryFailure) and failure.ambiguous:
                if self.is_idempotent(row.channel):
                    add(row, "retry", None, text_, now)
                    outcome.retried += 1
                elif row.channel == ChannelKind.WHATSAPP:
                    # The lease ends now: the resolver waits for WhatsApp's webhook from here.
                    add(row, "hold", None, text_, now)
                    outcome.held += 1
                else:
                    add(row, "failed", None, "outcome-unknown: " + text_, now)
                    outcome.failed += 1
            elif row.attempts >= self.settings.max_attempts:
                add(row, "failed", None, text_, now)
                outcome.failed += 1
            else:
                wait = failure.retry_after if isinstance(failure, RateLimited) else 0.0
                backoff = self.settings.retry_backoff_seconds * 2 ** min(row.attempts - 1, 8)
                add(row, "retry", None, text_, now + timedelta(seconds=max(wait, backoff)))
                outcome.retried += 1
        if not ids:
            return outcome
        with self._one_statement() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    _RECORD_POSTGRESQL,
                    {
                        "now": now,
                        "ids": ids,
                        "outcomes": outcomes,
                        "pids": pids,
                        "errors": errors,
                        "untils": untils,
                    },
                )
            else:
                connection.execute(
                    _RECORD_SQLITE,
                    [
                        {"now": now, "id": i, "outcome": o, "pid": p, "error": e, "until": u}
                        for i, o, p, e, u in zip(ids, outcomes, pids, errors, untils, strict=True)
                    ],
                )
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
        return sum(queue_in_steps(self.db, cid, self.settings.queue_step) for cid in due)

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
        if self._statements is not None:
            self._statements.dispose()
            self._statements = None


@contextmanager
def _queueing_lock(database: Database, campaign_id: int) -> Iterator[bool]:
    """Whether this process may queue the campaign: one process at a time queues a campaign.

    On PostgreSQL a session advisory lock on a connection of its own, held across the steps'
    commits and released if the process dies, so that workers polling at the same moment do
    not each walk the whole audience. SQLite has one writer anyway.
    """
    if database.dialect != "postgresql" or database.bind is not None:
        yield True
        return
    key = func.hashtextextended(f"smartnation.messaging.queue:{campaign_id}", 0)
    with database.engine.connect() as connection:
        mine = bool(connection.scalar(select(func.pg_try_advisory_lock(key))))
        connection.commit()
        try:
            yield mine
        finally:
            if mine:
                connection.scalar(select(func.pg_advisory_unlock(key)))
                connection.commit()


def queue_in_steps(
    database: Database,
    campaign_id: int,
    step_size: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Queue a campaign's audience in committed steps of `step_size` subscribers.

    Each step is one set-based `INSERT ... SELECT` in its own transaction, so a national
    audience is never one long transaction and the campaign's recipient count grows as it goes.
    Each step goes on from the last committed one (so a crash loses at most the step under
    way, which rolls back); the campaign is marked queued only by the step that reaches the
    end. Returns the rows added.
    """
    added = 0
    with _queueing_lock(database, campaign_id) as mine:
        if not mine:
            return 0
        while True:
            with database.transaction() as session:
                step = campaigns.queue_audience_step(session, campaign_id, step_size)
            if step is None:
                return added
            added += step.added
            if progress is not None:
                progress(added)
            log.info("campaign %s: %s message rows queued", campaign_id, added)
            if step.done:
                return added


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
    # uvloop: the event loop costs less per provider request than asyncio's own.
    uvloop.run(Dispatcher(database, settings).run(stop))

"""A national broadcast survives a worker killed mid-send: everyone gets exactly one message.

Real `smartnation worker` processes send a campaign to a local WhatsApp Cloud API stand-in that
records every request it receives. One worker is killed with SIGKILL mid-broadcast and another
started; the test plays Meta's part by posting signed status webhooks for what the stand-in
accepted (WhatsApp reports every message it accepts, echoing our id). At the end every recipient
has exactly one message at the provider and every row is final.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from broadcast_support import add_subscribers, approved_campaign, phone

from conftest import BACKENDS, create_postgres_database, drop_postgres_database
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.messaging import webhooks
from smartnation.messaging.channels.fakes.server import ServerThread
from smartnation.messaging.channels.fakes.whatsapp_server import FakeWhatsApp
from smartnation.messaging.models import Campaign, Message

RECIPIENTS = 800
SMARTNATION = Path(sys.executable).with_name("smartnation")

pytestmark = pytest.mark.skipif(
    "postgresql" not in BACKENDS, reason="needs PostgreSQL (real concurrent workers)"
)


@pytest.fixture
def broadcast_database() -> Iterator[tuple[str, Database]]:
    url = create_postgres_database("smartnation_broadcast_kill")
    try:
        upgrade_database(url)
        database = Database.from_settings(DatabaseSettings(url=url))
        yield url, database
        database.engine.dispose()
    finally:
        drop_postgres_database(url)


def _worker(url: str, fake: FakeWhatsApp, provider_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": url,
        "SMARTNATION_JOBS_POLL_SECONDS": "0.2",
        "SMARTNATION_MESSAGING_WHATSAPP_BACKEND": "cloud_api",
        "SMARTNATION_MESSAGING_WHATSAPP_BASE_URL": provider_url,
        "SMARTNATION_MESSAGING_WHATSAPP_PHONE_NUMBER_ID": fake.phone_number_id,
        "SMARTNATION_MESSAGING_WHATSAPP_ACCESS_TOKEN": fake.access_token,
        # Slow enough that the kill lands mid-broadcast.
        "SMARTNATION_MESSAGING_WHATSAPP_RATE_PER_SECOND": "150",
        "SMARTNATION_MESSAGING_DISPATCH_WINDOW": "40",
        # Short enough for a test, long enough that Meta's webhooks (played below, slowly on a
        # busy machine) arrive before an orphaned row is sent again.
        "SMARTNATION_MESSAGING_DISPATCH_LEASE_SECONDS": "5",
        "SMARTNATION_MESSAGING_DISPATCH_AMBIGUOUS_HOLD_SECONDS": "20",
        "SMARTNATION_MESSAGING_DISPATCH_POLL_SECONDS": "0.2",
    }
    # Output goes nowhere: a pipe nobody reads would fill and stall the worker.
    return subprocess.Popen(
        [str(SMARTNATION), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class MetaWebhooks(threading.Thread):
    """Posts a signed "sent" webhook for each message the stand-in accepted, retrying on 503."""

    def __init__(self, fake: FakeWhatsApp, database: Database) -> None:
        super().__init__(daemon=True)
        self.fake, self.database = fake, database
        self.done: set[str] = set()
        self.stop = threading.Event()

    def deliver_pending(self) -> None:
        for wamid in list(self.fake.sent):
            if wamid in self.done:
                continue
            body, signature = self.fake.signed_status_webhook(wamid, "sent")
            with self.database.transaction() as session:
                result = webhooks.apply_whatsapp(session, body, signature, self.fake.app_secret)
            if not result.unknown:  # unknown: Meta tries again later
                self.done.add(wamid)

    def run(self) -> None:
        while not self.stop.is_set():
            self.deliver_pending()
            self.stop.wait(0.2)


def _counts(database: Database, campaign_id: int) -> dict[str, int]:
    with database.transaction() as session:
        rows = session.execute(
            sa.select(Message.status, sa.func.count())
            .where(Message.campaign_id == campaign_id)
            .group_by(Message.status)
        ).all()
    return {status: count for status, count in rows}


def test_killing_a_worker_mid_broadcast_neither_loses_nor_duplicates(
    broadcast_database: tuple[str, Database],
) -> None:
    url, database = broadcast_database
    add_subscribers(database, RECIPIENTS)
    campaign_id = approved_campaign(database)
    fake = FakeWhatsApp()
    workers: list[subprocess.Popen[bytes]] = []
    meta = MetaWebhooks(fake, database)
    with ServerThread(fake.app()) as server:
        try:
            meta.start()
            workers += [_worker(url, fake, server.url), _worker(url, fake, server.url)]
            # Generous: starting a worker takes seconds on a busy machine.
            deadline = time.monotonic() + 180
            while fake.accepted < RECIPIENTS // 4 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert fake.accepted >= RECIPIENTS // 4, "the broadcast never got going"
            victim = workers[0]
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            killed_at = fake.accepted
            assert killed_at < RECIPIENTS, "the kill came after the broadcast had finished"
            workers.append(_worker(url, fake, server.url))  # a restarted worker
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                counts = _counts(database, campaign_id)
                if not counts.get("queued") and not counts.get("sending"):
                    break
                time.sleep(0.2)
            meta.deliver_pending()
        finally:
            meta.stop.set()
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()

    received = collections.Counter(request["to"] for request in fake.received)
    assert len(received) == RECIPIENTS, f"{RECIPIENTS - len(received)} recipients got nothing"
    twice = {to: n for to, n in received.items() if n > 1}
    assert twice == {}, f"sent more than once: {list(twice.items())[:5]}"
    assert set(received) == {phone(i) for i in range(RECIPIENTS)}
    counts = _counts(database, campaign_id)
    assert counts == {"sent": RECIPIENTS}, counts
    with database.transaction() as session:
        provider_ids = set(
            session.scalars(
                sa.select(Message.provider_message_id).where(Message.campaign_id == campaign_id)
            )
        )
        assert provider_ids == set(fake.sent)
        assert session.get(Campaign, campaign_id).status == "completed"  # type: ignore[union-attr]

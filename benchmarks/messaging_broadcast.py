"""A national broadcast on PostgreSQL: queue 1.2 million subscribers, then dispatch with N workers.

1. 1.2 million WhatsApp subscribers in four languages, generated set-based in the database.
2. Render and queue the whole audience: one INSERT ... SELECT per committed step of 200,000
   subscribers (as a worker does), each language's text rendered once.
3. Sustained dispatch: N `smartnation worker` processes, started and idle first, send a sample
   of the audience to the local WhatsApp Cloud API stand-in with no rate cap; the rate is
   measured from the moment the campaign is set sending to the last row's sent_at, so worker
   start-up is not counted. CPU per message of the workers, the stand-in and the database's
   server processes is printed (psutil), with transactions and row updates per 1,000 messages.
4. The same under WhatsApp's cap of 1,000 messages/s per number: the stand-in enforces it and the
   workers share one Redis token bucket (SMARTNATION_MESSAGING_DISPATCH_REDIS_URL).

Printed beside the peers (Postman about 200 messages/s per worker, GOV.UK Notify about 350
requests/s) and the goal (1.2 million queued within 60 s; 5,000 messages/s dispatch).

    uv run python benchmarks/messaging_broadcast.py --subscribers 1200000 --sample 50000
    uv run python benchmarks/messaging_broadcast.py --subscribers 1220000 --sample 1200000
        (the uncapped dispatch to a whole 1.2 million; the capped run takes the other 20,000)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from conftest import create_postgres_database, drop_postgres_database  # noqa: E402
from smartnation.cli import upgrade_database  # noqa: E402
from smartnation.core.config import DatabaseSettings  # noqa: E402
from smartnation.core.db import Database  # noqa: E402
from smartnation.core.web.auth import Principal  # noqa: E402
from smartnation.messaging import campaigns  # noqa: E402
from smartnation.messaging.campaigns import CampaignDraft  # noqa: E402
from smartnation.messaging.dispatch import queue_in_steps  # noqa: E402
from smartnation.messaging.models import Message  # noqa: E402

AUTHOR = Principal("person", "bench-author", "Author", frozenset({"messaging.officer"}))
APPROVER = Principal("person", "bench-approver", "Approver", frozenset({"messaging.approver"}))
TEXTS = {
    "en": "Gov.sg: from {date}, groups of up to {size} may dine in. Stay safe.",
    "zh": "Gov.sg：自{date}起，最多{size}人可以堂食。请注意安全。",
    "ms": "Gov.sg: mulai {date}, kumpulan sehingga {size} orang boleh makan di restoran.",
    "ta": "Gov.sg: {date} முதல், {size} பேர் வரை உணவகங்களில் அமர்ந்து உண்ணலாம்.",
}
SMARTNATION = Path(sys.executable).with_name("smartnation")


def generate_subscribers(database: Database, count: int) -> float:
    started = time.perf_counter()
    with database.connection() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO messaging_subscriber (channel, address, language, status, "
                "confirmation_attempts, created_at, subscribed_at) "
                "SELECT 'whatsapp', '+659' || lpad(i::text, 7, '0'), "
                "(ARRAY['en','zh','ms','ta'])[1 + i % 4], 'active', 0, now(), now() "
                "FROM generate_series(0, :n - 1) AS i"
            ),
            {"n": count},
        )
        connection.execute(
            sa.text(
                "INSERT INTO messaging_subscriber_topic (subscriber_id, topic) "
                "SELECT id, 'general' FROM messaging_subscriber"
            )
        )
        connection.execute(sa.text("ANALYZE messaging_subscriber"))
        connection.execute(sa.text("ANALYZE messaging_subscriber_topic"))
    return time.perf_counter() - started


def approved(database: Database, title: str, segment: str | None = None) -> int:
    draft = CampaignDraft(
        title=title,
        channel="whatsapp",
        texts=TEXTS,
        variables={"date": "1 June", "size": "5"},
        topic="general",
        segment=segment,
    )
    with database.transaction() as session:
        campaign = campaigns.create(session, AUTHOR, draft)
        campaigns.submit(session, AUTHOR, campaign.id)
        campaigns.approve(session, APPROVER, campaign.id)
        return campaign.id


def start_fake(rate: float | None) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "smartnation.messaging.channels.fakes.whatsapp_server"]
    if rate:
        command += ["--rate", str(rate)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line.strip().split()[-1]


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def settle(procs: list[subprocess.Popen[str]], timeout: float = 180.0) -> None:
    """Wait until the workers have started (imports done, polling idly), so that their start-up
    is not counted in the CPU per message."""
    deadline = time.monotonic() + timeout
    before = [cpu_seconds(proc.pid) for proc in procs]
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = [cpu_seconds(proc.pid) for proc in procs]
        if all(b - a < 0.15 for a, b in zip(before, now, strict=True)):
            return
        before = now


def database_cpu(database: Database) -> float:
    """CPU so far of every server process connected to the benchmark's database."""
    with database.connection() as connection:
        pids = connection.scalars(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    total = 0.0
    for pid in pids:
        # A connection that closed meanwhile is gone with its CPU.
        with contextlib.suppress(psutil.Error):
            total += cpu_seconds(pid)
    return total


def database_counters(database: Database) -> tuple[int, int]:
    """Committed transactions and updated rows of the benchmark's database so far."""
    with database.connection() as connection:
        connection.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        row = connection.execute(
            sa.text(
                "SELECT xact_commit, tup_updated FROM pg_stat_database "
                "WHERE datname = current_database()"
            )
        ).one()
    return int(row[0]), int(row[1])


def dispatch(
    url: str,
    database: Database,
    campaign_id: int,
    workers: int,
    provider: str,
    rate: float,
    fake_pid: int,
    log_dir: str | None,
) -> tuple[int, float, int]:
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": url,
        "SMARTNATION_MESSAGING_WHATSAPP_BACKEND": "cloud_api",
        "SMARTNATION_MESSAGING_WHATSAPP_BASE_URL": provider,
        "SMARTNATION_MESSAGING_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "SMARTNATION_MESSAGING_WHATSAPP_ACCESS_TOKEN": "test-access-token",
        # 0: no pacing on our side (the uncapped stand-in).
        "SMARTNATION_MESSAGING_WHATSAPP_RATE_PER_SECOND": str(rate),
        "SMARTNATION_MESSAGING_WHATSAPP_BURST": str(max(1.0, rate / 20)),
        "SMARTNATION_MESSAGING_DISPATCH_REDIS_URL": "redis://127.0.0.1:6379/0",
        "SMARTNATION_MESSAGING_DISPATCH_POLL_SECONDS": "0.2",
        "SMARTNATION_MESSAGING_WHATSAPP_CONCURRENCY": "128",
        "SMARTNATION_MESSAGING_WHATSAPP_TIMEOUT_SECONDS": "30",
        # No webhooks are played here: a timed-out send is retried after 5 s.
        "SMARTNATION_MESSAGING_DISPATCH_AMBIGUOUS_HOLD_SECONDS": "5",
    }
    logs = [
        open(Path(log_dir) / f"worker-{campaign_id}-{n}.log", "w") if log_dir else None  # noqa: SIM115
        for n in range(workers)
    ]
    procs = [
        subprocess.Popen(
            [str(SMARTNATION), "worker"],
            env=env,
            stdout=log or subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
        )
        for log in logs
    ]
    fake_before = cpu_seconds(fake_pid)
    commits_before, updated_before = database_counters(database)
    worker_cpu = database_seconds = 0.0
    signalled = None
    try:
        settle(procs)
        started_cpu = sum(cpu_seconds(proc.pid) for proc in procs)
        database_before = database_cpu(database)
        with database.transaction() as session:
            campaigns.get(session, campaign_id).status = "sending"
            signalled = session.scalar(sa.select(sa.func.now()))
        while True:
            time.sleep(0.5)
            with database.transaction() as session:
                if campaigns.get(session, campaign_id).status == "completed":
                    break
        worker_cpu = sum(cpu_seconds(proc.pid) for proc in procs) - started_cpu
        database_seconds = database_cpu(database) - database_before
    finally:
        fake_cpu = cpu_seconds(fake_pid) - fake_before
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    with database.transaction() as session:
        first, last, sent, failed = session.execute(
            sa.select(
                sa.func.min(Message.sent_at),
                sa.func.max(Message.sent_at),
                sa.func.count().filter(Message.status == "sent"),
                sa.func.count().filter(Message.status == "failed"),
            ).where(Message.campaign_id == campaign_id)
        ).one()
    commits, updated = database_counters(database)
    per = 1e6 / max(sent, 1)
    print(
        f"  CPU per message: workers {worker_cpu * per:.0f} us, stand-in {fake_cpu * per:.0f} us, "
        f"PostgreSQL {database_seconds * per:.0f} us; per 1,000 messages: "
        f"{(commits - commits_before) * 1000 / max(sent, 1):.1f} transactions, "
        f"{(updated - updated_before) * 1000 / max(sent, 1):.0f} row updates"
    )
    sustained = (last - first).total_seconds()
    whole = (last - signalled).total_seconds()
    print(
        f"  first to last record: {sustained:.1f} s = {sent / max(sustained, 1e-6):,.0f} "
        "messages/s (overstated by the first window, sent before its record)"
    )
    return sent, whole, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", type=int, default=1_200_000)
    parser.add_argument("--sample", type=int, default=50_000, help="messages dispatched uncapped")
    parser.add_argument("--capped-sample", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--queue-step", type=int, default=200_000, help="subscribers queued per committed step"
    )
    parser.add_argument("--worker-logs", help="a folder for the worker processes' output")
    args = parser.parse_args()
    if args.sample + args.capped_sample > args.subscribers:
        # Each dispatch sends to its own segment of the audience, so both must fit in it; to
        # dispatch to a whole 1.2 million, generate the capped run's subscribers on top:
        # --subscribers 1220000 --sample 1200000 --capped-sample 20000.
        parser.error("--sample plus --capped-sample must not exceed --subscribers")
    url = create_postgres_database("smartnation_bench_broadcast")
    try:
        upgrade_database(url)
        database = Database.from_settings(DatabaseSettings(url=url))
        seconds = generate_subscribers(database, args.subscribers)
        print(f"generated {args.subscribers:,} subscribers in 4 languages in {seconds:.1f} s")

        national = approved(database, "National update")
        queue_cpu = database_cpu(database)
        started = time.perf_counter()

        def progress(rows: int) -> None:
            print(f"  {rows:,} rows queued at {time.perf_counter() - started:.1f} s", flush=True)

        queued = queue_in_steps(database, national, args.queue_step, progress)
        queue_seconds = time.perf_counter() - started
        queue_cpu = database_cpu(database) - queue_cpu
        print(
            f"render + queue: {queued:,} message rows in {queue_seconds:.1f} s "
            f"({queued / queue_seconds:,.0f} rows/s; PostgreSQL CPU {queue_cpu * 1e6 / queued:.0f}"
            " us a row); goal: 1,200,000 within 60 s, i.e. 20,000 rows/s: "
            f"{queued / queue_seconds / 20_000:.2f} x the goal's rate"
        )
        with database.transaction() as session:
            campaigns.pause(session, AUTHOR, national)

        with database.connection() as connection:
            for name, size in (("sample", args.sample), ("capped", args.capped_sample)):
                connection.execute(
                    sa.text(
                        "UPDATE messaging_subscriber SET segment = :name WHERE id IN "
                        "(SELECT id FROM messaging_subscriber WHERE segment IS NULL "
                        "ORDER BY id LIMIT :n)"
                    ),
                    {"name": name, "n": size},
                )
        for label, segment, rate, target in (
            ("uncapped stand-in", "sample", 0.0, ("the 5,000/s goal", 5000.0)),
            ("WhatsApp cap 1,000/s", "capped", 1000.0, ("the cap", 1000.0)),
        ):
            campaign_id = approved(database, label, segment)
            queue_in_steps(database, campaign_id, args.queue_step)
            with database.transaction() as session:
                campaigns.pause(session, AUTHOR, campaign_id)
            fake, provider = start_fake(None if segment == "sample" else 1000.0)
            try:
                sent, seconds, failed = dispatch(
                    url,
                    database,
                    campaign_id,
                    args.workers,
                    provider,
                    rate,
                    fake.pid,
                    args.worker_logs,
                )
            finally:
                fake.terminate()
                fake.wait()
            print(
                f"dispatch, {label}, {args.workers} worker processes: {sent:,} sent "
                f"({failed} failed) in {seconds:.1f} s from the start signal to the last record = "
                f"{sent / max(seconds, 1e-6):,.0f} messages/s "
                f"({sent / max(seconds, 1e-6) / args.workers:,.0f} per worker); "
                f"{sent / max(seconds, 1e-6) / target[1]:.2f} x {target[0]}"
            )
        print(
            "peers: Postman ~200 messages/s per worker; GOV.UK Notify ~350 requests/s; "
            "goal: 5,000 messages/s"
        )
        print(
            f"(dispatch measured on segments of {args.sample:,} and {args.capped_sample:,} "
            f"of the {args.subscribers:,} subscribers)"
        )
        database.engine.dispose()
    finally:
        drop_postgres_database(url)


if __name__ == "__main__":
    main()

"""TraceTogether and SafeEntry at national scale on PostgreSQL: one case's whole contact list.

Run: `uv run python benchmarks/tracing_national.py [--users 4700000] [--checkins-per-day 200000]`
(needs PostgreSQL at SMARTNATION_BENCH_POSTGRES_URL, default postgresql://postgres@127.0.0.1/postgres;
it creates and afterwards drops its own database).

It builds, set-based in SQL: the residents and 4.7 million registered app users (every uid is
derived from the resident id so the script can build TempIDs for them), 45,000 SafeEntry venues
and 25 days of check-ins in daily partitions. Then one case goes through the real services: an
officer's upload code, the token exchange, an upload of 50,000 encounter records, contact
resolution (BlueTrace ranking merged with the SafeEntry overlap search) and the first page of the
ranked list as an officer sees it. Printed beside the figures: raw AES-GCM decryptions per second
of the same library in the same run (the limit for TempID decryption), and the 5-second goal.

Every stage is shown as wall time, CPU seconds of this process, CPU seconds of the PostgreSQL
backend serving it (read from /proc: a local server) and round trips, so that a busy machine
cannot hide progress. `--keep` keeps the database; `--reuse NAME` measures another case on a kept
database the same day without loading it again.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import secrets
import statistics
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Session

from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.core.jobs import Job
from smartnation.tracing import service
from smartnation.tracing.bluetrace import (
    classify_upload,
    development_keyring,
    generate_tempid,
    open_tempid,
    parse_encounter_log,
)
from smartnation.tracing.bulk import collector_paused
from smartnation.tracing.models import CheckIn, Contact, TracingUser
from smartnation.tracing.settings import current_keyring

ADMIN_URL = os.environ.get(
    "SMARTNATION_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
KEYRING = development_keyring()
WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


def nric_sql(number: str) -> str:
    """SQL for the S-series NRIC of an integer expression (check letter as core.validators)."""
    digits = f"lpad(({number})::text, 7, '0')"
    total = " + ".join(f"{w} * substr({digits}, {i + 1}, 1)::int" for i, w in enumerate(WEIGHTS))
    return f"'S' || {digits} || substr('JZIHGFEDCBA', (({total}) % 11) + 1, 1)"


def uid_of(resident_id: int) -> str:
    """The uid the loader gives resident `resident_id` (see `load_users`)."""
    return base64.b64encode(hashlib.sha256(struct.pack(">q", resident_id)).digest()[:21]).decode()


def timed(label: str, action, *args, **kwargs):  # type: ignore[no-untyped-def]
    began = time.perf_counter()
    result = action(*args, **kwargs)
    elapsed = time.perf_counter() - began
    print(f"  {label:<62} {elapsed:8.2f} s")
    return result, elapsed


def load_residents(connection: sa.Connection, count: int) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO registry_resident (nric, name, sex, date_of_birth, race, nationality, "
            "birth_country, residential_status, mobile, marital_status, housing_type, created_at, "
            f"updated_at) SELECT {nric_sql('i')}, 'Resident ' || i, "
            "CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END, DATE '1950-01-01' + (i % 25000), 'CN', "
            "'SG', 'SG', 'C', '+658' || lpad((i % 10000000)::text, 7, '0'), '1', '114', now(), "
            "now() FROM generate_series(1, :count) AS i"
        ),
        {"count": count},
    )


def load_users(connection: sa.Connection) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO tracing_user (uid, kind, resident_id, nric, name, phone, status, "
            "created_at) SELECT encode(substring(sha256(int8send(id)) from 1 for 21), 'base64'), "
            "'app', id, nric, name, mobile, 'active', now() FROM registry_resident"
        )
    )


def load_venues(connection: sa.Connection, count: int) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO tracing_venue (code, uen, branch, name, postal_code, active, created_at) "
            "SELECT 'PROD-2020' || lpad(i::text, 5, '0') || 'K-VENUE' || i || '-SE', "
            "'2020' || lpad(i::text, 5, '0') || 'K', NULL, 'Venue ' || i, NULL, true, now() "
            "FROM generate_series(1, :count) AS i"
        ),
        {"count": count},
    )


def load_checkins(
    connection: sa.Connection,
    *,
    days: int,
    per_day: int,
    venues: int,
    residents: int,
    now: datetime,
) -> None:
    for day in range(days):
        start = (now - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        connection.execute(
            sa.text(
                "INSERT INTO tracing_checkin (checked_in_at, checked_out_at, venue_id, nric, "
                "resident_id, method) SELECT t, CASE WHEN random() < 0.8 THEN t + "
                "(15 + random() * 90) * interval '1 minute' END, "
                "1 + (random() * (:venues - 1))::int, "
                f"{nric_sql('r')}, r, 'qr_nric' FROM (SELECT :start + interval '1 hour' * "
                "(random() * 23.9) AS t, 1 + (random() * (:residents - 1))::int AS r "
                "FROM generate_series(1, :per_day)) AS g WHERE t < :now"
            ),
            {
                "venues": venues,
                "residents": residents,
                "start": start,
                "per_day": per_day,
                "now": now,
            },
        )


def case_visits(
    connection: sa.Connection, case_nric: str, *, venues: int, residents: int, now: datetime
) -> None:
    """The case visits 20 venues over 20 days; 30 people were at each while the case was."""
    rng = random.Random(7)
    rows = []
    for day in range(1, 21):
        venue = rng.randint(1, venues)
        start = now - timedelta(days=day, hours=rng.randint(0, 10))
        rows.append((start, start + timedelta(hours=1), venue, case_nric, 1, "qr_login"))
        for _ in range(30):
            other = rng.randint(2, residents)
            begin = start + timedelta(minutes=rng.randint(-40, 50))
            rows.append((begin, begin + timedelta(minutes=45), venue, None, other, "qr_nric"))
    connection.execute(
        sa.insert(CheckIn),
        [
            {
                "checked_in_at": r[0],
                "checked_out_at": r[1],
                "venue_id": r[2],
                "nric": r[3] or "",
                "resident_id": r[4],
                "method": r[5],
            }
            for r in rows
        ],
    )
    connection.execute(
        sa.text(
            f"UPDATE tracing_checkin SET nric = {nric_sql('resident_id')} WHERE nric = '' "
            "AND checked_in_at > :since"
        ),
        {"since": now - timedelta(days=22)},
    )


def encounter_log(
    token: str, *, records: int, contacts: int, close: int, residents: int, now: datetime
) -> bytes:
    """50,000 records: `close` contacts seen 40 minutes at about 1 m, the rest scattered."""
    rng = random.Random(11)
    ids = rng.sample(range(2, residents + 1), contacts)
    log: list[dict[str, object]] = []
    cache: dict[tuple[int, int], str] = {}

    def record(resident: int, moment: datetime, rssi: float) -> dict[str, object]:
        window = int(moment.timestamp()) // 900 * 900
        key = (resident, window)
        if key not in cache:
            cache[key] = generate_tempid(KEYRING, uid_of(resident), window, window + 900).tempid
        return {
            "v": 2,
            "msg": cache[key],
            "org": "SG_MOH",
            "modelP": rng.choice(("iPhone X", "SM-G950F", "LYA-L29")),
            "modelC": "iPhone X",
            "rssi": rssi,
            "timestamp": int(moment.timestamp() * 1000),
        }

    for resident in ids[:close]:
        start = now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
        log.extend(
            record(resident, start + timedelta(minutes=m), rng.uniform(-50, -42)) for m in range(40)
        )
    others = ids[close:]
    while len(log) < records:
        resident = others[len(log) % len(others)]
        moment = now - timedelta(seconds=rng.randint(3600, 24 * 86400))
        log.append(record(resident, moment, rng.uniform(-95, -65)))
    return json.dumps({"token": token, "records": log[:records], "events": []}).encode()


def decrypt_rates(tempids: list[str], repeat: int = 5) -> tuple[float, float]:
    """Best-of rates (CPU time) of `open_tempid` and of raw AES-GCM on the same TempIDs, taking
    turns so that a busy machine disturbs them alike."""
    cipher = AESGCM(KEYRING.keys[0])
    split = []
    for tempid in tempids:
        raw = base64.b64decode(tempid)
        split.append((raw[29:45], raw[:29] + raw[45:]))
    library, limit = [], []
    for _ in range(repeat):
        began = time.process_time()
        for tempid in tempids:
            open_tempid(KEYRING, tempid)
        library.append(time.process_time() - began)
        began = time.process_time()
        for iv, sealed in split:
            cipher.decrypt(iv, sealed, None)
        limit.append(time.process_time() - began)
    print(
        f"    (CPU time, medians: library {len(tempids) / statistics.median(library):,.0f} /s, "
        f"raw {len(tempids) / statistics.median(limit):,.0f} /s)"
    )
    return len(tempids) / min(library), len(tempids) / min(limit)


@dataclass(frozen=True)
class Measure:
    """What one stage cost: wall time, CPU of this process, CPU of its PostgreSQL backend
    (None when the server's process is not visible here) and statements sent."""

    wall: float
    cpu: float
    db_cpu: float
    trips: int

    def plus(self, other: Measure) -> Measure:
        return Measure(
            self.wall + other.wall,
            self.cpu + other.cpu,
            self.db_cpu + other.db_cpu,
            self.trips + other.trips,
        )

    def minus(self, other: Measure) -> Measure:
        return Measure(
            self.wall - other.wall,
            self.cpu - other.cpu,
            self.db_cpu - other.db_cpu,
            self.trips - other.trips,
        )


def paused(action):  # type: ignore[no-untyped-def]
    """`action` run as resolution runs it: with the cyclic collector paused."""

    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        with collector_paused():
            return action(*args, **kwargs)

    return run


class CountingCursor(psycopg.Cursor[Any]):
    """A psycopg cursor that counts what it sends: statements, batches and COPYs."""

    sent = 0

    def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingCursor.sent += 1
        return super().execute(*args, **kwargs)

    def executemany(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingCursor.sent += 1
        return super().executemany(*args, **kwargs)

    def copy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        CountingCursor.sent += 1
        return super().copy(*args, **kwargs)


class Meter:
    """Measures stages in load-independent terms beside wall time: CPU seconds of this process
    and of the PostgreSQL backend serving it (read from /proc, so a local server), and round
    trips (statements and COPYs sent; psycopg pipelines none of them)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @staticmethod
    def _backend_cpu(pid: int) -> float:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the server is elsewhere: its CPU is not seen
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def show(label: str, measure: Measure) -> None:
        print(
            f"  {label:<58} {measure.wall:7.2f} {measure.cpu:7.2f} {measure.db_cpu:7.2f} "
            f"{measure.trips:6d}"
        )

    @staticmethod
    def run(action, *args, **kwargs):  # type: ignore[no-untyped-def]
        """A stage with no database work, shown by the caller."""
        cpu, began = time.process_time(), time.perf_counter()
        result = action(*args, **kwargs)
        return result, Measure(time.perf_counter() - began, time.process_time() - cpu, 0.0, 0)

    def run_in_transaction(self, label, action, *args, rollback=False, **kwargs):  # type: ignore[no-untyped-def]
        """A stage in its own transaction on one connection, committed (or rolled back)
        inside the measure, as a web request or job would run it."""
        with self.database.engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            connection.commit()
            connection.connection.driver_connection.cursor_factory = CountingCursor  # type: ignore[union-attr]
            session = Session(bind=connection, expire_on_commit=False)
            trips, db_cpu = CountingCursor.sent, self._backend_cpu(pid)
            cpu, began = time.process_time(), time.perf_counter()
            transaction = session.begin()
            try:
                result = action(session, *args, **kwargs)
            finally:
                if rollback:
                    transaction.rollback()
                else:
                    transaction.commit()
            wall, cpu = time.perf_counter() - began, time.process_time() - cpu
            measure = Measure(
                wall, cpu, self._backend_cpu(pid) - db_cpu, CountingCursor.sent - trips
            )
            session.close()
        self.show(label, measure)
        return result, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4_700_000)
    parser.add_argument("--venues", type=int, default=45_000)
    parser.add_argument("--checkins-per-day", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=25)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--reuse",
        metavar="DATABASE",
        help="measure another case on a database kept (--keep) by an earlier run the same day, "
        "without loading or purging",
    )
    args = parser.parse_args()

    name = args.reuse or f"smartnation_bench_tracing_{os.getpid()}_{secrets.token_hex(2)}"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    if not args.reuse:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        run(url, args)
    finally:
        print(f"(database {name} {'kept' if args.keep or args.reuse else 'dropped'})")
        if not (args.keep or args.reuse):
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(url: str, args: argparse.Namespace) -> None:
    database = Database.from_settings(DatabaseSettings(url=url))
    now = datetime.now(UTC)
    if args.reuse:
        with database.engine.begin() as connection:
            case_nric = connection.scalar(
                sa.text("SELECT nric FROM registry_resident WHERE id = 1")
            )
    else:
        case_nric = load(database, args, now)
    measure_case(database, args, now, case_nric)
    database.engine.dispose()


def load(database: Database, args: argparse.Namespace, now: datetime) -> str:
    """Build the national data set; returns the NRIC of the case."""
    upgrade_database(database.engine.url.render_as_string(hide_password=False))
    busy = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Loading (set-based SQL), {os.cpu_count()} cores, load average {busy}:")
    with database.engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL synchronous_commit = off"))
        service.ensure_partitions(
            connection, today=now.date(), ahead_days=1, back_days=args.days + 1
        )
    with database.engine.begin() as connection:
        timed(f"{args.users:,} residents", load_residents, connection, args.users)
    with database.engine.begin() as connection:
        timed(f"{args.users:,} TraceTogether app users", load_users, connection)
    with database.engine.begin() as connection:
        timed(f"{args.venues:,} SafeEntry venues", load_venues, connection, args.venues)
    with database.engine.begin() as connection:
        timed(
            f"{args.days} days x {args.checkins_per_day:,} SafeEntry check-ins",
            load_checkins,
            connection,
            days=args.days,
            per_day=args.checkins_per_day,
            venues=args.venues,
            residents=args.users,
            now=now,
        )
    with database.engine.begin() as connection:
        case_nric = connection.scalar(sa.text("SELECT nric FROM registry_resident WHERE id = 1"))
        case_visits(connection, case_nric, venues=args.venues, residents=args.users, now=now)
        connection.execute(sa.text("ANALYZE"))
        checkins = connection.scalar(sa.select(sa.func.count()).select_from(CheckIn))
        users = connection.scalar(sa.select(sa.func.count()).select_from(TracingUser))
        size = connection.scalar(
            sa.text(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
                "WHERE inhparent = 'tracing_checkin'::regclass"
            )
        )
    print(f"  rows: {users:,} users, {checkins:,} check-ins ({size} with indexes)")
    return str(case_nric)


def measure_case(
    database: Database, args: argparse.Namespace, now: datetime, case_nric: str
) -> None:
    """One case from upload to the officer's first page, measured stage by stage."""

    with database.transaction() as session:
        case = service.open_case(session, case_nric)
        code = service.issue_upload_code(session, case.id).code
        user = session.scalar(sa.select(TracingUser).where(TracingUser.resident_id == 1))
        assert user is not None
        token = service.exchange_upload_code(session, user, code)
    content = encounter_log(
        token,
        records=args.records,
        contacts=args.contacts,
        close=100,
        residents=args.users,
        now=now,
    )
    tempids = [r["msg"] for r in json.loads(content)["records"]]

    busy = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nOne case: upload of {args.records:,} records from {args.contacts:,} contacts")
    print(f"  (machine load average now {busy}, on {os.cpu_count()} cores)")
    meter = Meter(database)
    print(f"  {'stage':<58} {'wall s':>7} {'CPU s':>7} {'DB CPU':>7} {'trips':>6}")
    # The parts of the upload, run alone on the same body first (library only, no database):
    # the same work is then done inside the real call below.
    keyring = current_keyring().keyring
    with collector_paused():  # as the upload runs them
        log, parse_m = meter.run(parse_encounter_log, content, None)
        _, classify_m = meter.run(classify_upload, log.records, keyring)
    began = time.perf_counter()
    receipt, upload_m = meter.run_in_transaction(
        f"upload ({len(content) / 1e6:.1f} MB): all of it, committed",
        service.receive_upload,
        content,
    )
    meter.show("  of which: parse the JSON body (measured alone)", parse_m)
    meter.show("  of which: decrypt + classify every record (alone)", classify_m)
    store = upload_m.minus(parse_m).minus(classify_m)
    meter.show("  the rest: find contacts' users, COPY rows, audit, commit", store)
    summary, resolve_m = meter.run_in_transaction(
        "resolution: rank + SafeEntry merge, keep the list, committed",
        service.resolve_case,
        case.id,
    )
    first_page, page_m = meter.run_in_transaction(
        "the officer's first page of the ranked list (audited)", service.view_contacts, case.id
    )
    total = time.perf_counter() - began
    meter.run_in_transaction(
        "  (again alone) read + rank the case's encounters",
        paused(service.rank_case_encounters),
        case.id,
        rollback=True,
    )
    overlaps, _ = meter.run_in_transaction(
        "  (again alone) SafeEntry overlap search (25 days, indexed)",
        service.overlaps_for_case,
        case_nric,
        since=now - timedelta(days=25),
        rollback=True,
    )
    print(f"  counts: {receipt.counts}")
    print(
        f"  contacts: {summary.contacts:,} ({summary.close_contacts} close; "
        f"{summary.bluetrace:,} BlueTrace, {summary.safeentry:,} SafeEntry; "
        f"SafeEntry search alone found {len(overlaps):,})"
    )
    work = upload_m.plus(resolve_m).plus(page_m)
    verdict = "within" if total <= 5 else "OVER"
    print(f"  upload to ranked contact list: {total:.2f} s wall  (goal 5 s: {verdict})")
    print(
        f"    CPU behind it: {work.cpu:.2f} s in this process + {work.db_cpu:.2f} s in "
        f"PostgreSQL = {work.cpu + work.db_cpu:.2f} s, {work.trips} round trips "
        f"(goal 5 s: {'within' if work.cpu + work.db_cpu <= 5 else 'OVER'} on a quiet machine)"
    )
    print(f"  cases per hour, one process: {3600 / total:,.0f}")

    print(f"\nTempID decryption, {len(tempids):,} TempIDs of the upload, one process:")
    library, limit = decrypt_rates(tempids)
    print(f"  open_tempid (library)                         {library:12,.0f} /s")
    print(f"  raw AESGCM.decrypt, same inputs (the limit)   {limit:12,.0f} /s")
    print(f"  ratio library / raw: {library / limit:.2f}")

    if args.reuse:
        return
    with database.transaction() as session:
        report, purge_s = timed(
            "retention purge two days later (drops the oldest day partitions)",
            service.purge_expired,
            session,
            now=now + timedelta(days=2),
        )
    print(f"  dropped {report.dropped_partitions}, rows {report.rows_in_dropped}")
    with database.transaction() as session:
        queued = session.scalar(sa.select(sa.func.count()).select_from(Job))
        contacts = session.scalar(sa.select(sa.func.count()).select_from(Contact))
    shown = len(first_page.contacts)
    print(f"  ({queued} jobs queued, {contacts:,} contact rows kept; {shown} shown)")
    _ = purge_s


if __name__ == "__main__":
    main()

# ruff: noqa: E501 - a report of figures, printed one per line
"""A booking surge against the HTTP API on PostgreSQL: two-dose bookings a second, latency,
availability reads a second, a 10x burst answered by the waiting room, invariants afterwards.

1. A fresh PostgreSQL database with a synthetic population (`load_population`), centres with
   slots released against deliveries for 45 days, everyone registered in an open cohort and
   invited (the codes come back from `invite_cohort` as the SMS would carry them).
2. `smartnation serve --workers W` (separate processes, no embedded job worker, as in production).
3. Availability reads: many async clients GET a centre's slots for a day.
4. Bookings: C async clients book with their NRIC/FIN and code, choosing a random centre, day and
   time; a full slot (409) makes them pick another, the waiting room (429) makes them wait.
5. A 10x burst: ten times as many clients at once. Every answer must be 201, 409 or 429/503 with
   Retry-After; those sent to wait retry until booked. Nothing may be lost: every 201 is a booking
   in the database and every booking in the database was answered 201.
6. The invariants on the database: no slot past its capacity, places = bookings, one booking per
   person. Beside the figures: the same transaction's work done straight on PostgreSQL with
   psycopg by as many threads (the ceiling of this database on this machine), and the peers.

    uv run python benchmarks/appointments_booking_surge.py [--people 300000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import aiohttp
import httpx
import phonenumbers
import psycopg
import sqlalchemy as sa

from smartnation.appointments import demand, service
from smartnation.cli import upgrade_database
from smartnation.core.clock import today_in_singapore
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.registry.loader import load_population

ADMIN_URL = os.environ.get(
    "SMARTNATION_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
FIRST_DOSE_DAYS = 7
PEERS = {
    "England's National Booking Service, peak (bookings/s)": 27.0,
    "CoWIN, first hour (registrations/s)": 970.0,
    "goal on this machine (two-dose bookings/s)": 1000.0,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def create_database() -> str:
    name = f"nas_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Nation:
    credentials: list[tuple[str, str]]
    slots: dict[tuple[str, str], list[int]]  # (centre, day) -> first-dose slot ids
    centres: list[str]
    days: list[str]


def prepare(url: str, people: int, centres: int, capacity: int, invite: int) -> Nation:
    database = Database.from_settings(DatabaseSettings(url=url))
    started = time.perf_counter()
    loaded = load_population(database, people, seed=1)
    print(f"population: {loaded:,} residents loaded in {time.perf_counter() - started:.1f} s")
    start_day = today_in_singapore() + timedelta(days=1)
    codes = []
    started = time.perf_counter()
    with database.transaction() as session:
        for index in range(centres):
            vaccine = "PFIZER" if index % 2 == 0 else "MODERNA"
            code = f"VC{index:02d}"
            service.create_centre(
                session,
                service.NewCentre(
                    code=code,
                    name=f"Vaccination centre {index:02d}",
                    kind="vaccination_centre",
                    vaccine_code=vaccine,
                    opens_at=clock_time(8, 0),
                    closes_at=clock_time(22, 0),
                    slot_minutes=30,
                    capacity_per_slot=capacity,
                ),
            )
            codes.append(code)
            # First doses in the first week; second doses 21 (Pfizer) or 28 (Moderna) days on.
            for offset in [*range(FIRST_DOSE_DAYS), *range(21, 21 + FIRST_DOSE_DAYS + 7)]:
                day = start_day + timedelta(days=offset)
                service.record_delivery(session, code, day, capacity * 28)
                service.release_slots(session, code, day)
    print(
        f"supply: {centres} centres x {2 * FIRST_DOSE_DAYS + 7} days x 28 slots of {capacity} in {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    # Registration of interest in bulk (the people who registered before the surge): adults whose
    # registry number takes SMS.
    adult = today_in_singapore() - timedelta(days=365 * 19)
    with database.connection() as connection:
        candidates = connection.execute(
            sa.text(
                "SELECT id, nric, name, date_of_birth, mobile FROM registry_resident "
                "WHERE mobile IS NOT NULL AND date_of_birth < :adult ORDER BY id LIMIT :limit"
            ),
            {"adult": adult, "limit": int(invite * 1.3) + 100},
        ).all()
        rows = [
            {
                "resident_id": r.id,
                "nric": r.nric,
                "name": r.name,
                "date_of_birth": r.date_of_birth,
                "mobile": r.mobile,
                "now": datetime.now(UTC),
            }
            for r in candidates
            if phonenumbers.is_valid_number(phonenumbers.parse(r.mobile, "SG"))
        ][:invite]
        connection.execute(
            sa.text(
                "INSERT INTO appointments_registration (resident_id, nric, name, date_of_birth, "
                "mobile, language, screening_answers, screening_outcome, registered_by, created_at) "
                "VALUES (:resident_id, :nric, :name, :date_of_birth, :mobile, 'en', '{}', "
                "'eligible', 'benchmark', :now)"
            ),
            rows,
        )
    # Invitations as `invite_cohort` makes them (a code, its hash with the NRIC, 14 days), in bulk:
    # the invitation run itself is not what is measured here.
    with database.transaction() as session:
        service.create_cohort(session, code="adults", name="Adults 18+", min_age=18)
        service.open_cohort(session, "adults")
        cohort_id = service.get_cohort(session, "adults").id
        codes_by_nric = {row["nric"]: demand.new_booking_code() for row in rows}
        session.execute(
            sa.text(
                "INSERT INTO appointments_invitation (resident_id, cohort_id, code_hash, status, "
                "expires_at, created_at) VALUES (:resident_id, :cohort_id, :code_hash, 'sent', "
                ":expires, :now)"
            ),
            [
                {
                    "resident_id": row["resident_id"],
                    "cohort_id": cohort_id,
                    "code_hash": demand.code_hash(row["nric"], codes_by_nric[row["nric"]]),
                    "expires": row["now"] + timedelta(days=demand.INVITATION_DAYS),
                    "now": row["now"],
                }
                for row in rows
            ],
        )
        credentials = list(codes_by_nric.items())
        slot_rows = session.execute(
            sa.text(
                "SELECT c.code, s.day, s.id FROM appointments_slot s JOIN appointments_centre c "
                "ON c.id = s.centre_id WHERE s.day <= :last ORDER BY s.id"
            ),
            {"last": start_day + timedelta(days=FIRST_DOSE_DAYS - 1)},
        ).all()
    slots: dict[tuple[str, str], list[int]] = {}
    for centre, day, slot_id in slot_rows:
        slots.setdefault((centre, day.isoformat()), []).append(slot_id)
    print(
        f"demand: {len(credentials):,} registered and invited in {time.perf_counter() - started:.1f} s"
    )
    database.engine.dispose()
    days = sorted({day for _, day in slots})
    return Nation(credentials, slots, codes, days)


def serve(url: str, workers: int, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": url,
        "SMARTNATION_WEB_EMBEDDED_WORKER": "false",
        "SMARTNATION_WEB_SECRET_KEY": "benchmark-secret",
        "SMARTNATION_DATABASE_POOL_SIZE": "12",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from smartnation.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(f"/tmp/nas_bench_server_{port}.log", "wb"),  # noqa: SIM115 - lives with the server
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise RuntimeError("the server did not start")


TICKS = os.sysconf("SC_CLK_TCK")


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children (the uvicorn
    workers), read from /proc: a measure of work done that machine load does not change much."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


def backend_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend (server processes on this machine)."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, PermissionError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return used


def backends(url: str) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (not this query's own)."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(row[0]) for row in rows]


def transactions(url: str) -> int:
    """Transactions committed or rolled back in the benchmark's database so far."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


@dataclass
class Cost:
    """CPU of the server and of the load generator, and database transactions, over a phase."""

    server_cpu: float = 0.0
    client_cpu: float = 0.0
    transactions: int = 0
    database_cpu: float = 0.0  # the database's backends (those connected before or opened during)

    @classmethod
    def measure(cls, url: str, server_pid: int, phase: Callable[[], None]) -> Cost:
        database_before = backend_cpu(backends(url))
        server, client, done = process_tree_cpu(server_pid), time.process_time(), transactions(url)
        phase()
        server_after, client_after = process_tree_cpu(server_pid), time.process_time()
        database_after = backend_cpu(backends(url))
        # Backends report their counts when idle, at most ten seconds late (PostgreSQL 15+).
        time.sleep(11.0)
        return cls(
            server_after - server,
            client_after - client,
            transactions(url) - done - 1,
            sum(cpu - database_before.get(pid, 0.0) for pid, cpu in database_after.items()),
        )

    def predicted_rate(self, bookings: int, cores: int) -> float:
        """Bookings a second the machine's cores allow at these costs, were nothing else on it."""
        total = self.server_cpu + self.client_cpu + self.database_cpu
        return cores * bookings / total if total else float("nan")


def load_client(base: str, clients: int, timeout: float) -> aiohttp.ClientSession:
    """The load generator's HTTP client: aiohttp, keep-alive, one connection per simulated client.

    It shares the machine's cores with the server, so it must cost little: about a fifth of the
    CPU per request of httpx here.
    """
    return aiohttp.ClientSession(
        base,
        connector=aiohttp.TCPConnector(limit=clients),
        timeout=aiohttp.ClientTimeout(total=timeout),
    )


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def read_health(base: str, clients: int, seconds: float) -> float:
    """GET /healthz (one SELECT 1 through the whole stack): what this server answers a second on
    this machine right now, the ceiling for any endpoint."""
    done = 0
    stop = time.perf_counter() + seconds
    async with load_client(base, clients, 30) as client:

        async def reader() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                async with client.get("/healthz") as response:
                    await response.read()
                    if response.status == 200:
                        done += 1

        await asyncio.gather(*(reader() for _ in range(clients)))
    return done / seconds


async def read_availability(
    base: str, nation: Nation, clients: int, seconds: float
) -> tuple[int, list[float], Counter[int]]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    stop = time.perf_counter() + seconds
    async with load_client(base, clients, 30) as client:

        async def reader() -> None:
            rng = random.Random()
            while time.perf_counter() < stop:
                centre, day = rng.choice(nation.centres), rng.choice(nation.days)
                started = time.perf_counter()
                async with client.get(
                    f"/api/v1/appointments/centres/{centre}/availability", params={"day": day}
                ) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] += 1

        await asyncio.gather(*(reader() for _ in range(clients)))
    return len(latencies), latencies, statuses


@dataclass
class BookingRun:
    booked: dict[str, int] = field(default_factory=dict)  # nric -> booking id answered 201
    latencies: list[float] = field(default_factory=list)  # of 201 answers
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    waits_without_retry_after: int = 0
    elapsed: float = 0.0


async def book_all(
    base: str, nation: Nation, people: list[tuple[str, str]], clients: int, run: BookingRun
) -> None:
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)
    started = time.perf_counter()
    async with load_client(base, clients, 60) as client:

        async def booker() -> None:
            rng = random.Random()
            while True:
                try:
                    nric, code = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                key = uuid.uuid4().hex
                for _attempt in range(50):
                    centre, day = rng.choice(nation.centres), rng.choice(nation.days)
                    slot = rng.choice(nation.slots[(centre, day)])
                    sent = time.perf_counter()
                    try:
                        async with client.post(
                            "/api/v1/appointments/bookings",
                            json={"nric": nric, "booking_code": code, "first_slot_id": slot},
                            headers={"Idempotency-Key": key},
                        ) as response:
                            status = response.status
                            body = (
                                await response.json(content_type=None)
                                if response.content_type.endswith("json")
                                else {}
                            )
                            retry_after = response.headers.get("retry-after")
                    except (aiohttp.ClientError, TimeoutError) as error:
                        run.codes[f"transport:{type(error).__name__}"] += 1
                        await asyncio.sleep(0.5)
                        continue
                    elapsed = time.perf_counter() - sent
                    run.statuses[status] += 1
                    if status == 201:
                        run.latencies.append(elapsed)
                        run.booked[nric] = body["id"]
                        break
                    if status in (429, 503):
                        if retry_after is None:
                            run.waits_without_retry_after += 1
                        await asyncio.sleep(float(retry_after or 1) * rng.uniform(0.5, 1.0))
                        continue
                    run.codes[str(body.get("code", status))] += 1
                    if status != 409:
                        break  # a refusal that retrying cannot fix (should not happen here)

        await asyncio.gather(*(booker() for _ in range(clients)))
    run.elapsed += time.perf_counter() - started


def check_invariants(url: str, run: BookingRun) -> list[str]:
    problems = []
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        over = connection.execute(
            sa.text("SELECT count(*) FROM appointments_slot WHERE booked > capacity OR booked < 0")
        ).scalar_one()
        if over:
            problems.append(f"{over} slots past their capacity")
        mismatched = connection.execute(
            sa.text(
                "SELECT count(*) FROM appointments_slot s LEFT JOIN ("
                " SELECT slot_id, count(*) AS n FROM ("
                "  SELECT first_slot_id AS slot_id FROM appointments_booking WHERE status = 'active'"
                "  UNION ALL SELECT second_slot_id FROM appointments_booking WHERE status = 'active'"
                " ) refs GROUP BY slot_id) r ON r.slot_id = s.id WHERE s.booked <> coalesce(r.n, 0)"
            )
        ).scalar_one()
        if mismatched:
            problems.append(f"{mismatched} slots whose places do not match their bookings")
        doubles = connection.execute(
            sa.text(
                "SELECT count(*) FROM (SELECT resident_id FROM appointments_booking WHERE status = 'active' GROUP BY resident_id HAVING count(*) > 1) d"
            )
        ).scalar_one()
        if doubles:
            problems.append(f"{doubles} people with two bookings")
        stored = {
            row[0]: row[1]
            for row in connection.execute(
                sa.text(
                    "SELECT r.nric, b.id FROM appointments_booking b JOIN appointments_registration r ON r.resident_id = b.resident_id WHERE b.status = 'active'"
                )
            )
        }
        if stored != run.booked:
            lost = len(set(run.booked.items()) - set(stored.items()))
            unanswered = len(set(stored.items()) - set(run.booked.items()))
            problems.append(
                f"{lost} answered bookings missing, {unanswered} bookings never answered"
            )
    engine.dispose()
    return problems


def raw_database_ceiling(url: str, threads: int, seconds: float) -> float:
    """The booking transaction's writes straight on PostgreSQL: two conditional UPDATEs and an
    INSERT per transaction, by `threads` connections, on scratch tables."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_slot (id int primary key, capacity int, booked int)"
        )
        connection.execute(
            "CREATE UNLOGGED TABLE IF NOT EXISTS bench_booking (id serial primary key, resident int, a int, b int)"
        )
        connection.execute("TRUNCATE bench_slot, bench_booking")
        connection.execute(
            "INSERT INTO bench_slot SELECT g, 1000000, 0 FROM generate_series(1, 2000) g"
        )
        connection.execute("ALTER TABLE bench_slot SET LOGGED")
        connection.execute("ALTER TABLE bench_booking SET LOGGED")
    done = [0] * threads
    stop = time.perf_counter() + seconds

    def work(index: int) -> None:
        rng = random.Random(index)
        with psycopg.connect(url) as connection:
            while time.perf_counter() < stop:
                a = rng.randint(1, 1000)
                with connection.transaction():
                    connection.execute(
                        "UPDATE bench_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity",
                        (a,),
                    )
                    connection.execute(
                        "UPDATE bench_slot SET booked = booked + 1 WHERE id = %s AND booked < capacity",
                        (a + 1000,),
                    )
                    connection.execute(
                        "INSERT INTO bench_booking (resident, a, b) VALUES (%s, %s, %s)",
                        (rng.randint(1, 10**9), a, a + 1000),
                    )
                done[index] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(done) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=300_000, help="synthetic residents to load")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--clients", type=int, default=48, help="concurrent booking clients")
    parser.add_argument(
        "--bookers", type=int, default=6000, help="people booking in the steady run"
    )
    parser.add_argument("--centres", type=int, default=40)
    parser.add_argument("--capacity", type=int, default=6, help="places per 30-minute slot")
    parser.add_argument("--read-seconds", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    burst_people = args.clients * 10 * 3
    url = create_database()
    server = None
    try:
        upgrade_database(url)
        nation = prepare(url, args.people, args.centres, args.capacity, args.bookers + burst_people)
        steady, burst = nation.credentials[: args.bookers], nation.credentials[args.bookers :]
        ceiling = raw_database_ceiling(url, args.clients, 5.0)
        port = free_port()
        server = serve(url, args.workers, port)
        base = f"http://127.0.0.1:{port}"
        health_rate = asyncio.run(read_health(base, args.clients, args.read_seconds))
        reads, read_latencies, read_statuses = asyncio.run(
            read_availability(base, nation, args.clients, args.read_seconds)
        )
        run = BookingRun()
        steady_cost = Cost.measure(
            url, server.pid, lambda: asyncio.run(book_all(base, nation, steady, args.clients, run))
        )
        steady_rate = len(run.booked) / run.elapsed
        steady_latencies = list(run.latencies)
        steady_statuses = Counter(run.statuses)
        burst_run = BookingRun()
        burst_run.booked = run.booked  # one ledger: every 201 of both phases
        asyncio.run(book_all(base, nation, burst, args.clients * 10, burst_run))
        problems = check_invariants(url, run)
        errors = sum(
            n
            for status, n in (steady_statuses + burst_run.statuses).items()
            if status >= 500 and status != 503
        )
        print()
        print(
            f"machine: {os.cpu_count()} cores; server: {args.workers} uvicorn workers; load generator on the same machine"
        )
        print(
            f"population: {args.people:,} residents; {len(nation.credentials):,} invited; {args.centres} centres"
        )
        print(
            f"availability reads: {reads / args.read_seconds:,.0f} /s with {args.clients} clients, p50 {percentile(read_latencies, 0.5) * 1000:.1f} ms, p99 {percentile(read_latencies, 0.99) * 1000:.1f} ms, statuses {dict(read_statuses)}"
        )
        print(
            f"two-dose bookings: {steady_rate:,.0f} /s with {args.clients} clients ({len(steady):,} people in {run.elapsed:.1f} s)"
        )
        print(
            f"  booking latency (201): p50 {percentile(steady_latencies, 0.5) * 1000:.1f} ms, p99 {percentile(steady_latencies, 0.99) * 1000:.1f} ms, mean {statistics.fmean(steady_latencies) * 1000:.1f} ms"
        )
        print(f"  answers: {dict(steady_statuses)}; refusals {dict(run.codes)}")
        per = 1000 / max(1, len(steady))
        print(
            f"  per booking: server CPU {steady_cost.server_cpu * per:.2f} ms, PostgreSQL CPU {steady_cost.database_cpu * per:.2f} ms, load generator CPU {steady_cost.client_cpu * per:.2f} ms, database transactions {steady_cost.transactions / max(1, len(steady)):.2f}"
        )
        cores = os.cpu_count() or 1
        print(
            f"  predicted on {cores} quiet cores ({cores} s of CPU a second / CPU per booking): {steady_cost.predicted_rate(len(steady), cores):,.0f} bookings/s (goal 1,000)"
        )
        waited = burst_run.statuses[429] + burst_run.statuses[503]
        print(
            f"10x burst: {args.clients * 10} clients, {len(burst):,} people; answers {dict(burst_run.statuses)}"
        )
        print(
            f"  sent to the waiting room: {waited:,} (all with Retry-After: {burst_run.waits_without_retry_after == 0}); server errors: {errors}"
        )
        print(
            f"  burst p99 latency of 201s: {percentile(burst_run.latencies, 0.99) * 1000:.1f} ms; booked {len(burst_run.latencies):,} in {burst_run.elapsed:.1f} s"
        )
        print(
            f"database ceiling (same writes by psycopg, {args.clients} threads): {ceiling:,.0f} transactions/s"
        )
        print(
            f"server ceiling (GET /healthz, one SELECT 1, {args.clients} clients): {health_rate:,.0f} /s"
        )
        print(f"invariants after the run: {'all hold' if not problems else '; '.join(problems)}")
        print(
            f"  bookings answered 201: {len(run.booked):,}; people invited: {len(nation.credentials):,}"
        )
        print()
        print("beside the peers:")
        for name, rate in PEERS.items():
            print(
                f"  {name}: {rate:,.0f} -> ours {steady_rate:,.0f} two-dose bookings/s = {steady_rate / rate:.2f}x"
            )
        print(f"  share of the database ceiling: {steady_rate / ceiling:.2f}")
        print(f"  share of the server ceiling (/healthz): {steady_rate / health_rate:.2f}")
        print(
            f"  machine load average when done: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        print(f"  p99 goal 250 ms -> ours {percentile(steady_latencies, 0.99) * 1000:.0f} ms")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            drop_database(url)


if __name__ == "__main__":
    main()

# ruff: noqa: E501 - a report of figures, printed one per line
"""What one two-dose booking costs the server, in measures that do not depend on machine load.

1. Server CPU per booking: a real `smartnation serve` process on PostgreSQL (as in the surge
   benchmark) is sent bookings one at a time by a single client; the server's CPU time (user +
   system, read from /proc for the process and its workers) is divided by the bookings made.
   The client's own CPU is shown beside it.
2. Database round trips per booking: the same application in this process, the same request
   through ASGI, counting what goes over the wire to PostgreSQL: every statement (savepoints
   included), BEGIN, COMMIT/ROLLBACK and the pool's liveness ping.
3. A profile of the in-process booking request (`--profile`), the top functions by own time;
   or of the server itself with py-spy (`--py-spy stacks.txt`, collapsed stacks).

    uv run python benchmarks/appointments_booking_cost.py [--bookings 400] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent))

from appointments_booking_surge import (
    Nation,
    create_database,
    drop_database,
    free_port,
    prepare,
    process_tree_cpu,
    serve,
)

from smartnation.app import create_app
from smartnation.appointments import statement_connections
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings, Settings, WebSettings
from smartnation.core.db import Database


def booking_request(nation: Nation, person: tuple[str, str], rng: random.Random) -> dict[str, Any]:
    centre, day = rng.choice(nation.centres), rng.choice(nation.days)
    return {
        "json": {
            "nric": person[0],
            "booking_code": person[1],
            "first_slot_id": rng.choice(nation.slots[(centre, day)]),
        },
        "headers": {"Idempotency-Key": uuid.uuid4().hex},
    }


async def book_each(
    client: httpx.AsyncClient, nation: Nation, people: list[tuple[str, str]]
) -> int:
    """Book everyone one after another (a full slot: another time). Returns bookings made."""
    rng = random.Random()
    made = 0
    for person in people:
        for _attempt in range(20):
            response = await client.post(
                "/api/v1/appointments/bookings", **booking_request(nation, person, rng)
            )
            if response.status_code == 201:
                made += 1
                break
            if response.status_code != 409:
                raise RuntimeError(f"unexpected answer {response.status_code}: {response.text}")
    return made


class WireCounter:
    """Counts the messages an engine's connections send to the database and wait for."""

    def __init__(self, engines: list[Any]) -> None:
        self.counts: dict[str, int] = {}
        for engine in engines:
            self._listen(engine)

    def _listen(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        # Under autocommit these are bookkeeping in SQLAlchemy; nothing is sent.
        event.listen(engine, "begin", lambda c: self._add("BEGIN", c))
        event.listen(engine, "commit", lambda c: self._add("COMMIT", c))
        event.listen(engine, "rollback", lambda c: self._add("ROLLBACK", c))
        # pool_pre_ping: one SELECT 1 on every checkout from the pool.
        if engine.pool._pre_ping:  # type: ignore[attr-defined]
            event.listen(engine.pool, "checkout", lambda *_a: self._add("ping"))

    def _add(self, kind: str, connection: Any = None) -> None:
        options = getattr(connection, "_execution_options", {})
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self._add(statement.split(None, 1)[0].upper())

    def total(self) -> int:
        return sum(self.counts.values())


async def in_process(
    url: str, nation: Nation, people: list[tuple[str, str]], profile: bool
) -> None:
    database = Database.from_settings(DatabaseSettings(url=url, pool_size=4))
    settings = Settings(database=DatabaseSettings(url=url), web=WebSettings(embedded_worker=False))
    app = create_app(settings, database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://nas") as client:
        await book_each(client, nation, people[:5])  # warm caches and the pool
        # The ordinary engine, and the statements sent on the booking statement's connections.
        counter = WireCounter([database.engine])
        sent = sum(pool.executions for pool in statement_connections._pools.values())
        half = len(people) // 2
        made = await book_each(client, nation, people[5:half])
        statements = sum(p.executions for p in statement_connections._pools.values()) - sent
        if statements:
            counter.counts["statement (psycopg, autocommit)"] = statements
        print(
            f"round trips per booking (in process, {made} bookings): {counter.total() / made:.2f}"
        )
        print(
            "  by kind: "
            + ", ".join(f"{k} {v / made:.2f}" for k, v in sorted(counter.counts.items()))
        )
        if profile:
            profiler = cProfile.Profile()
            started = time.process_time()
            profiler.enable()
            made = await book_each(client, nation, people[half:])
            profiler.disable()
            print(
                f"in-process CPU per booking, client included, under the profiler: {(time.process_time() - started) / made * 1000:.2f} ms"
            )
            stats = pstats.Stats(profiler)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(45)
    database.engine.dispose()


async def health_each(base: str, count: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for _ in range(count):
            (await client.get("/healthz")).raise_for_status()


async def over_http(
    base: str, nation: Nation, people: list[tuple[str, str]], clients: int
) -> tuple[int, float]:
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        await book_each(client, nation, people[:20])  # warm the worker processes
        started = time.process_time()
        rest = people[20:]
        made = await asyncio.gather(
            *(book_each(client, nation, rest[i::clients]) for i in range(clients))
        )
        return sum(made), time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=5000, help="synthetic residents to load")
    parser.add_argument("--bookings", type=int, default=400, help="bookings measured over HTTP")
    parser.add_argument("--clients", type=int, default=1, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--profile", action="store_true", help="print a cProfile of in-process bookings"
    )
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy (collapsed stacks) while it books",
    )
    args = parser.parse_args()
    url = create_database()
    server = None
    try:
        upgrade_database(url)
        invited = args.bookings + 20 + 400
        nation = prepare(url, args.people, 8, 6, invited)
        over, local = (
            nation.credentials[: args.bookings + 20],
            nation.credentials[args.bookings + 20 :],
        )
        port = free_port()
        server = serve(url, args.workers, port)
        spy = None
        if args.py_spy:
            spy = subprocess.Popen(
                [
                    # the environment's own py-spy, also when the script runs without activating it
                    str(Path(sys.executable).with_name("py-spy")),
                    "record",
                    "--format",
                    "raw",
                    "--rate",
                    "400",
                    "--subprocesses",
                    "--output",
                    args.py_spy,
                    "--pid",
                    str(server.pid),
                ],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(2)
        before = process_tree_cpu(server.pid)
        made, client_cpu = asyncio.run(
            over_http(f"http://127.0.0.1:{port}", nation, over, args.clients)
        )
        server_cpu = process_tree_cpu(server.pid) - before
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        before = process_tree_cpu(server.pid)
        asyncio.run(health_each(f"http://127.0.0.1:{port}", made))
        health_cpu = process_tree_cpu(server.pid) - before
        server.terminate()
        server.wait(10)
        server = None
        print()
        print(
            f"server CPU per booking (HTTP, {args.clients} clients, {made} bookings, {args.workers} worker): {server_cpu / made * 1000:.2f} ms"
        )
        print(f"  client CPU per booking (httpx): {client_cpu / made * 1000:.2f} ms")
        print(
            f"  for scale, server CPU per GET /healthz (one SELECT 1 through the same stack): {health_cpu / made * 1000:.2f} ms"
        )
        asyncio.run(in_process(url, nation, local, args.profile))
    finally:
        if server is not None:
            server.kill()
        drop_database(url)


if __name__ == "__main__":
    main()

"""Full logins and token exchanges per second per CPU core of the provider, beside Keycloak.

The provider runs as its own server process (`smartnation serve`, one process, no embedded job
worker) on a SQLite file or a fresh PostgreSQL database. This process is the relying party and
the person's browser: it pushes the authorisation request (private_key_jwt + DPoP + PKCE, scopes
`openid user.identity`), fills in the login form (NRIC/FIN and password; Argon2id by libsodium,
t=3 m=12 MiB p=1, an OWASP setting), chooses the authenticator app and types the TOTP code, then
exchanges the code (client assertion, DPoP, single-use code, PKCE; the ID token comes back signed
then encrypted).

"Per core" is operations divided by the CPU seconds the SERVER process used (all its threads,
from /proc), so neither the client's own signing nor other work on the machine counts against
the provider. Wall-clock rates are printed too; on a shared machine they are lower.

Two phases:
  full logins      PAR, login page, password, factor choice, TOTP, token exchange, one by one
  token exchanges  codes obtained in batches (not timed), then the batch exchanged (timed)

Keycloak's published sizing, beside which the figures are printed: 15 password logins/s and
120 token grants/s per vCPU; the goal is at least twice those (30 and 240).

    uv run python benchmarks/identity_logins.py [--logins 200] [--exchanges 400]
        [--database sqlite|postgresql|both] [--breakdown] [--profile FILE]

On PostgreSQL the database server's own CPU (its backends for this database, from /proc) is
printed besides, with the rate counting both.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher

from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.core.validators import nric_check_letter
from smartnation.identity import factors, passwords
from smartnation.identity.accounts import (
    find_account,
    issue_activation_letter,
    set_password_directly,
)
from smartnation.registry import service as registry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from identity.flow_support import TestRelyingParty

KEYCLOAK_PASSWORD_LOGINS_PER_VCPU = 15
KEYCLOAK_TOKEN_GRANTS_PER_VCPU = 120
GOAL_FACTOR = 2
PASSWORD = "benchmark-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FACTOR = re.compile(r'name="factor_id" value="(\d+)"')
POSTGRES_ADMIN_URL = os.environ.get(
    "SMARTNATION_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Codes live 60 s: a batch is exchanged well within that even on a loaded machine.
EXCHANGE_BATCH = 20
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- the server process's CPU time -------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a whole process, dead threads included (clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def thread_cpu_ns(pid: int) -> dict[int, int]:
    """Nanosecond run time of each live thread (scheduler statistics), for short windows."""
    times = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that just ended
            times[int(task.name)] = int((task / "schedstat").read_text().split()[0])
    return times


def cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def database_backends(url: str) -> list[int]:
    """PostgreSQL backend processes serving the benchmark database (none for SQLite)."""
    if not url.startswith("postgresql"):
        return []
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(POSTGRES_ADMIN_URL)
    with admin.connect() as connection:
        pids = connection.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}
        )
        found = [int(pid) for (pid,) in pids]
    admin.dispose()
    return found


def backends_cpu_seconds(pids: list[int]) -> dict[int, float]:
    times = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # a connection that closed
            times[pid] = process_cpu_seconds(pid)
    return times


# --- database and server -----------------------------------------------------------------------


@contextmanager
def database_url(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    name = f"identity_bench_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def provider_server(url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`smartnation serve` with one web process; production-like: no embedded job worker."""
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": url,
        "SMARTNATION_WEB_BASE_URL": f"http://127.0.0.1:{port}",
        "SMARTNATION_WEB_SECRET_KEY": "identity-benchmark",
        "SMARTNATION_WEB_EMBEDDED_WORKER": "false",
    }
    command = [str(Path(sys.executable).with_name("smartnation")), "serve", "--port", str(port)]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 180
        while True:
            if server.poll() is not None:
                raise SystemExit(f"the server stopped: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                # The first JWKS request also creates the provider's keys, outside the timing.
                if httpx.get(f"http://127.0.0.1:{port}/id/jwks").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start within 3 minutes")
            time.sleep(0.2)
        yield server
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


# --- people and the relying party's part ---------------------------------------------------------


def make_people(database: Database, count: int) -> list[tuple[str, str]]:
    made = []
    with database.transaction() as session:
        for index in range(count):
            digits = f"{7100000 + index:07d}"
            nric = "S" + digits + nric_check_letter("S", digits)
            registry.register_resident(
                session,
                registry.NewResident(
                    nric=nric,
                    name=f"BENCH PERSON {index}",
                    sex="F",
                    date_of_birth=date(1980, 1, 1),
                    race="CN",
                    nationality="SG",
                    residential_status="C",
                ),
            )
            issue_activation_letter(session, nric)
            account = find_account(session, nric)
            assert account is not None
            set_password_directly(session, account, PASSWORD)
            secret = pyotp.random_base32()
            factors.add_totp_factor(session, account, secret, pyotp.TOTP(secret).now())
            made.append((nric, secret))
    return made


class Steps:
    """Server CPU per step of a login, when asked for (--breakdown): requests are sequential, so
    the server's CPU between the request and its answer belongs to that step."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.cpu: dict[str, float] = {}
        self.count: dict[str, int] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        if self.pid is None:
            yield
            return
        before = thread_cpu_ns(self.pid)
        yield
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu_between(before, thread_cpu_ns(self.pid))
        self.count[name] = self.count.get(name, 0) + 1

    def report(self) -> str:
        return "\n".join(
            f"    {name:22} {1000 * self.cpu[name] / self.count[name]:6.2f} ms server CPU"
            for name in self.cpu
        )


NO_STEPS = Steps(None)


def log_in(
    http: httpx.Client, rp: TestRelyingParty, nric: str, secret: str, steps: Steps = NO_STEPS
) -> str:
    """Browser part of a login, up to the redirect back to the relying party with a code."""
    http.cookies.clear()
    with steps.step("PAR"):
        start = rp.start(http)  # type: ignore[arg-type]
    with steps.step("GET /auth"):
        page = http.get(start)
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    with steps.step("POST password"):
        answer = http.post(
            "/id/auth/password", data={"csrf_token": token, "nric": nric, "password": PASSWORD}
        )
    assert answer.status_code == 303, answer.text
    # As a browser does: follow each redirect. The account's authenticator app, used at its
    # previous login, is asked for at once; at the first login the person chooses it.
    if answer.headers["location"] == "/id/auth/factor":
        with steps.step("GET factor choice"):
            choice = http.get("/id/auth/factor").text
        factor_id = FACTOR.search(choice).group(1)  # type: ignore[union-attr]
        with steps.step("POST factor choice"):
            http.post("/id/auth/factor", data={"csrf_token": token, "factor_id": factor_id})
    with steps.step("GET code page"):
        http.get("/id/auth/verify")
    with steps.step("POST TOTP code"):
        done = http.post(
            "/id/auth/verify", data={"csrf_token": token, "code": pyotp.TOTP(secret).now()}
        )
    location = done.headers["location"]
    if location == "/id/auth/consent":
        with steps.step("POST consent"):
            done = http.post("/id/auth/consent", data={"csrf_token": token, "decision": "allow"})
        location = done.headers["location"]
    assert "code=" in location, location
    return str(location)


def exchange(
    http: httpx.Client, rp: TestRelyingParty, callback: str, steps: Steps = NO_STEPS
) -> None:
    with steps.step("POST token"):
        answer = rp.token(http, callback)  # type: ignore[arg-type]
    assert answer.status_code == 200, answer.text


@dataclass
class Measure:
    label: str
    count: int
    server_cpu: float
    wall: float
    client_cpu: float
    peer: int
    peer_label: str
    database_cpu: float = 0.0

    def report(self) -> str:
        per_core = self.count / self.server_cpu
        goal = GOAL_FACTOR * self.peer
        line = (
            f"  {self.label:16} {per_core:7.1f}/s per core"
            f" (server CPU {1000 * self.server_cpu / self.count:5.1f} ms each)"
            f" | {self.count / self.wall:6.1f}/s wall"
            f" | {self.peer_label} {self.peer}/s per vCPU -> {per_core / self.peer:.2f}x"
            f" (goal {goal}/s: {per_core / goal:.2f}x of goal)"
        )
        if self.database_cpu:
            both = self.count / (self.server_cpu + self.database_cpu)
            line += (
                f"\n  {'':16} PostgreSQL's own CPU besides:"
                f" {1000 * self.database_cpu / self.count:.1f} ms each"
                f" ({both:.1f}/s per core counting both)"
            )
        return line


def run(args: argparse.Namespace) -> list[Measure]:
    with database_url(args.database) as url:
        upgrade_database(url)
        database = Database.from_settings(DatabaseSettings(url=url))
        total = args.warmup + args.logins + args.exchanges
        people = make_people(database, total)
        port = free_port()
        with database.transaction() as session:
            rp = TestRelyingParty(
                session, issuer=f"http://127.0.0.1:{port}/id", scopes="openid user.identity"
            )
        database.engine.dispose()
        with (
            provider_server(url, port) as server,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http,
        ):
            for nric, secret in people[: args.warmup]:
                exchange(http, rp, log_in(http, rp, nric, secret))
            people = people[args.warmup :]
            profiler = start_profiler(server.pid, args.profile) if args.profile else None

            logins, people = people[: args.logins], people[args.logins :]
            cpu0, wall0, client0 = (
                process_cpu_seconds(server.pid),
                time.perf_counter(),
                time.process_time(),
            )
            database0 = backends_cpu_seconds(database_backends(url))
            steps = Steps(server.pid if args.breakdown else None)
            for nric, secret in logins:
                exchange(http, rp, log_in(http, rp, nric, secret, steps), steps)
            database_cpu = _cpu_since(database0, database_backends(url))
            full = Measure(
                "full logins",
                len(logins),
                process_cpu_seconds(server.pid) - cpu0,
                time.perf_counter() - wall0,
                time.process_time() - client0,
                KEYCLOAK_PASSWORD_LOGINS_PER_VCPU,
                "Keycloak password logins",
                database_cpu,
            )

            server_cpu = wall = client_cpu = database_cpu = 0.0
            for start in range(0, len(people), EXCHANGE_BATCH):
                batch = people[start : start + EXCHANGE_BATCH]
                callbacks = [log_in(http, rp, nric, secret) for nric, secret in batch]
                database0 = backends_cpu_seconds(database_backends(url))
                before, wall0, client0 = (
                    thread_cpu_ns(server.pid),
                    time.perf_counter(),
                    time.process_time(),
                )
                for callback in callbacks:
                    exchange(http, rp, callback)
                server_cpu += cpu_between(before, thread_cpu_ns(server.pid))
                wall += time.perf_counter() - wall0
                client_cpu += time.process_time() - client0
                database_cpu += _cpu_since(database0, database_backends(url))
            tokens = Measure(
                "token exchanges",
                len(people),
                server_cpu,
                wall,
                client_cpu,
                KEYCLOAK_TOKEN_GRANTS_PER_VCPU,
                "Keycloak token grants",
                database_cpu,
            )
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(60)
    if args.breakdown:
        print(f"Server CPU per step of a full login ({args.database}, sequential requests):")
        print(steps.report())
    return [full, tokens]


def _cpu_since(before: dict[int, float], pids: list[int]) -> float:
    after = backends_cpu_seconds(pids)
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def start_profiler(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy (dev dependency) sampling the server's threads; raw folded stacks to ``output``."""
    command = [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid)]
    command += ["--format", "raw", "--rate", "400", "--nonblocking", "-o", output]
    profiler = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    time.sleep(1)  # attached before the timing starts
    return profiler


def transparent_huge_pages() -> str:
    """The kernel's huge-page mode (libsodium's hash costs about half as much at "always")."""
    try:
        modes = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "unknown"
    chosen = re.search(r"\[(\w+)\]", modes)
    return chosen.group(1) if chosen else "unknown"


def argon2_cpu_seconds(hash_password: Callable[[str], object], samples: int = 10) -> float:
    hash_password(PASSWORD)
    started = time.process_time()
    for _ in range(samples):
        hash_password(PASSWORD)
    return (time.process_time() - started) / samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--logins", type=int, default=200, help="timed full logins")
    parser.add_argument("--exchanges", type=int, default=400, help="timed token exchanges")
    parser.add_argument("--warmup", type=int, default=5, help="untimed logins first")
    parser.add_argument("--breakdown", action="store_true", help="server CPU per login step")
    parser.add_argument("--profile", metavar="FILE", help="py-spy folded stacks of the server")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    results = {}
    for kind in kinds:
        args.database = kind
        results[kind] = run(args)
    argon2 = argon2_cpu_seconds(passwords.hash_password)
    reference = argon2_cpu_seconds(
        PasswordHasher(
            time_cost=passwords.TIME_COST,
            memory_cost=passwords.MEMORY_KIB,
            parallelism=passwords.PARALLELISM,
        ).hash
    )
    print(
        "Provider: `smartnation serve`, one process, no embedded worker; client: a separate"
        " process (relying party + browser), one request at a time."
    )
    print("Per core = operations / CPU seconds of the server process (all its threads).")
    for kind, measures in results.items():
        print(f"{kind}:")
        for measure in measures:
            print(measure.report())
    measures = [m for found in results.values() for m in found]
    print(
        f"  Argon2id as used (libsodium, t={passwords.TIME_COST}"
        f" m={passwords.MEMORY_KIB // 1024}MiB p={passwords.PARALLELISM}) alone, in this process:"
        f" {1000 * argon2:.1f} ms CPU a hash -> at most {1 / argon2:.1f} password logins/s per"
        f" core; argon2-cffi, same parameters: {1000 * reference:.1f} ms"
        f" ({reference / argon2:.2f}x the CPU); transparent huge pages: {transparent_huge_pages()}"
    )
    client = sum(m.client_cpu for m in measures) / sum(m.count for m in measures)
    print(f"  (client CPU, not counted: {1000 * client:.1f} ms per operation)")


if __name__ == "__main__":
    main()

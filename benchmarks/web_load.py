"""`/healthz` and a registry lookup by NRIC under concurrent load, beside a constant ASGI app.

Run: `uv run python benchmarks/web_load.py [--people 5700000 | --database-url URL]
      [--seconds 10] [--connections 32]`    (needs `wrk`: apt-get install wrk)

Setup, all on this machine:
- a fresh PostgreSQL database with the synthetic nation loaded (or `--database-url`, already
  loaded), an API token from `smartnation tokens create --role registry.read`;
- `smartnation serve --workers 2` (uvicorn, two processes, embedded job worker off as in
  production);
- the limit of the stack: a trivial ASGI app answering a constant JSON document, run by uvicorn
  with exactly the options `smartnation serve` uses, also with two workers;
- the load generator `wrk` in a separate process (one thread, keep-alive connections); the lookup
  asks for a different resident each request, drawn from 20,000 real NRICs.
Prints requests/s, p50 and p99 latency for each, ratios to the constant app, and the server's CPU
time per request (its processes' user + system time over the measured run), which stays meaningful
when the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings
from smartnation.core.db import Database
from smartnation.registry.loader import load_population

ADMIN_URL = os.environ.get(
    "SMARTNATION_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# wrk script: a different NRIC per request (when a list is given) and a parseable summary.
WRK_SCRIPT = """
local nrics = {}
local path_prefix = os.getenv("BENCH_PATH_PREFIX")
local token = os.getenv("BENCH_TOKEN")
local list = os.getenv("BENCH_NRICS")
if list and list ~= "" then
  for line in io.lines(list) do nrics[#nrics + 1] = line end
end
local counter = 0
request = function()
  local path = path_prefix
  if #nrics > 0 then
    counter = counter + 1
    path = path_prefix .. nrics[(counter % #nrics) + 1]
  end
  local headers = {}
  if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
  return wrk.format("GET", path, headers)
end
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d %d\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.status, errors.connect + errors.read + errors.write, errors.timeout, latency.max))
end
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _admin(statement: str) -> None:
    engine = Database.from_settings(DatabaseSettings(url=ADMIN_URL)).engine
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def _start(command: list[str], env: dict[str, str], url: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 180  # a busy machine starts worker processes slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server did not start:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _server_cpu(pid: int) -> float:
    """CPU seconds used so far by the server and its worker processes."""
    root = psutil.Process(pid)
    total = 0.0
    for process in (root, *root.children(recursive=True)):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def _wrk(
    url: str,
    path: str,
    seconds: int,
    connections: int,
    script: Path,
    env: dict[str, str],
    server: subprocess.Popen[bytes],
) -> dict[str, float]:
    # A short warm-up (connection pools, caches), then the measured run.
    for duration in (2, seconds):
        cpu_before = _server_cpu(server.pid)
        done = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{duration}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            env={**env, "BENCH_PATH_PREFIX": path},
            capture_output=True,
            text=True,
            check=True,
        )
        cpu = _server_cpu(server.pid) - cpu_before
    match = re.search(r"^RESULT (.+)$", done.stdout, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk said:\n{done.stdout}\n{done.stderr}")
    requests, duration_us, p50, p99, status_errors, socket_errors, timeouts, _worst = (
        int(v) for v in match.group(1).split()
    )
    return {
        "rps": requests / (duration_us / 1e6),
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
        "non_2xx": status_errors,
        "socket_errors": socket_errors + timeouts,
        "requests": requests,
        "cpu_us": cpu / max(1, requests) * 1e6,
    }


def _row(label: str, result: dict[str, float], limit: dict[str, float] | None) -> None:
    ratio = f"{result['rps'] / limit['rps']:>6.2f}" if limit else "     -"
    problems = ""
    if result["non_2xx"] or result["socket_errors"]:
        problems = (
            f"  ({result['non_2xx']:,.0f} non-2xx, {result['socket_errors']:,.0f} socket errors)"
        )
    print(
        f"  {label:<52} {result['rps']:>9,.0f} req/s  p50 {result['p50_ms']:>7.2f} ms  "
        f"p99 {result['p99_ms']:>7.2f} ms  server CPU {result['cpu_us']:>6.0f} us/req  "
        f"ratio {ratio}{problems}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_700_000)
    parser.add_argument("--database-url", help="an already loaded PostgreSQL database to use")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")

    created = None
    url = args.database_url
    if url is None:
        created = f"smartnation_bench_web_{os.getpid()}_{secrets.token_hex(2)}"
        _admin(f'CREATE DATABASE "{created}"')
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + created
    folder = Path(tempfile.mkdtemp(prefix="smartnation-bench-web-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upgrade_database(url)
        database = Database.from_settings(DatabaseSettings(url=url))
        with database.engine.connect() as connection:
            people = connection.exec_driver_sql("SELECT count(*) FROM registry_resident").scalar()
        if not people:
            print(f"Loading {args.people:,} residents ...", flush=True)
            load_population(database, args.people)
            people = args.people
        with database.engine.connect() as connection:
            nrics = (
                connection.exec_driver_sql(
                    "SELECT nric FROM registry_resident ORDER BY random() LIMIT 20000"
                )
                .scalars()
                .all()
            )
        database.engine.dispose()
        (folder / "nrics.txt").write_text("\n".join(nrics) + "\n")
        script = folder / "bench.lua"
        script.write_text(WRK_SCRIPT)

        env = {
            **os.environ,
            "SMARTNATION_DATABASE_URL": url,
            "SMARTNATION_WEB_SECRET_KEY": secrets.token_urlsafe(32),
            "SMARTNATION_WEB_EMBEDDED_WORKER": "false",
            "NO_COLOR": "1",
        }
        token = subprocess.run(
            [
                str(BIN / "smartnation"),
                "tokens",
                "create",
                "--name",
                "benchmark",
                "--role",
                "registry.read",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]

        print(
            f"{people:,} residents in PostgreSQL; uvicorn with 2 worker processes each; "
            f"wrk, 1 thread, {args.connections} connections, {args.seconds} s per run; "
            f"{os.cpu_count()} cores shared by server, database and load generator"
        )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        uvicorn = [
            sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "constant_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--proxy-headers",
            "--log-level", "info", "--timeout-worker-healthcheck", "60",
        ]  # fmt: skip
        process = _start(uvicorn, env, base, folder / "constant.log")
        processes.append(process)
        limit = _wrk(base, "/", args.seconds, args.connections, script, env, process)
        _stop(processes.pop())

        serve = [str(BIN / "smartnation"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = _start([*serve, "--workers", "2"], env, f"{base}/healthz", folder / "serve.log")
        processes.append(process)
        check = httpx.get(
            f"{base}/api/v1/registry/residents/{nrics[0]}",
            headers={"authorization": f"Bearer {token}"},
        )
        assert check.status_code == 200, check.text
        health = _wrk(base, "/healthz", args.seconds, args.connections, script, env, process)
        lookup_env = {**env, "BENCH_TOKEN": token, "BENCH_NRICS": str(folder / "nrics.txt")}
        lookup = _wrk(
            base,
            "/api/v1/registry/residents/",
            args.seconds,
            args.connections,
            script,
            lookup_env,
            process,
        )
        _stop(processes.pop())

        _row("limit: constant ASGI app (uvicorn, same options)", limit, None)
        _row("GET /healthz (SELECT 1 on PostgreSQL)", health, limit)
        _row("GET /api/v1/registry/residents/{nric} (bearer token)", lookup, limit)
    finally:
        for process in processes:
            _stop(process)
        shutil.rmtree(folder, ignore_errors=True)
        if created:
            _admin(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


if __name__ == "__main__":
    main()

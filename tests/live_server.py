"""A real `smartnation serve` on a free port with demo data, for interop and browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SMARTNATION = str(Path(sys.executable).with_name("smartnation"))

# A busy machine takes a while to import the whole platform and migrate a fresh database.
STARTUP_SECONDS = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run a `smartnation` command against the server's database; returns stdout."""
        result = subprocess.run(
            [SMARTNATION, *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"smartnation {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout


@contextmanager
def running_platform(
    folder: Path, host: str = "127.0.0.1", people: int = 20
) -> Iterator[LiveServer]:
    """Migrate a fresh SQLite database, load the demo nation, serve it, stop it afterwards."""
    port = free_port()
    base_url = f"http://{host}:{port}"
    env = {
        **os.environ,
        "SMARTNATION_DATABASE_URL": f"sqlite:///{folder / 'live.db'}",
        "SMARTNATION_WEB_BASE_URL": base_url,
        "SMARTNATION_WEB_SECRET_KEY": "live-server-test-secret",
        "SMARTNATION_WEB_EMBEDDED_WORKER": "true",
        "COLUMNS": "200",
        # The demo's DNS table and certificate files, kept out of the checkout's own var/.
        "SMARTNATION_HEALTHCERTS_DNS": str(folder / "healthcerts" / "dns-records.json"),
    }
    server = LiveServer(base_url, env)
    server.cli("demo", "load", "--people", str(people), "--businesses", "2")
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen(
        [SMARTNATION, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "smartnation serve did not start:\n" + (folder / "serve.log").read_text()
                )
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()

"""Full logins and token exchanges per second on one core, through the real web stack.

A full login is what a person and a relying party do: PAR (private_key_jwt + DPoP), the login
page, NRIC/FIN and password (Argon2id t=2 m=19 MiB p=1), the second factor (a TOTP code), and
the token exchange (client assertion, DPoP, single-use code, PKCE, ID token signed then
encrypted). Everything runs in one thread of one process against a SQLite file, so the figures
are per core. Keycloak's published sizing, beside which they are printed: 15 password logins/s
and 120 token grants/s per vCPU; the goal is twice those.

    uv run python benchmarks/identity_logins.py [--logins 40]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pyotp
from fastapi.testclient import TestClient

from smartnation.app import create_app
from smartnation.cli import upgrade_database
from smartnation.core.config import DatabaseSettings, Settings, WebSettings
from smartnation.core.db import Database
from smartnation.core.validators import nric_check_letter
from smartnation.identity import factors
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
PASSWORD = "benchmark-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _people(database: Database, count: int) -> list[tuple[str, str]]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade_database(url)
        settings = Settings(
            database=DatabaseSettings(url=url),
            web=WebSettings(secret_key="bench", embedded_worker=False),
        )
        database = Database.from_settings(settings.database)
        people = _people(database, args.logins)
        app = create_app(settings, database)
        with database.transaction() as session:
            rp = TestRelyingParty(
                session, issuer=settings.web.base_url + "/id", scopes="openid user.identity name"
            )
        token_seconds = token_cpu = 0.0
        with TestClient(app) as http:
            http.get("/id/jwks")  # keys created on first use, outside the timing
            started, cpu_started = time.perf_counter(), time.process_time()
            for nric, secret in people:
                http.cookies.clear()
                page = http.get(rp.start(http))
                token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
                http.post(
                    "/id/auth/password",
                    data={"csrf_token": token, "nric": nric, "password": PASSWORD},
                )
                choice = http.get("/id/auth/factor").text
                factor_id = choice.split('name="factor_id" value="')[1].split('"')[0]
                http.post("/id/auth/factor", data={"csrf_token": token, "factor_id": factor_id})
                done = http.post(
                    "/id/auth/verify",
                    data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
                    follow_redirects=False,
                )
                location = done.headers["location"]
                if location == "/id/auth/consent":
                    done = http.post(
                        "/id/auth/consent",
                        data={"csrf_token": token, "decision": "allow"},
                        follow_redirects=False,
                    )
                    location = done.headers["location"]
                exchange_started, exchange_cpu = time.perf_counter(), time.process_time()
                answer = rp.token(http, location)
                token_seconds += time.perf_counter() - exchange_started
                token_cpu += time.process_time() - exchange_cpu
                assert answer.status_code == 200, answer.text
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
    # Wall-clock rates suffer when other work shares the cores; CPU time used by this process
    # (client and server threads both) gives the rate one whole core would sustain.
    print(
        f"{args.logins} full logins (PAR, password, TOTP, token) in one process, SQLite; "
        f"CPU share seen: {cpu / elapsed:.0%} of one core"
    )
    for label, count, wall, used, peer, peer_label in (
        (
            "full logins",
            args.logins,
            elapsed,
            cpu,
            KEYCLOAK_PASSWORD_LOGINS_PER_VCPU,
            "Keycloak password logins",
        ),
        (
            "token exchanges",
            args.logins,
            token_seconds,
            token_cpu,
            KEYCLOAK_TOKEN_GRANTS_PER_VCPU,
            "Keycloak token grants",
        ),
    ):
        per_core = count / used
        print(
            f"  {label:16} {per_core:7.1f}/s per core (CPU time), {count / wall:7.1f}/s wall;"
            f" {peer_label} {peer}/s per vCPU -> {per_core / peer:.2f}x"
        )


if __name__ == "__main__":
    main()

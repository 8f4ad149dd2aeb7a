"""The `smartnation` command: one sub-command group per domain."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import text

from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.core.web.auth import issue_api_token
from smartnation.domains import domain_modules
from smartnation.registry.loader import load_businesses, load_population
from smartnation.worker import run_workers

app = typer.Typer(help="smartnation: digital government services.", no_args_is_help=True)
db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data: a synthetic nation.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
for _domain, _module in domain_modules("cli"):
    app.add_typer(_module.app, name=getattr(_module, "COMMAND_NAME", _domain))
console = Console()

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None) -> AlembicConfig:
    """Alembic configured in code, so the command works from any directory."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url or get_settings().database.url)
    config.attributes["from_cli"] = True
    return config


def upgrade_database(url: str | None = None) -> None:
    """Bring the database schema to the newest revision."""
    url = url or get_settings().database.url
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        # A fresh checkout has no ./var yet; SQLite creates the file but not its folder.
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    alembic_command.upgrade(alembic_config(url), "head")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest revision."""
    upgrade_database()
    console.print("[green]Database is up to date.[/green]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Web processes (production).")] = 1,
) -> None:
    """Run the web application (on the embedded default it also runs the job worker)."""
    upgrade_database()
    console.print(f"smartnation is running at [bold]http://{host}:{port}[/bold]")
    uvicorn.run(
        "smartnation.serving:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=get_settings().web.access_log,
        # A worker importing the whole platform on a busy machine can take longer than uvicorn's
        # default 5 s to answer its supervisor; it would be killed and restarted forever.
        timeout_worker_healthcheck=60,
    )


@app.command()
def worker(
    threads: Annotated[int, typer.Option(help="Worker threads in this process.")] = 1,
) -> None:
    """Run background jobs until stopped. Run as many as you like, on any machines."""
    run_workers(threads)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )


@demo_app.command("load")
def demo_load(
    people: Annotated[int, typer.Option(help="How many residents to generate.", min=10)] = 2000,
    seed: Annotated[int, typer.Option(help="Same seed, same people.")] = 1,
    businesses: Annotated[int, typer.Option(help="How many businesses.", min=0)] = 50,
    workers: Annotated[
        int | None,
        typer.Option(help="Generator processes on PostgreSQL (default: all cores but one).", min=1),
    ] = None,
) -> None:
    """Load a synthetic nation (people, addresses, businesses and each service's demo data).

    `--people 5700000` loads the whole nation; on PostgreSQL it streams with COPY.
    """
    upgrade_database()
    database = Database.from_settings(get_settings().database)
    with database.engine.connect() as connection:
        existing = connection.execute(text("SELECT count(*) FROM registry_resident")).scalar_one()
    if existing:
        console.print(f"Demo data is already loaded ({existing:,} residents). Nothing to do.")
        return
    started = time.perf_counter()
    with _progress() as bar:
        task = bar.add_task("Residents", total=people, rate="")

        def advance(done: int) -> None:
            bar.advance(task, done)
            elapsed = time.perf_counter() - started
            completed = bar.tasks[0].completed
            bar.update(task, rate=f"{completed / max(elapsed, 1e-6):,.0f} rows/s")

        def step(name: str) -> None:
            bar.update(task, description=name)

        loaded = load_population(
            database, people, seed, progress=advance, step=step, workers=workers
        )
        bar.update(task, description="Residents")
    made = load_businesses(database, businesses, seed)
    extras = [
        line
        for _domain, module in domain_modules("demo")
        for line in module.load_demo(database, seed)
    ]
    elapsed = time.perf_counter() - started
    console.print(
        f"[green]Loaded {loaded:,} residents and {made:,} businesses in {elapsed:.1f} s "
        f"({loaded / elapsed:,.0f} residents/s).[/green]"
    )
    for line in extras:
        console.print(line)


tokens_app = typer.Typer(help="API tokens for other agencies' systems.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="Whose system this token is for.")],
    role: Annotated[list[str], typer.Option(help="A role the token holds; repeat for more.")],
) -> None:
    """Issue a bearer token; it is shown once and only its hash is kept."""
    upgrade_database()
    database = Database.from_settings(get_settings().database)
    with database.transaction() as session:
        secret = issue_api_token(session, name, role)
    console.print(secret)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app()

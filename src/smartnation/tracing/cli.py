"""`smartnation tracing`: TempIDs and keys from the command line.

Keys come from `SMARTNATION_TRACING_KEYS` (comma-separated base64 32-byte keys, the first
current). When it is unset, outside production, the public development key is used and every
command says so on standard error: it lets the demo run, and protects nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.tracing.bluetrace import (
    KEYS_ENV_VAR,
    Keyring,
    decrypt_tempid,
    generate_key,
    generate_tempids,
    keyring_from_environment,
)
from smartnation.tracing.errors import TracingError
from smartnation.tracing.retention import purge_expired

app = typer.Typer(
    help="Contact tracing (BlueTrace / TraceTogether): issue and open TempIDs, make keys.",
    no_args_is_help=True,
)

_stderr = Console(stderr=True, soft_wrap=True)  # no hard wraps inside messages


def _fail(message: str) -> typer.Exit:
    _stderr.print(f"[bold red]Error:[/] {message}", highlight=False)
    return typer.Exit(code=1)


def _keyring() -> Keyring:
    try:
        configured = keyring_from_environment()
    except TracingError as error:
        raise _fail(error.message) from None
    if configured.is_development:
        _stderr.print(
            f"[bold yellow]WARNING:[/] {KEYS_ENV_VAR} is not set; using the public DEVELOPMENT "
            "key. Anyone can open these TempIDs. Never use it in production.",
            highlight=False,
        )
    return configured.keyring


def _print_json(value: Any) -> None:
    # JSON.stringify spacing, so output matches what the OpenTrace functions return.
    typer.echo(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--now {text!r} is not an ISO 8601 date and time") from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


@app.command()
def tempids(
    uid: Annotated[str, typer.Option(help="The user's 28-character base64 uid.")],
    count: Annotated[int, typer.Option(help="How many TempIDs, 15 minutes each.")] = 100,
    now: Annotated[
        str | None,
        typer.Option(
            help="Issue as if at this ISO 8601 time (UTC if no offset).", show_default=False
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the OpenTrace getTempIDs response as JSON.")
    ] = False,
) -> None:
    """Issue a batch of TempIDs for a user, exactly as OpenTrace's getTempIDs does."""
    keyring = _keyring()
    try:
        batch = generate_tempids(keyring, uid, now=_instant(now), count=count)
    except TracingError as error:
        raise _fail(error.message) from None
    if as_json:
        _print_json(batch.as_response())
        return
    table = Table(title=f"{len(batch.tempids)} TempIDs, refresh at {batch.refresh_time}")
    for column in ("tempID", "startTime", "expiryTime"):
        table.add_column(column)
    for issued in batch.tempids:
        table.add_row(issued.tempid, str(issued.start_time), str(issued.expiry_time))
    Console().print(table)


@app.command()
def decrypt(
    tempid: Annotated[str, typer.Argument(help="The 84-character TempID to open.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print {uid, startTime, expiryTime}.")] = (
        False
    ),
) -> None:
    """Open a TempID with the configured keys; exits 1 when no key opens it."""
    keyring = _keyring()
    try:
        content = decrypt_tempid(keyring, tempid)
    except TracingError as error:
        raise _fail(error.message) from None
    if as_json:
        _print_json(content.as_dict())
        return
    typer.echo(f"uid:        {content.uid}")
    typer.echo(f"startTime:  {content.start_time}")
    typer.echo(f"expiryTime: {content.expiry_time}")


@app.command()
def keygen() -> None:
    """Print a new random key for SMARTNATION_TRACING_KEYS (put it first to rotate)."""
    typer.echo(generate_key())


@app.command()
def purge() -> None:
    """Purge encounters, uploads and check-ins past retention now (the daily job does this)."""
    database = Database.from_settings(get_settings().database)
    try:
        with database.transaction() as session:
            report = purge_expired(session)
    finally:
        database.engine.dispose()
    typer.echo(f"Purged everything before {report.cutoff.isoformat()}.")
    if report.dropped_partitions:
        typer.echo(f"Dropped partitions: {', '.join(report.dropped_partitions)}")
    for table, rows in sorted(report.rows_deleted.items()):
        typer.echo(f"  {table}: {rows} rows deleted")

"""`smartnation appointments`: release slots, open cohorts, send invitations and reminders."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.console import Console

from smartnation.appointments import service
from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.core.errors import DomainError

app = typer.Typer(
    help="The National Appointment System: supply, cohorts, invitations.", no_args_is_help=True
)
console = Console()


def _database() -> Database:
    return Database.from_settings(get_settings().database)


@app.command("deliver")
def deliver(
    centre: Annotated[str, typer.Argument(help="Centre code")],
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    doses: Annotated[int, typer.Argument(help="Doses delivered for that day")],
) -> None:
    """Record a delivery and release slots for it."""
    try:
        with _database().transaction() as session:
            service.record_delivery(session, centre, date.fromisoformat(day), doses)
            released = service.release_slots(session, centre, date.fromisoformat(day))
    except (DomainError, ValueError) as error:
        console.print(f"[red]{getattr(error, 'message', error)}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Released {released:,} places at {centre} on {day}.")


@app.command("open")
def open_cohort(
    cohort: Annotated[str, typer.Argument(help="Cohort code")],
    walk_in: Annotated[bool, typer.Option(help="Also allow walking in.")] = False,
) -> None:
    """Open a cohort for booking."""
    try:
        with _database().transaction() as session:
            service.open_cohort(session, cohort, walk_in=walk_in)
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Cohort {cohort} is open.")


@app.command("invite")
def invite(
    cohort: Annotated[str, typer.Argument(help="Cohort code")],
    limit: Annotated[int | None, typer.Option(help="At most this many.")] = None,
) -> None:
    """Invite an open cohort by SMS, as many as the released places allow."""
    try:
        with _database().transaction() as session:
            sent = service.invite_cohort(
                session, cohort, limit=limit, base_url=get_settings().web.base_url
            )
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None
    console.print(f"Invited {len(sent):,} people.")


@app.command("remind")
def remind() -> None:
    """Send tomorrow's reminders now (the worker does this every hour)."""
    with _database().transaction() as session:
        sent = service.send_reminders(session)
    console.print(f"Sent {sent:,} reminders.")

"""`smartnation registry`: look records up from the command line."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.core.errors import DomainError
from smartnation.registry import service
from smartnation.registry.schemas import ResidentOut

app = typer.Typer(
    help="The national registry: residents, businesses, addresses.", no_args_is_help=True
)
console = Console()


@app.command("resident")
def show_resident(nric: Annotated[str, typer.Argument(help="NRIC or FIN")]) -> None:
    """Print a resident's record as JSON."""
    database = Database.from_settings(get_settings().database)
    try:
        with database.transaction() as session:
            record = ResidentOut.of(service.get_resident(session, nric))
    except DomainError as error:
        console.print(f"[red]{error.message}[/red]")
        raise typer.Exit(1) from None
    console.print_json(json.dumps(record.model_dump(mode="json")))


@app.command("stats")
def stats() -> None:
    """How many residents, businesses and buildings are registered."""
    database = Database.from_settings(get_settings().database)
    with database.transaction() as session:
        counts = service.counts(session)
    console.print(
        f"{counts.residents:,} residents, {counts.businesses:,} businesses, "
        f"{counts.addresses:,} buildings"
    )

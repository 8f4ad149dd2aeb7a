"""`smartnation identity`: activation letters, relying parties, roles and signing keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from smartnation.core.audit import current_actor
from smartnation.core.config import get_settings
from smartnation.core.db import Database
from smartnation.core.errors import DomainError
from smartnation.identity import clients as client_registry
from smartnation.identity import roles as role_grants
from smartnation.identity.accounts import issue_activation_letter
from smartnation.identity.storage import load_keyring, purge_expired, rotate_keys

app = typer.Typer(
    help="National digital identity: letters, relying parties, roles, keys.", no_args_is_help=True
)
clients_app = typer.Typer(help="Relying parties (services using the login).", no_args_is_help=True)
roles_app = typer.Typer(help="Officers' roles.", no_args_is_help=True)
keys_app = typer.Typer(help="The provider's signing keys.", no_args_is_help=True)
app.add_typer(clients_app, name="clients")
app.add_typer(roles_app, name="roles")
app.add_typer(keys_app, name="keys")
console = Console()


def _database() -> Database:
    current_actor.set("cli")
    return Database.from_settings(get_settings().database)


def _fail(error: DomainError) -> None:
    problems = getattr(error, "problems", None) or []
    for problem in problems:
        console.print(f"[red]{problem.field}: {problem.message}[/red]")
    if not problems:
        console.print(f"[red]{error.message}[/red]")
    raise typer.Exit(1)


@app.command("letters")
def letters(
    nric: Annotated[list[str], typer.Argument(help="NRIC/FIN of each resident to write to.")],
) -> None:
    """Issue activation letters (a new one-time code each) and print them."""
    try:
        with _database().transaction() as session:
            for value in nric:
                letter = issue_activation_letter(session, value)
                console.print(
                    f"{letter.nric}  {letter.name}  activation code [bold]{letter.code}[/bold] "
                    f"(until {letter.expires_at_iso[:10]})"
                )
    except DomainError as error:
        _fail(error)


@clients_app.command("add")
def clients_add(
    name: Annotated[str, typer.Option(help="The service's name, shown to people.")],
    redirect_uri: Annotated[list[str], typer.Option(help="A redirect URI; repeat for more.")],
    scope: Annotated[list[str], typer.Option(help="An allowed scope; repeat for more.")],
    jwks: Annotated[Path | None, typer.Option(help="File with the public JWKS.")] = None,
    jwks_url: Annotated[str | None, typer.Option(help="Or the URL of the JWKS.")] = None,
    purpose: Annotated[str, typer.Option(help="Why it asks for data (consent page).")] = "",
    corppass: Annotated[bool, typer.Option(help="People log in for a business.")] = False,
    client_id: Annotated[str | None, typer.Option(help="A chosen client ID.")] = None,
) -> None:
    """Register a relying party and print its client ID."""
    try:
        document = client_registry.parse_jwks_text(jwks.read_text()) if jwks else None
        with _database().transaction() as session:
            client = client_registry.register_client(
                session,
                name=name,
                redirect_uris=redirect_uri,
                scopes=[s for item in scope for s in item.split()],
                jwks=document,
                jwks_uri=jwks_url,
                purpose=purpose,
                kind="corppass" if corppass else "singpass",
                client_id=client_id,
            )
            console.print(client.client_id)
    except DomainError as error:
        _fail(error)


@clients_app.command("list")
def clients_list() -> None:
    """The registered relying parties."""
    with _database().transaction() as session:
        table = Table("client_id", "name", "kind", "redirect URIs", "scopes")
        for client in client_registry.list_clients(session):
            table.add_row(
                client.client_id,
                client.name,
                client.kind,
                " ".join(client.redirect_uris),
                " ".join(client.allowed_scopes),
            )
    console.print(table)


@roles_app.command("grant")
def roles_grant(
    nric: Annotated[str, typer.Argument(help="The officer's NRIC/FIN.")],
    role: Annotated[str, typer.Argument(help="e.g. health.officer")],
    agency: Annotated[str, typer.Option(help="The agency the role is for.")] = "GovTech",
) -> None:
    """Grant a role (audited)."""
    try:
        with _database().transaction() as session:
            role_grants.grant_role(session, nric, role, agency, granted_by="cli")
    except DomainError as error:
        _fail(error)
    console.print(f"Granted {role} ({agency}) to {nric.upper()}.")


@roles_app.command("revoke")
def roles_revoke(
    nric: Annotated[str, typer.Argument(help="The officer's NRIC/FIN.")],
    role: Annotated[str, typer.Argument(help="e.g. health.officer")],
    agency: Annotated[str, typer.Option(help="The agency the role is for.")] = "GovTech",
) -> None:
    """Revoke a role (audited)."""
    try:
        with _database().transaction() as session:
            role_grants.revoke_role(session, nric, role, agency)
    except DomainError as error:
        _fail(error)
    console.print(f"Revoked {role} ({agency}) from {nric.upper()}.")


@roles_app.command("list")
def roles_list() -> None:
    """Every active role grant, and the roles that exist."""
    with _database().transaction() as session:
        grants = role_grants.list_grants(session)
    table = Table("NRIC/FIN", "role", "agency", "granted by", "granted at")
    for grant in grants:
        table.add_row(grant.nric, grant.role, grant.agency, grant.granted_by, grant.granted_at)
    console.print(table)
    console.print("Roles: " + ", ".join(role_grants.ROLES))


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Promote the next signing key; keep the old one published for verification."""
    with _database().transaction() as session:
        ring = rotate_keys(session)
    console.print(f"Current signing key: {ring.current.kid}")


@keys_app.command("show")
def keys_show() -> None:
    """The published JWKS."""
    with _database().transaction() as session:
        console.print_json(json.dumps(load_keyring(session).jwks()))


@app.command("purge")
def purge() -> None:
    """Delete expired replay entries, requests, codes, tokens and OTPs now."""
    with _database().transaction() as session:
        console.print(purge_expired(session))

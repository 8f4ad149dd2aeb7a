"""Relying parties: the services that log people in through the national login."""

from __future__ import annotations

import json
import secrets
import threading
import time
from typing import Any, Final

import httpx
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from smartnation.core import audit
from smartnation.core.clock import utcnow
from smartnation.core.errors import FieldProblem, InvalidInput, NotFound
from smartnation.core.i18n import N_
from smartnation.identity.models import Client
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import ClientKeys, fetch_client_jwks, validate_client_jwks
from smartnation.identity.oidc.params import (
    KNOWN_SCOPES,
    ClientRegistration,
    check_registered_redirect_uri,
)

KINDS: Final = ("singpass", "corppass")
JWKS_CACHE_SECONDS: Final = 300
_jwks_cache: dict[str, tuple[float, ClientKeys]] = {}
_jwks_lock = threading.Lock()
# Validated registered JWKS by (client_id, canonical JSON): a changed JWKS is a new entry.
_registered_cache: dict[tuple[str, str], ClientKeys] = {}


def _problem(field: str, message: str) -> InvalidInput:
    return InvalidInput(FieldProblem(field, message, "invalid"))


def register_client(
    session: Session,
    *,
    name: str,
    redirect_uris: list[str],
    scopes: list[str],
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    purpose: str = "",
    kind: str = "singpass",
    client_id: str | None = None,
) -> Client:
    """Register a relying party after checking its redirect URIs, keys and scopes."""
    name = " ".join((name or "").split())
    if not name or len(name) > 200 or not name.isprintable():
        raise _problem("name", N_("Give the service's name (at most 200 characters)."))
    if purpose and not purpose.replace("\n", " ").isprintable():
        raise _problem("purpose", N_("Use plain text for the purpose."))
    if kind not in KINDS:
        raise _problem("kind", N_("Choose SingPass or CorpPass."))
    uris = [u.strip() for u in redirect_uris if u.strip()]
    if not uris:
        raise _problem("redirect_uri", N_("At least one redirect URI is required."))
    for uri in uris:
        try:
            check_registered_redirect_uri(uri)
        except OAuthError:
            raise _problem(
                "redirect_uri",
                N_("Redirect URIs must be https URLs without fragments (http only on localhost)."),
            ) from None
    wanted = {s for s in scopes if s} | {"openid"}
    unknown = wanted - KNOWN_SCOPES
    if unknown:
        raise _problem("scope", N_("Unknown scopes: ") + " ".join(sorted(unknown)))
    if (jwks is None) == (jwks_uri is None):
        raise _problem("jwks", N_("Give either a JWKS or a JWKS URL, not both."))
    if jwks is not None:
        try:
            validate_client_jwks(jwks)
        except OAuthError as error:
            raise _problem("jwks", error.description) from None
    if jwks_uri is not None and not jwks_uri.isprintable():
        raise _problem("jwks_uri", N_("The JWKS URL must use https."))
    if jwks_uri is not None and not jwks_uri.startswith(
        ("https://", "http://127.0.0.1", "http://localhost")
    ):
        raise _problem("jwks_uri", N_("The JWKS URL must use https."))
    if client_id is not None and session.scalar(
        select(Client).where(Client.client_id == client_id)
    ):
        raise _problem("client_id", N_("This client ID is taken."))
    client = Client(
        client_id=client_id or secrets.token_urlsafe(24),
        name=name,
        purpose=(purpose or "").strip()[:500],
        kind=kind,
        redirect_uris=uris,
        jwks=jwks,
        jwks_uri=jwks_uri,
        allowed_scopes=sorted(wanted),
        created_at=utcnow(),
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        "identity.client.registered",
        subject_type="identity_client",
        subject_id=client.client_id,
        details={"name": name, "kind": kind, "redirect_uris": uris, "scopes": sorted(wanted)},
    )
    return client


def list_clients(session: Session) -> list[Client]:
    return list(session.scalars(select(Client).order_by(Client.created_at.desc(), Client.id)))


# Built once: looked up on every PAR, token and login page.
_CLIENT_BY_ID: Final = select(Client).where(Client.client_id == bindparam("client_id"))


def find_client(session: Session, client_id: str) -> Client | None:
    # Client IDs come from unverified assertion claims: anything unprintable (a NUL byte would
    # be refused by PostgreSQL itself) cannot be a registered ID.
    if not client_id or len(client_id) > 64 or not client_id.isprintable():
        return None
    client = session.scalar(_CLIENT_BY_ID, {"client_id": client_id})
    return client if client is not None and client.disabled_at is None else None


def get_client(session: Session, client_id: str) -> Client:
    client = find_client(session, client_id)
    if client is None:
        raise NotFound(N_("No such service is registered."))
    return client


def disable_client(session: Session, client_id: str) -> None:
    client = get_client(session, client_id)
    client.disabled_at = utcnow()
    session.flush()
    audit.record(
        session, "identity.client.disabled", subject_type="identity_client", subject_id=client_id
    )


def registration(client: Client) -> ClientRegistration:
    return ClientRegistration(
        client_id=client.client_id,
        redirect_uris=tuple(client.redirect_uris),
        allowed_scopes=frozenset(client.allowed_scopes),
    )


def _fetch(url: str) -> bytes:
    with httpx.Client(timeout=5.0, follow_redirects=False) as http:
        response = http.get(url, headers={"accept": "application/json"})
        response.raise_for_status()
        return response.content


def client_keys(client: Client, *, allow_http_localhost: bool) -> ClientKeys:
    """The client's validated keys: its registered JWKS, or its JWKS URL (cached 5 minutes)."""
    if client.jwks is not None:
        fingerprint = (client.client_id, json.dumps(client.jwks, sort_keys=True))
        with _jwks_lock:
            known = _registered_cache.get(fingerprint)
        if known is None:
            known = validate_client_jwks(client.jwks)
            with _jwks_lock:
                if len(_registered_cache) > 1000:
                    _registered_cache.clear()
                _registered_cache[fingerprint] = known
        return known
    uri = client.jwks_uri or ""
    with _jwks_lock:
        cached = _jwks_cache.get(uri)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    keys = fetch_client_jwks(uri, _fetch, allow_http_localhost=allow_http_localhost)
    with _jwks_lock:
        _jwks_cache[uri] = (time.monotonic() + JWKS_CACHE_SECONDS, keys)
    return keys


def parse_jwks_text(text: str) -> dict[str, Any]:
    """A JWKS pasted into a form or read from a file."""
    try:
        value = json.loads(text)
    except ValueError:
        raise _problem("jwks", N_("The JWKS is not valid JSON.")) from None
    if not isinstance(value, dict):
        raise _problem("jwks", N_("The JWKS must be a JSON object with a keys array."))
    return value

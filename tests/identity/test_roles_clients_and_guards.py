"""Roles reach the session principal; clients are checked at registration; every route of the
whole application is public or role-guarded, and every form POST checks CSRF."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from smartnation.core.audit import AuditEvent
from smartnation.core.errors import Conflict, InvalidInput, NotFound
from smartnation.core.web.auth import public
from smartnation.core.web.csrf import verify_csrf
from smartnation.identity import clients, roles
from smartnation.identity.demo import PASSWORD
from smartnation.identity.storage import load_keyring

from .flow_support import CSRF


def test_grant_and_revoke_roles_audited(personas):
    with personas.transaction() as session:
        roles.grant_role(session, "S7512345J", "vaccination.staff", "MOH", granted_by="test")
        with pytest.raises(Conflict):
            roles.grant_role(session, "S7512345J", "vaccination.staff", "MOH", granted_by="t")
        with pytest.raises(InvalidInput):
            roles.grant_role(session, "S7512345J", "wizard", "MOH", granted_by="t")
        account_roles = {g.role for g in roles.list_grants(session) if g.nric == "S7512345J"}
        assert account_roles == {"vaccination.staff"}
        roles.revoke_role(session, "S7512345J", "vaccination.staff", "MOH")
        with pytest.raises(NotFound):
            roles.revoke_role(session, "S7512345J", "vaccination.staff", "MOH")
        actions = set(session.scalars(sa.select(AuditEvent.action)))
        assert {"identity.role.granted", "identity.role.revoked"} <= actions


def test_platform_login_puts_roles_in_the_session_and_guards_admin_pages(personas, app):
    with TestClient(app) as http:
        assert (
            http.get("/identity/roles", follow_redirects=False)
            .headers["location"]
            .startswith("/login")
        )
        page = http.get("/login?next=/identity/roles")
        token = CSRF.search(page.text).group(1)
        http.post(
            "/id/auth/password",
            data={"csrf_token": token, "nric": "S6512345B", "password": PASSWORD},
            follow_redirects=False,
        )
        choice = http.get("/id/auth/factor").text
        factor_id = choice.split('name="factor_id" value="')[2].split('"')[0]
        http.post("/id/auth/factor", data={"csrf_token": token, "factor_id": factor_id})
        code = pyotp.TOTP("MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK").now()
        done = http.post(
            "/id/auth/verify", data={"csrf_token": token, "code": code}, follow_redirects=False
        )
        assert done.headers["location"] == "/identity/roles"
        page = http.get("/identity/roles")
        assert page.status_code == 200 and "SITI BINTE HASSAN" in page.text
        grant = http.post(
            "/identity/roles",
            data={
                "csrf_token": token,
                "nric": "S7512345J",
                "role": "health.officer",
                "agency": "MOH",
            },
        )
        assert grant.status_code == 200 and "S7512345J" in grant.text
        bad = http.post(
            "/identity/roles",
            data={
                "csrf_token": token,
                "nric": "S1234567X",
                "role": "health.officer",
                "agency": "MOH",
            },
        )
        assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
        http.post("/logout", data={"csrf_token": token})
        assert http.get("/identity/roles", follow_redirects=False).status_code == 303


def test_officer_without_the_role_is_refused(personas, app):
    with TestClient(app) as http:
        page = http.get("/login")
        token = CSRF.search(page.text).group(1)
        http.post(
            "/id/auth/password",
            data={"csrf_token": token, "nric": "G5123456T", "password": PASSWORD},
            follow_redirects=False,
        )
        choice = http.get("/id/auth/factor").text
        factor_id = choice.split('name="factor_id" value="')[2].split('"')[0]
        http.post("/id/auth/factor", data={"csrf_token": token, "factor_id": factor_id})
        code = pyotp.TOTP("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU").now()
        http.post("/id/auth/verify", data={"csrf_token": token, "code": code})
        assert http.get("/identity/clients").status_code == 403
        assert http.get("/identity/account").status_code == 200


def test_client_registration_rules(session):
    good = {
        "keys": [
            {
                "kty": "EC",
                "crv": "P-256",
                "kid": "a",
                "use": "sig",
                "alg": "ES256",
                "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            },
        ]
    }
    with pytest.raises(InvalidInput) as no_enc:
        clients.register_client(
            session, name="x", redirect_uris=["https://a.example/cb"], scopes=["openid"], jwks=good
        )
    assert "enc" in no_enc.value.problems[0].message
    with pytest.raises(InvalidInput):
        clients.register_client(
            session,
            name="x",
            redirect_uris=["http://a.example/cb"],
            scopes=["openid"],
            jwks_uri="https://a.example/jwks",
        )
    with pytest.raises(InvalidInput):
        clients.register_client(
            session,
            name="x",
            redirect_uris=["https://a.example/cb"],
            scopes=["openid", "everything"],
            jwks_uri="https://a.example/j",
        )
    made = clients.register_client(
        session,
        name="A service",
        redirect_uris=["https://a.example/cb"],
        scopes=["openid", "name"],
        jwks_uri="https://a.example/jwks",
    )
    assert made.allowed_scopes == ["name", "openid"] and len(made.client_id) >= 24


def _walk(routes, inherited=()):  # type: ignore[no-untyped-def]
    """Every APIRoute, including those inside included routers (FastAPI includes lazily)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _walk(route.original_router.routes)


def _calls(route: APIRoute) -> list[object]:
    calls, stack = [], list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        calls.append(dependant.call)
        stack.extend(dependant.dependencies)
    return calls


def test_every_route_in_the_app_is_public_or_role_guarded(app: FastAPI):
    routes = list(_walk(app.routes))
    assert any(r.path == "/id/token" for r in routes)
    unguarded = [
        f"{sorted(r.methods)} {r.path}"
        for r in routes
        if not any(c is public or hasattr(c, "required_roles") for c in _calls(r))
    ]
    assert unguarded == []


def test_every_form_post_checks_csrf(app: FastAPI):
    protocol = {"/id/par", "/id/token"}
    missing = [
        r.path
        for r in _walk(app.routes)
        if "POST" in r.methods
        and not r.path.startswith("/api/")
        and r.path not in protocol
        and verify_csrf not in _calls(r)
    ]
    assert missing == []


def test_keys_are_created_on_first_use_and_rotate_with_overlap(session):
    from smartnation.identity.storage import rotate_keys

    first = load_keyring(session)
    assert {k.state for k in first.keys} == {"current", "next"}
    rotated = rotate_keys(session)
    assert rotated.current.kid == next(k.kid for k in first.keys if k.state == "next")
    assert rotated.by_kid(first.current.kid).state == "previous"  # still verifies old tokens
    assert load_keyring(session).current.kid == rotated.current.kid
    assert len(load_keyring(session).jwks()["keys"]) == 3


def test_the_key_ring_is_read_again_only_after_the_recheck_time(session, monkeypatch):
    from smartnation.identity import storage

    load_keyring(session)  # created
    ring = load_keyring(session)  # read back
    statements: list[str] = []
    bind = session.connection()
    sa.event.listen(bind, "before_cursor_execute", lambda *a: statements.append(a[2]))
    assert load_keyring(session) is ring and statements == []  # within the time: no query
    now = storage.time.monotonic()
    monkeypatch.setattr(storage.time, "monotonic", lambda: now + storage.RING_RECHECK_SECONDS)
    assert load_keyring(session).current.kid == ring.current.kid
    assert len(statements) == 1  # asked again, found the same keys (parsed ones reused)
    rotated = storage.rotate_keys(session)
    assert load_keyring(session).current.kid == rotated.current.kid  # this process: at once


def test_every_role_a_route_requires_can_be_granted(app: FastAPI):
    required = {
        role
        for route in _walk(app.routes)
        for call in _calls(route)
        for role in getattr(call, "required_roles", ())
    }
    assert "messaging.officer" in required
    assert required - set(roles.ROLES) == set()


def test_demo_officers_hold_the_roles_other_domains_check(personas):
    with personas.transaction() as session:
        held: dict[str, set[str]] = {}
        for grant in roles.list_grants(session):
            held.setdefault(grant.nric, set()).add(grant.role)
    assert held["S8212345H"] == {"messaging.officer"}
    assert held["S9012345I"] >= {"messaging.approver", "community.staff"}
    assert held["S8312345A"] >= {"vaccination.staff"}
    assert held["S8412345E"] >= {"community.staff"}
    assert held["S7812345A"] >= {"health.officer"}

"""API tokens: bearer tokens admit machine clients; each process remembers a verified token briefly."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from smartnation.core.clock import utcnow
from smartnation.core.db import Database
from smartnation.core.web.auth import ApiToken, issue_api_token


def test_a_token_is_looked_up_once_and_a_revoked_one_refused_once_forgotten(
    app: FastAPI, client: TestClient, database: Database
) -> None:
    with database.transaction() as session:
        secret = issue_api_token(session, "MOH system", ["registry.read"])
    headers = {"authorization": f"Bearer {secret}"}
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(database.engine, "before_cursor_execute", count)
    try:
        assert client.get("/api/v1/registry/stats", headers=headers).status_code == 200
        for _ in range(3):
            response = client.get("/api/v1/registry/residents/S1234567D", headers=headers)
            assert response.status_code == 404  # admitted; nobody has that NRIC
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count)
    assert sum("core_api_token" in s for s in statements) <= 1

    with database.transaction() as session:
        session.execute(sa.update(ApiToken).values(revoked_at=utcnow()))
    # Within the cache time the process still admits it; once forgotten, it is refused.
    assert client.get("/api/v1/registry/stats", headers=headers).status_code == 200
    app.state.api_token_cache.entries.clear()
    response = client.get("/api/v1/registry/residents/S1234567D", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_unknown_and_malformed_tokens_are_refused(client: TestClient) -> None:
    for header in ("Bearer sn_nothing", "Bearer", "Basic abc", "sn_x", "Bearer sn_" + "x" * 5000):
        response = client.get(
            "/api/v1/registry/residents/S1234567D", headers={"authorization": header}
        )
        assert response.status_code == 401, header
        assert response.headers["content-type"] == "application/problem+json"

"""Schemathesis against our own OpenAPI document: generated requests, valid and invalid, to every
operation, with and without a valid API token. No answer may be a server error, and every error
answer must be a problem document (RFC 9457), so that a client always learns what was wrong.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from smartnation.core.db import Database
from smartnation.core.web.auth import issue_api_token
from smartnation.registry.loader import load_businesses, load_population

EXAMPLES = 8


def _problem(response: Any, path: str = "") -> str | None:
    """Why this response breaks the rules, or None if it keeps them."""
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if path.startswith("/id/"):
        # The OpenID provider answers as the OAuth specifications say: {error, error_description}.
        body = json.loads(response.content)
        if not content_type.startswith("application/json") or not body.get("error"):
            return f"OAuth error {response.status_code} without an `error` member: {body!r}"
        return None
    if not content_type.startswith("application/problem+json"):
        return f"error {response.status_code} answered as {content_type!r}, not problem+json"
    body = json.loads(response.content)
    if (
        not isinstance(body, dict)
        or body.get("status") != response.status_code
        or not body.get("title")
    ):
        return f"error {response.status_code} with a malformed problem document: {body!r}"
    return None


@pytest.fixture
def api_token(database: Database) -> str:
    load_population(database, 60, seed=2, workers=0)
    load_businesses(database, 3, seed=2)
    with database.transaction() as session:
        return issue_api_token(session, "fuzz", ["registry.read", "registry.write"])


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "token"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_bad_input_with_a_problem_document(
    app: Any, api_token: str, authenticated: bool, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {"authorization": f"Bearer {api_token}"} if authenticated else {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    failures: list[str] = []
    exercised = 0
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy, data=st.data())
        def run(case: Any, data: Any) -> None:
            response = case.call(headers=headers)
            problem = _problem(response, case.operation.path)
            if problem:
                failures.append(
                    f"{case.operation.label}: {problem}\n  request: {case.method} {case.formatted_path} "
                    f"query={case.query!r} body={getattr(case, 'body', None)!r}"
                )

        try:
            run()
            exercised += 1
        except Unsatisfiable:
            # Nothing this operation takes can break its schema (no input, or any string).
            assert mode == GenerationMode.NEGATIVE, operation.label
    assert exercised >= 1
    assert not failures, "\n".join(dict.fromkeys(failures))

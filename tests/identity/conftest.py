"""Identity test fixtures: the demo personas, and helpers to drive the login pages."""

from __future__ import annotations

import re

import pytest

from smartnation.core.db import Database
from smartnation.identity.demo import load_demo


@pytest.fixture
def personas(database: Database) -> Database:
    """The demo personas (accounts, factors, roles, a business) in the test's transaction."""
    load_demo(database, 1)
    return database


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf token on the page"
    return match.group(1)

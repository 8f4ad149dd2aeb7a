from __future__ import annotations

import pytest

from smartnation.identity.oidc.replay import InMemoryReplayGuard

from ._support import NOW, RelyingParty


@pytest.fixture
def rp() -> RelyingParty:
    return RelyingParty()


@pytest.fixture
def guard() -> InMemoryReplayGuard:
    return InMemoryReplayGuard(clock=lambda: NOW)

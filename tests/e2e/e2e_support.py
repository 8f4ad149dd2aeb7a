"""Helpers of the browser tests: the session cookie a login sets, and axe-core's checks."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from itsdangerous import TimestampSigner

ROOT = Path(__file__).resolve().parents[2]
SECRET = "e2e-secret-key"
SESSION_COOKIE = "smartnation_session"


def session_cookie(principal: dict[str, Any]) -> str:
    """The signed session cookie a login would set (Starlette's SessionMiddleware format)."""
    data = base64.b64encode(json.dumps({"principal": principal}).encode())
    return TimestampSigner(SECRET).sign(data).decode()


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Accessibility problems axe-core finds on the page (WCAG 2.x A and AA rules)."""
    source = (ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text()
    page.evaluate(source)
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa']})"
    )
    return [f"{v['id']}: {v['help']}" for v in result["violations"] if v.get("impact") in impacts]

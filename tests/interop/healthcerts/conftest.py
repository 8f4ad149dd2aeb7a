from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_PROJECT = Path(__file__).parent
FIXTURES = Path(__file__).parents[3] / ".." / "shared" / "fixtures" / "healthcerts"
PRIVATE_KEY = "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
ADDRESS = "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1"  # address of PRIVATE_KEY
DNS_TABLE = {
    "clinic.healthcerts.example": [f"openatts a=dns-did; p=did:ethr:{ADDRESS}#controller; v=1.0;"]
}


def raw_document(**extra: Any) -> dict[str, Any]:
    """A small raw OA document issued by the test key through DNS-DID."""
    document: dict[str, Any] = {
        "$template": {
            "name": "HEALTH_CERT",
            "type": "EMBEDDED_RENDERER",
            "url": "https://r.example",
        },
        "issuers": [
            {
                "id": f"did:ethr:{ADDRESS}",
                "name": "Test Clinic",
                "revocation": {"type": "NONE"},
                "identityProof": {
                    "type": "DNS-DID",
                    "location": "clinic.healthcerts.example",
                    "key": f"did:ethr:{ADDRESS}#controller",
                },
            }
        ],
    }
    document.update(extra)
    return document


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The npm project with the reference packages, installed with `npm ci` when needed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the interop tests")
    if not (NODE_PROJECT / "node_modules" / "@govtechsg" / "oa-verify").exists():
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_PROJECT,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci failed:\n{result.stderr[-2000:]}")
    return NODE_PROJECT


def run_node(project: Path, script: str, payload: Any, timeout: float = 300) -> Any:
    """Run one of the .mjs scripts with JSON on stdin and parse its JSON output."""
    result = subprocess.run(
        ["node", script],
        cwd=project,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"{script} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parents[2] / ".." / "shared" / "fixtures" / "healthcerts"
PRIVATE_KEY = "0x" + "4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d"
ADDRESS = "0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1"  # address of PRIVATE_KEY


def fixtures_dir() -> Path:
    if not (FIXTURES / "manifest.json").exists():
        pytest.skip(f"HealthCert fixtures not found at {FIXTURES.resolve()}")
    return FIXTURES


def load_fixture(name: str) -> Any:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))


def raw_document(location: str = "clinic.healthcerts.example", **extra: Any) -> dict[str, Any]:
    """A small raw OA document issued by the test key through DNS-DID."""
    document: dict[str, Any] = {
        "id": "doc-1",
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
                    "location": location,
                    "key": f"did:ethr:{ADDRESS}#controller",
                },
            }
        ],
    }
    document.update(extra)
    return document


DNS_TABLE = {
    "clinic.healthcerts.example": [f"openatts a=dns-did; p=did:ethr:{ADDRESS}#controller; v=1.0;"]
}

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def node_project() -> Path:
    """The npm project with openid-client installed (npm ci on first use)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the openid-client interop tests")
    if not (HERE / "node_modules" / "openid-client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=HERE,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return HERE


@pytest.fixture(scope="session")
def client_keys(node_project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Client keys made by make_client_keys.mjs: the private file and the public JWKS."""
    folder = tmp_path_factory.mktemp("client-keys")
    private, public = folder / "private.jwks.json", folder / "public.jwks.json"
    subprocess.run(
        ["node", "make_client_keys.mjs", str(private), str(public)],
        cwd=node_project,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return private, json.loads(public.read_text())

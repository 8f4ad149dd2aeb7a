"""openid-client (rp.mjs, network mode) against a real `smartnation serve`: discovery, PAR with
DPoP, the login pages driven by plain form posts, code exchange with private_key_jwt and DPoP,
the encrypted ID token and userinfo; and the refusals, each with the error the RFCs name."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from live_server import LiveServer, running_platform

from .page_login import login

pytestmark = pytest.mark.interop
HERE = Path(__file__).parent
CLIENT_ID = "interopLiveClient0123456789abcd"
REDIRECT_URI = "http://localhost:3080/callback"
CITIZEN = {"nric": "S8012345J", "password": "Demo-Pass-2026", "phone": "+6591234501"}
# Another persona for the refusals: SMS codes are limited to 5 per person per 15 minutes.
PR = {"nric": "S7512345J", "password": "Demo-Pass-2026", "phone": "+6591234502"}
SCOPES = "openid user.identity name email mobileno uinfin dob regadd sex"


@pytest.fixture(scope="module")
def live(
    node_project: Path,
    client_keys: tuple[Path, dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live-identity")
    public = folder / "public.jwks.json"
    public.write_text(json.dumps(client_keys[1]))
    with running_platform(folder) as server:
        server.cli(
            "identity",
            "clients",
            "add",
            "--name",
            "Interop test service",
            "--client-id",
            CLIENT_ID,
            "--redirect-uri",
            REDIRECT_URI,
            "--jwks",
            str(public),
            "--purpose",
            "To check the login works end to end",
            *(arg for scope in SCOPES.split() for arg in ("--scope", scope)),
        )
        yield server


def run_rp(
    live: LiveServer,
    keys: Path,
    mode: str = "flow",
    consent: bool = True,
    person: dict | None = None,
) -> dict[str, Any]:
    person = person or CITIZEN
    process = subprocess.Popen(
        [
            "node",
            "rp.mjs",
            "--insecure",
            "--mode",
            mode,
            "--issuer",
            f"{live.base_url}/id",
            "--client-id",
            CLIENT_ID,
            "--keys",
            str(keys),
            "--redirect-uri",
            REDIRECT_URI,
            "--scope",
            SCOPES,
        ],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin and process.stdout and process.stderr
    try:
        url = None
        for line in process.stderr:
            if line.startswith("http"):
                url = line.strip()
                break
        if url is not None:
            with httpx.Client(follow_redirects=False, timeout=30) as http:
                final = login(
                    http,
                    url,
                    nric=person["nric"],
                    password=person["password"],
                    phone=person["phone"],
                    consent=consent,
                )
            callback = final.headers["location"]
            assert callback.startswith(REDIRECT_URI), callback
            process.stdin.write(callback + "\n")
            process.stdin.flush()
        out, _ = process.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_openid_client_completes_the_whole_flow(live, client_keys):
    result = run_rp(live, client_keys[0])
    assert result["ok"], result
    assert result["issuer"] == f"{live.base_url}/id"
    assert result["token_type"].lower() == "dpop"
    header = result["id_token_header"]
    assert header["alg"] == "ES256" and header["kid"]
    jwks = httpx.get(f"{live.base_url}/id/jwks").json()
    assert header["kid"] == jwks["keys"][0]["kid"]  # current key first
    claims = result["id_token_claims"]
    assert claims["aud"] == CLIENT_ID
    assert claims["acr"] == "urn:singpass:authentication:loa:2"
    assert claims["amr"] == ["pwd", "otp-sms"]
    assert claims["sub"] != CITIZEN["nric"] and len(claims["sub"]) == 36
    assert claims["sub_attributes"]["identity_number"] == CITIZEN["nric"]
    assert claims["sub_attributes"]["name"] == "TAN AH KOW"
    assert claims["sub_attributes"]["account_type"] == "standard"
    person = result["userinfo"]["person_info"]
    assert person["uinfin"]["value"] == CITIZEN["nric"]
    assert person["sex"] == {
        "lastupdated": person["sex"]["lastupdated"],
        "source": "1",
        "classification": "C",
        "code": "M",
        "desc": "MALE",
    }
    assert person["dob"]["value"] == "1980-03-14"
    assert person["mobileno"]["nbr"]["value"] == "91234501"
    assert "regadd" in person
    # The same person gets the same sub on the next login.
    again = run_rp(live, client_keys[0])
    assert again["id_token_claims"]["sub"] == claims["sub"]


def test_declined_consent_returns_access_denied(live, client_keys):
    result = run_rp(live, client_keys[0], consent=False, person=PR)
    assert result["ok"] is False, result
    assert "access_denied" in json.dumps(result)


@pytest.mark.parametrize(
    ("mode", "stage", "error", "fragment"),
    [
        ("wrong-redirect", "par", "invalid_request", "redirect_uri"),
        ("replay-code", "token", "invalid_grant", "already been used"),
        ("replay-assertion", "token", "invalid_client", "already been used"),
        ("bad-dpop", "token", "invalid_dpop_proof", "htu"),
    ],
)
def test_refusals_reach_openid_client(live, client_keys, mode, stage, error, fragment):
    result = run_rp(live, client_keys[0], mode, person=PR)
    assert result["ok"] is False, result
    assert result["stage"] == stage
    returned = result["provider_error"]
    assert returned["error"] == error, result
    assert fragment in returned["error_description"]

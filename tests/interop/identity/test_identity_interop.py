"""The protocol core against the certified relying-party library, openid-client 6.x.

rp.mjs runs the whole FAPI 2.0 flow; stdio_provider answers it with the core's functions. So
openid-client's client assertions and DPoP proofs meet our verifiers, and our encrypted ID
tokens and userinfo responses meet openid-client's (jose's) decryption and verification.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smartnation.identity.oidc.keys import ProviderKeyring, validate_client_jwks

from .stdio_provider import CLIENT_ID, ISSUER, PERSON, Provider, run_rp

pytestmark = pytest.mark.interop


@pytest.fixture
def provider(client_keys: tuple[Path, dict[str, Any]]) -> Provider:
    return Provider(client_keys=validate_client_jwks(client_keys[1]))


def test_generated_client_keys_pass_registration_rules(client_keys):
    _, public = client_keys
    keys = validate_client_jwks(public)
    assert len(keys.signing) == 1 and len(keys.encryption) == 1
    assert all("d" not in k for k in public["keys"])


def test_whole_flow(client_keys, provider):
    result = run_rp(client_keys[0], provider)
    assert result["ok"], result
    assert provider.log == []
    assert result["issuer"] == ISSUER
    assert result["token_type"].lower() == "dpop"
    assert result["id_token_header"]["alg"] == "ES256"
    assert result["id_token_header"]["kid"] == provider.ring.current.kid
    claims = result["id_token_claims"]
    assert claims["sub"] == PERSON.sub and claims["aud"] == CLIENT_ID
    assert claims["acr"] == "urn:singpass:authentication:loa:2"
    assert claims["sub_attributes"]["identity_number"] == PERSON.identity_number
    assert claims["sub_attributes"]["mobileno"] == PERSON.mobileno
    assert result["userinfo"]["person_info"]["uinfin"]["value"] == PERSON.identity_number
    # openid-client verified the inner signature against our published keys.
    assert f"GET {ISSUER}/.well-known/keys" in provider.requests
    # The access token is bound to the DPoP key openid-client generated.
    (record,) = provider.access_tokens.values()
    assert record.jkt == result["dpop_jkt"]


@pytest.mark.parametrize(
    ("mode", "stage", "error", "fragment"),
    [
        ("wrong-redirect", "par", "invalid_request", "redirect_uri"),
        ("replay-code", "token", "invalid_grant", "already been used"),
        ("replay-assertion", "token", "invalid_client", "already been used"),
        ("bad-dpop", "token", "invalid_dpop_proof", "htu"),
    ],
)
def test_refusals_reach_the_relying_party(client_keys, provider, mode, stage, error, fragment):
    result = run_rp(client_keys[0], provider, mode)
    assert result["ok"] is False, result
    assert result["stage"] == stage
    returned = result["provider_error"]
    assert returned["error"] == error, result
    assert fragment in returned["error_description"]


def test_id_token_signed_by_an_unpublished_key_is_rejected_by_the_rp(client_keys, provider):
    provider.published = ProviderKeyring.generate()
    result = run_rp(client_keys[0], provider)
    assert result["ok"] is False and result["stage"] == "token", result
    # Refused by openid-client itself, not by our provider.
    assert provider.log == []
    assert "key" in result["rp_error"]["message"].lower(), result

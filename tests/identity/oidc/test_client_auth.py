from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from smartnation.identity.oidc.client_auth import (
    CLIENT_ASSERTION_TYPE,
    authenticate_client,
    verify_client_assertion,
)
from smartnation.identity.oidc.errors import OAuthError

from ._support import CLIENT_ID, ISSUER, NOW, PAR_URL, TOKEN_URL, RelyingParty, T


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def verify(rp: RelyingParty, guard, assertion: str):  # type: ignore[no-untyped-def]
    return verify_client_assertion(
        assertion,
        client_id=rp.client_id,
        client_keys=rp.keys(),
        issuer=ISSUER,
        replay_guard=guard,
        now=NOW,
    )


def refused(rp: RelyingParty, guard, assertion: str, match: str) -> OAuthError:  # type: ignore[no-untyped-def]
    with pytest.raises(OAuthError, match=match) as info:
        verify(rp, guard, assertion)
    assert info.value.error == "invalid_client"
    assert info.value.status == 401
    return info.value


def test_valid_assertion_is_accepted(rp, guard):
    client = verify(rp, guard, rp.assertion())
    assert client.client_id == CLIENT_ID
    assert client.kid == "sig-1"


@pytest.mark.parametrize("curve", ["P-384", "P-521"])
def test_es384_and_es512_are_accepted(curve, guard):
    rp = RelyingParty(curve=curve)
    assert verify(rp, guard, rp.assertion()).client_id == CLIENT_ID


def test_aud_as_single_element_array_is_accepted(rp, guard):
    verify(rp, guard, rp.assertion(aud=[ISSUER]))


def test_replayed_jti_is_refused(rp, guard):
    assertion = rp.assertion(jti="once-only")
    verify(rp, guard, assertion)
    refused(rp, guard, assertion, "already been used")
    # A fresh assertion reusing the jti is a replay too.
    refused(rp, guard, rp.assertion(jti="once-only"), "already been used")


def test_same_jti_from_another_client_is_independent(guard):
    first, second = RelyingParty("client-a"), RelyingParty("client-b")
    verify(first, guard, first.assertion(jti="shared"))
    verify(second, guard, second.assertion(jti="shared"))


def test_expired_assertion_is_refused(rp, guard):
    refused(rp, guard, rp.assertion(iat=T - 200, exp=T - 100), "expired")


def test_future_dated_assertion_is_refused(rp, guard):
    refused(rp, guard, rp.assertion(iat=T + 300, exp=T + 360), "future")


def test_small_clock_skew_is_tolerated(rp, guard):
    verify(rp, guard, rp.assertion(iat=T + 10, exp=T + 70))


def test_lifetime_over_120_seconds_is_refused(rp, guard):
    refused(rp, guard, rp.assertion(iat=T, exp=T + 121), "lifetime")


def test_exp_before_iat_is_refused(rp, guard):
    refused(rp, guard, rp.assertion(iat=T, exp=T - 1), "after iat")


@pytest.mark.parametrize("missing", ["iat", "exp", "jti", "aud", "sub"])
def test_missing_claims_are_refused(rp, guard, missing):
    refused(rp, guard, rp.assertion(**{missing: None}), missing)


@pytest.mark.parametrize(
    "aud",
    [TOKEN_URL, PAR_URL, "https://evil.example/id", [ISSUER, "https://evil.example"], ISSUER + "/"],
)
def test_wrong_audience_is_refused(rp, guard, aud):
    refused(rp, guard, rp.assertion(aud=aud), "aud")


def test_iss_and_sub_must_equal_client_id(rp, guard):
    refused(rp, guard, rp.assertion(sub="someone-else"), "iss and sub")
    refused(rp, guard, rp.assertion(iss="someone-else"), "iss and sub")


def test_alg_none_is_refused(rp, guard):
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "iat": T,
        "exp": T + 60,
        "jti": "x",
    }
    token = _b64({"alg": "none", "kid": "sig-1"}) + "." + _b64(claims) + "."
    refused(rp, guard, token, "not allowed")


def test_hs256_signed_with_the_public_key_is_refused(rp, guard):
    # The classic confusion: the attacker HMACs with the client's public key as the secret.
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "iat": T,
        "exp": T + 60,
        "jti": "x",
    }
    for secret in (rp.sig.as_pem(private=False), json.dumps(rp.public_jwks()["keys"][0]).encode()):
        signing_input = _b64({"alg": "HS256", "kid": "sig-1"}) + "." + _b64(claims)
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
        refused(rp, guard, token, "not allowed")


def test_rsa_signed_assertion_is_refused(rp, guard):
    rsa = RSAKey.generate_key(2048, private=True)
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "iat": T,
        "exp": T + 60,
        "jti": "x",
    }
    for alg in ("RS256", "PS256"):
        token = jwt.encode({"alg": alg, "kid": "sig-1"}, claims, rsa, algorithms=[alg])
        refused(rp, guard, token, "not allowed")


def test_signature_by_another_key_is_refused(rp, guard):
    impostor = RelyingParty()
    refused(rp, guard, impostor.assertion(), "signature")


def test_unknown_kid_is_refused(rp, guard):
    refused(rp, guard, rp.assertion(header={"kid": "nope"}), "kid")


def test_enc_key_cannot_sign_assertions(rp, guard):
    # Same kid namespace, but enc keys never verify signatures.
    refused(rp, guard, rp.assertion(header={"kid": "enc-1"}), "kid")


def test_alg_curve_mismatch_is_refused(rp, guard):
    # ES384 header over a P-256 key.
    token = rp.assertion()
    header, rest = token.split(".", 1)
    forged = _b64({"alg": "ES384", "kid": "sig-1"}) + "." + rest
    refused(rp, guard, forged, "curve")
    del header


def test_refused_assertion_does_not_burn_the_jti(rp, guard):
    refused(rp, guard, rp.assertion(jti="j1", aud=TOKEN_URL), "aud")
    verify(rp, guard, rp.assertion(jti="j1"))


class TestAuthenticateClient:
    def lookup(self, rp: RelyingParty):  # type: ignore[no-untyped-def]
        keys = rp.keys()
        return lambda client_id: keys if client_id == rp.client_id else None

    def test_form_authentication(self, rp, guard):
        params = {**rp.auth_params(), "client_id": CLIENT_ID}
        client = authenticate_client(
            params, issuer=ISSUER, lookup=self.lookup(rp), replay_guard=guard, now=NOW
        )
        assert client.client_id == CLIENT_ID

    def test_wrong_assertion_type(self, rp, guard):
        params = {**rp.auth_params(), "client_assertion_type": "bearer"}
        with pytest.raises(OAuthError, match="client_assertion_type"):
            authenticate_client(params, issuer=ISSUER, lookup=self.lookup(rp), replay_guard=guard)

    def test_client_id_mismatch(self, rp, guard):
        params = {**rp.auth_params(), "client_id": "other"}
        with pytest.raises(OAuthError, match="does not match"):
            authenticate_client(params, issuer=ISSUER, lookup=self.lookup(rp), replay_guard=guard)

    def test_unknown_client(self, guard):
        stranger = RelyingParty("stranger")
        with pytest.raises(OAuthError, match="unknown client"):
            authenticate_client(
                stranger.auth_params(),
                issuer=ISSUER,
                lookup=lambda _cid: None,
                replay_guard=guard,
                now=NOW,
            )

    def test_missing_assertion(self, rp, guard):
        params = {"client_assertion_type": CLIENT_ASSERTION_TYPE}
        with pytest.raises(OAuthError) as info:
            authenticate_client(params, issuer=ISSUER, lookup=self.lookup(rp), replay_guard=guard)
        assert info.value.error == "invalid_client"


def test_single_key_without_kid_is_used(guard):
    rp = RelyingParty()
    header = {"alg": "ES256", "typ": "JWT"}
    claims = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": ISSUER,
        "iat": T,
        "exp": T + 60,
        "jti": "k",
    }
    token = jwt.encode(header, claims, rp.sig, algorithms=["ES256"])
    verify(rp, guard, token)
    assert isinstance(rp.sig, ECKey)

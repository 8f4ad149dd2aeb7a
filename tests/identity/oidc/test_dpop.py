from __future__ import annotations

import hashlib
import json

import pytest
from joserfc.jwk import ECKey, RSAKey

from smartnation.identity.oidc._compact import b64url_encode
from smartnation.identity.oidc.dpop import (
    HmacDPoPNonces,
    access_token_hash,
    check_code_binding,
    check_par_dpop_jkt,
    check_token_binding,
    jwk_thumbprint,
    normalise_htu,
    verify_dpop_proof,
)
from smartnation.identity.oidc.errors import OAuthError

from ._support import NOW, PAR_URL, TOKEN_URL, USERINFO_URL, RelyingParty, T

ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"


def verify(proof, guard, **kwargs):  # type: ignore[no-untyped-def]
    kwargs.setdefault("htm", "POST")
    kwargs.setdefault("htu", TOKEN_URL)
    return verify_dpop_proof(proof, replay_guard=guard, now=NOW, **kwargs)


def refused(proof, guard, match, **kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(OAuthError, match=match) as info:
        verify(proof, guard, **kwargs)
    return info.value


def test_valid_proof_gives_the_key_thumbprint(rp, guard):
    result = verify(rp.proof(), guard)
    assert result.jkt == rp.dpop.thumbprint()
    assert "d" not in result.public_jwk


def test_thumbprint_is_rfc7638(rp):
    jwk = rp.dpop.as_dict(private=False)
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    assert jwk_thumbprint(jwk) == b64url_encode(hashlib.sha256(canonical.encode()).digest())


def test_ath_is_sha256_of_the_token():
    # RFC 9449 section 7.1 example.
    assert access_token_hash(ACCESS_TOKEN) == "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"


def test_wrong_htm_is_refused(rp, guard):
    error = refused(rp.proof(htm="GET"), guard, "htm")
    assert error.error == "invalid_dpop_proof" and error.status == 400


def test_wrong_htu_is_refused(rp, guard):
    refused(rp.proof(htu=PAR_URL), guard, "htu")
    refused(rp.proof(htu="https://evil.example/id/token"), guard, "htu")


def test_htu_compared_without_query_fragment_and_with_normalised_host(rp, guard):
    verify(rp.proof(htu=TOKEN_URL + "?x=1#frag"), guard)
    verify(rp.proof(htu=TOKEN_URL.replace("https://id.", "HTTPS://ID.")), guard)
    verify(rp.proof(htu=TOKEN_URL.replace(".example/", ".example:443/")), guard)
    assert normalise_htu("https://a.example") == "https://a.example/"


def test_old_proof_is_refused(rp, guard):
    refused(rp.proof(iat=T - 61), guard, "too old")


def test_future_proof_is_refused(rp, guard):
    refused(rp.proof(iat=T + 31), guard, "future")


def test_replayed_proof_is_refused(rp, guard):
    proof = rp.proof()
    verify(proof, guard)
    refused(proof, guard, "already been used")


def test_missing_claims_are_refused(rp, guard):
    for claim in ("jti", "htm", "htu", "iat"):
        refused(rp.proof(**{claim: None}), guard, claim)


def test_wrong_typ_is_refused(rp, guard):
    refused(rp.proof(header={"typ": "JWT"}), guard, "typ")


def test_private_key_in_header_is_refused(rp, guard):
    refused(rp.proof(header={"jwk": rp.dpop.as_dict(private=True)}), guard, "private")


def test_missing_jwk_is_refused(rp, guard):
    proof = rp.proof(header={"jwk": None})
    refused(proof, guard, "jwk")


def test_jwk_that_did_not_sign_is_refused(rp, guard):
    other = ECKey.generate_key("P-256", private=True)
    refused(rp.proof(header={"jwk": other.as_dict(private=False)}), guard, "signature")


def test_rsa_and_hmac_algorithms_are_refused(rp, guard):
    rsa = RSAKey.generate_key(2048, private=True)
    refused(rp.proof(key=rsa, alg="PS256"), guard, "not allowed")  # type: ignore[arg-type]
    refused(rp.proof(key=rsa, alg="RS256"), guard, "not allowed")  # type: ignore[arg-type]


def test_es384_proof_is_accepted(guard):
    rp = RelyingParty()
    key = ECKey.generate_key("P-384", private=True)
    assert verify(rp.proof(key=key, alg="ES384"), guard).jkt == key.thumbprint()


class TestResourceRequests:
    def test_valid_with_ath(self, rp, guard):
        proof = rp.proof(htm="GET", htu=USERINFO_URL, ath=access_token_hash(ACCESS_TOKEN))
        verify(proof, guard, htm="GET", htu=USERINFO_URL, access_token=ACCESS_TOKEN)

    def test_missing_ath_is_refused(self, rp, guard):
        error = refused(
            rp.proof(htm="GET", htu=USERINFO_URL),
            guard,
            "ath is required",
            htm="GET",
            htu=USERINFO_URL,
            access_token=ACCESS_TOKEN,
        )
        assert error.status == 401
        challenge = error.headers()["WWW-Authenticate"]
        assert challenge.startswith('DPoP error="invalid_dpop_proof"')
        assert 'algs="ES256 ES384 ES512"' in challenge

    def test_ath_mismatch_is_refused(self, rp, guard):
        proof = rp.proof(htm="GET", htu=USERINFO_URL, ath=access_token_hash("another-token"))
        refused(
            proof,
            guard,
            "ath does not match",
            htm="GET",
            htu=USERINFO_URL,
            access_token=ACCESS_TOKEN,
        )

    def test_token_bound_to_another_key(self, rp, guard):
        proof = verify(rp.proof(), guard)
        with pytest.raises(OAuthError) as info:
            check_token_binding(proof, RelyingParty().dpop.thumbprint())
        assert info.value.error == "invalid_token" and info.value.status == 401
        check_token_binding(proof, rp.dpop.thumbprint())


class TestNonces:
    def test_missing_nonce_asks_for_one(self, rp, guard):
        nonces = HmacDPoPNonces(b"k" * 32)
        error = refused(rp.proof(), guard, "nonce", nonces=nonces)
        assert error.error == "use_dpop_nonce"
        assert error.dpop_nonce is not None
        assert error.headers()["DPoP-Nonce"] == error.dpop_nonce
        verify(rp.proof(nonce=error.dpop_nonce), guard, nonces=nonces)

    def test_forged_or_stale_nonce_is_refused(self, rp, guard):
        nonces = HmacDPoPNonces(b"k" * 32)
        stale = nonces.current(NOW.replace(hour=8))
        assert refused(rp.proof(nonce=stale), guard, "nonce", nonces=nonces).error == (
            "use_dpop_nonce"
        )
        forged = HmacDPoPNonces(b"x" * 32).current(NOW)
        refused(rp.proof(nonce=forged), guard, "nonce", nonces=nonces)

    def test_nonce_on_resource_request_is_401_with_challenge(self, rp, guard):
        nonces = HmacDPoPNonces(b"k" * 32)
        proof = rp.proof(htm="GET", htu=USERINFO_URL, ath=access_token_hash(ACCESS_TOKEN))
        error = refused(
            proof,
            guard,
            "nonce",
            nonces=nonces,
            htm="GET",
            htu=USERINFO_URL,
            access_token=ACCESS_TOKEN,
        )
        assert error.status == 401
        assert 'error="use_dpop_nonce"' in error.headers()["WWW-Authenticate"]


class TestParBinding:
    def test_dpop_jkt_alone(self, rp):
        jkt = rp.dpop.thumbprint()
        assert check_par_dpop_jkt(jkt, None) == jkt

    def test_dpop_jkt_must_match_proof(self, rp):
        with pytest.raises(OAuthError) as info:
            check_par_dpop_jkt(RelyingParty().dpop.thumbprint(), rp.dpop.thumbprint())
        assert info.value.error == "invalid_dpop_proof"

    def test_malformed_dpop_jkt(self):
        with pytest.raises(OAuthError, match="thumbprint"):
            check_par_dpop_jkt("short", None)

    def test_code_bound_key_must_sign_token_request(self, rp, guard):
        proof = verify(rp.proof(), guard)
        check_code_binding(rp.dpop.thumbprint(), proof)
        check_code_binding(None, proof)
        with pytest.raises(OAuthError, match="bound at PAR"):
            check_code_binding(RelyingParty().dpop.thumbprint(), proof)


def test_missing_proof(guard):
    with pytest.raises(OAuthError, match="required"):
        verify(None, guard)

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey, RSAKey

from smartnation.identity.oidc.discovery import CACHE_CONTROL, discovery_document, issuer_for
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import (
    ProviderKeyring,
    fetch_client_jwks,
    validate_client_jwks,
)

from ._support import NOW, RelyingParty


def pub(key: ECKey, **extra: str) -> dict[str, object]:
    return {**key.as_dict(private=False), **extra}


def sig_key(kid: str = "s", curve: str = "P-256") -> dict[str, object]:
    return pub(ECKey.generate_key(curve), use="sig", kid=kid)


def enc_key(kid: str = "e", alg: str = "ECDH-ES+A256KW") -> dict[str, object]:
    return pub(ECKey.generate_key("P-256"), use="enc", kid=kid, alg=alg)


class TestProviderKeyring:
    def test_generate_publishes_current_and_next(self):
        ring = ProviderKeyring.generate(NOW)
        jwks = ring.jwks()
        assert [k["kid"] for k in jwks["keys"]] == [ring.current.kid, ring.keys[1].kid]
        for key in jwks["keys"]:
            assert "d" not in key
            assert key["kty"] == "EC" and key["crv"] == "P-256"
            assert key["use"] == "sig" and key["alg"] == "ES256"

    def test_rotation_overlaps(self):
        ring = ProviderKeyring.generate(NOW)
        old_current, old_next = ring.current.kid, ring.keys[1].kid
        token = jwt.encode({"alg": "ES256", "kid": old_current}, {"a": 1}, ring.current.key)
        rotated = ring.rotate(NOW + timedelta(days=30))
        assert rotated.current.kid == old_next  # pre-published key takes over
        previous = rotated.by_kid(old_current)
        assert previous is not None and previous.state == "previous"
        # Something signed before the rotation still verifies against the published set.
        jwt.decode(token, previous.key, algorithms=["ES256"])
        assert len(rotated.jwks()["keys"]) == 3
        twice = rotated.rotate(NOW + timedelta(days=60))
        assert twice.by_kid(old_current) is None and len(twice.keys) == 3

    def test_persistence_round_trip(self):
        ring = ProviderKeyring.generate(NOW).rotate(NOW)
        stored = json.loads(json.dumps(ring.to_dict()))
        loaded = ProviderKeyring.from_dict(stored)
        assert loaded.jwks() == ring.jwks()
        assert loaded.current.kid == ring.current.kid

    def test_load_refuses_public_only_keys(self):
        stored = ProviderKeyring.generate(NOW).to_dict()
        for entry in stored["keys"]:
            del entry["jwk"]["d"]
        with pytest.raises(ValueError, match="private"):
            ProviderKeyring.from_dict(stored)

    def test_kids_are_thumbprints(self):
        ring = ProviderKeyring.generate(NOW)
        assert all(k.kid == k.key.thumbprint() for k in ring.keys)


class TestClientJwks:
    def test_valid(self):
        keys = validate_client_jwks({"keys": [sig_key(), enc_key(), sig_key("s2", "P-384")]})
        assert len(keys.signing) == 2 and len(keys.encryption) == 1

    @pytest.mark.parametrize(
        ("jwks", "match"),
        [
            ({}, "keys"),
            ({"keys": "x"}, "keys"),
            ({"keys": [enc_key()]}, "use 'sig'"),
            ({"keys": [sig_key()]}, "use 'enc'"),
            ({"keys": [sig_key("same"), enc_key("same")]}, "duplicate kid"),
            ({"keys": [{**sig_key(), "kid": None}, enc_key()]}, "kid"),
            ({"keys": [{k: v for k, v in sig_key().items() if k != "use"}, enc_key()]}, "use"),
            ({"keys": [sig_key(), enc_key(alg="RSA-OAEP")]}, "ECDH-ES"),
            ({"keys": [sig_key(), enc_key(alg="ECDH-ES")]}, "ECDH-ES"),
            ({"keys": [{**sig_key(), "alg": "ES384"}, enc_key()]}, "matching its curve"),
            ({"keys": [{**sig_key(), "alg": "HS256"}, enc_key()]}, "ES256"),
            ({"keys": [{**sig_key(), "x": "AAAA"}, enc_key()]}, "valid EC"),
            ({"keys": [{**sig_key(), "crv": "secp256k1"}, enc_key()]}, "curve"),
            ({"keys": [sig_key(), enc_key(), 5]}, "not an object"),
            ({"keys": [sig_key(f"k{i}") for i in range(21)]}, "at most"),
        ],
    )
    def test_refusals(self, jwks, match):
        with pytest.raises(OAuthError, match=match) as info:
            validate_client_jwks(jwks)
        assert info.value.error == "invalid_client_metadata"

    def test_private_parts_are_refused(self):
        private = {**ECKey.generate_key("P-256").as_dict(private=True), "use": "sig", "kid": "s"}
        with pytest.raises(OAuthError, match="private"):
            validate_client_jwks({"keys": [private, enc_key()]})

    def test_non_ec_keys_are_refused(self):
        rsa = {**RSAKey.generate_key(2048).as_dict(private=False), "use": "sig", "kid": "r"}
        oct_key = {**OctKey.generate_key(256).as_dict(private=False), "use": "sig", "kid": "o"}
        for key in (rsa, oct_key):
            with pytest.raises(OAuthError, match="only EC"):
                validate_client_jwks({"keys": [key, enc_key()]})


class TestFetch:
    def test_fetches_and_validates(self):
        rp = RelyingParty()
        body = json.dumps(rp.public_jwks()).encode()
        seen: list[str] = []

        def fetcher(url: str) -> bytes:
            seen.append(url)
            return body

        keys = fetch_client_jwks("https://rp.example/jwks", fetcher)
        assert seen == ["https://rp.example/jwks"] and keys.signing_key("sig-1") is not None

    def test_http_only_for_loopback_in_development(self):
        body = json.dumps(RelyingParty().public_jwks()).encode()
        with pytest.raises(OAuthError, match="https"):
            fetch_client_jwks("http://rp.example/jwks", lambda _u: body)
        with pytest.raises(OAuthError, match="https"):
            fetch_client_jwks("http://localhost/jwks", lambda _u: body)
        fetch_client_jwks("http://localhost:3000/jwks", lambda _u: body, allow_http_localhost=True)

    @pytest.mark.parametrize("body", [b"not json", b"[]", b"x" * 70000, b'{"keys": []}'])
    def test_bad_documents(self, body):
        with pytest.raises(OAuthError) as info:
            fetch_client_jwks("https://rp.example/jwks", lambda _u: body)
        assert info.value.error == "invalid_client"

    def test_transport_failure(self):
        def broken(_url: str) -> bytes:
            raise TimeoutError

        with pytest.raises(OAuthError, match="could not be fetched"):
            fetch_client_jwks("https://rp.example/jwks", broken)


def test_discovery_document():
    issuer = issuer_for("https://id.smartnation.example/")
    assert issuer == "https://id.smartnation.example/id"
    doc = discovery_document(issuer)
    assert doc["issuer"] == issuer
    assert doc["pushed_authorization_request_endpoint"] == issuer + "/par"
    assert doc["authorization_endpoint"] == issuer + "/auth"
    assert doc["token_endpoint"] == issuer + "/token"
    assert doc["userinfo_endpoint"] == issuer + "/userinfo"
    assert doc["response_types_supported"] == ["code"]
    assert doc["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["ES256", "ES384", "ES512"]
    assert doc["id_token_encryption_enc_values_supported"] == ["A256CBC-HS512"]
    assert "ECDH-ES+A256KW" in doc["id_token_encryption_alg_values_supported"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["dpop_signing_alg_values_supported"] == ["ES256", "ES384", "ES512"]
    assert doc["require_pushed_authorization_requests"] is True
    assert "openid" in doc["scopes_supported"]
    assert "max-age" in CACHE_CONTROL
    with pytest.raises(ValueError):
        discovery_document(issuer + "/")


def test_error_serialisation():
    error = OAuthError("invalid_grant", 'bad "code"')
    assert json.loads(error.to_json()) == {
        "error": "invalid_grant",
        "error_description": 'bad "code"',
    }
    assert error.status == 400 and error.www_authenticate() is None
    assert error.headers() == {"Cache-Control": "no-store"}
    assert OAuthError("invalid_client", "x").status == 401
    token_error = OAuthError("invalid_token", 'quote " here')
    assert token_error.www_authenticate() == (
        'DPoP error="invalid_token", error_description="quote \' here", algs="ES256 ES384 ES512"'
    )

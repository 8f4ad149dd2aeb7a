from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc import jwe, jwt
from joserfc.jwk import ECKey

from smartnation.identity.oidc.dpop import access_token_hash, verify_dpop_proof
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import ProviderKeyring, validate_client_jwks
from smartnation.identity.oidc.tokens import (
    CorpPassEntity,
    Person,
    access_token_from_header,
    check_access_token,
    issue_access_token,
    issue_id_token,
    issue_userinfo,
    myinfo_item,
    token_hash,
    token_response,
)

from ._support import CLIENT_ID, ISSUER, NONCE, NOW, TOKEN_URL, RelyingParty, T

PERSON = Person(
    sub="3b6a1f9e-2d8c-4b0e-9a55-0f5c2d7e8a11",
    identity_number="S9812381D",
    name="TAN AH KOW, JOHN",
    email="john@example.sg",
    mobileno="+6591234567",
)
ENC_ALGS = ["ECDH-ES+A256KW", "ECDH-ES+A192KW", "ECDH-ES+A128KW", "A256CBC-HS512"]


@pytest.fixture(scope="module")
def ring() -> ProviderKeyring:
    return ProviderKeyring.generate(NOW)


def open_nested(token: str, rp: RelyingParty, ring: ProviderKeyring):  # type: ignore[no-untyped-def]
    outer = jwe.decrypt_compact(token, rp.enc, algorithms=ENC_ALGS)
    assert outer.plaintext is not None
    inner = jwt.decode(outer.plaintext, ring.current.key, algorithms=["ES256"])
    return outer.headers(), inner


def id_token(rp: RelyingParty, ring: ProviderKeyring, scopes, **kwargs):  # type: ignore[no-untyped-def]
    return issue_id_token(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        client_keys=rp.keys(),
        signing_key=ring.current,
        person=PERSON,
        scopes=scopes,
        nonce=NONCE,
        acr="urn:singpass:authentication:loa:2",
        amr=["pwd", "swk"],
        now=NOW,
        **kwargs,
    )


def test_id_token_is_signed_then_encrypted(rp, ring):
    outer_header, inner = open_nested(id_token(rp, ring, ["openid"]), rp, ring)
    assert outer_header["alg"] == "ECDH-ES+A256KW"
    assert outer_header["enc"] == "A256CBC-HS512"
    assert outer_header["cty"] == "JWT"
    assert outer_header["kid"] == "enc-1"
    assert inner.header == {"alg": "ES256", "kid": ring.current.kid, "typ": "JWT"}
    claims = inner.claims
    assert claims["iss"] == ISSUER and claims["aud"] == CLIENT_ID
    assert claims["sub"] == PERSON.sub and claims["sub_type"] == "user"
    assert claims["iat"] == T and claims["exp"] == T + 600
    assert claims["nonce"] == NONCE and claims["amr"] == ["pwd", "swk"]
    assert claims["acr"] == "urn:singpass:authentication:loa:2"
    assert "sub_attributes" not in claims  # openid alone releases nothing about the person


def test_sub_attributes_follow_scopes(rp, ring):
    _, inner = open_nested(id_token(rp, ring, ["openid", "user.identity"]), rp, ring)
    assert inner.claims["sub_attributes"] == {
        "identity_number": "S9812381D",
        "identity_coi": "SG",
        "account_type": "standard",
    }
    _, inner = open_nested(id_token(rp, ring, ["openid", "name", "email", "mobileno"]), rp, ring)
    assert inner.claims["sub_attributes"] == {
        "name": "TAN AH KOW, JOHN",
        "email": "john@example.sg",
        "mobileno": "+6591234567",
    }


def test_corppass_claims(rp, ring):
    entity = CorpPassEntity(uen="53312345K", account_type="Admin", full_name="TAN AH KOW")
    _, inner = open_nested(id_token(rp, ring, ["openid"], corppass=entity), rp, ring)
    assert inner.claims["entityInfo"]["CPEntID"] == "53312345K"
    assert inner.claims["entityInfo"]["CPEnt_TYPE"] == "UEN"
    assert inner.claims["userInfo"] == {
        "CPAccType": "Admin",
        "CPUID_FullName": "TAN AH KOW",
        "ISSPHOLDER": "YES",
    }


def test_amr_values_are_checked(rp, ring):
    with pytest.raises(ValueError, match="amr"):
        id_token_kwargs = {"amr": ["magic"]}
        issue_id_token(
            issuer=ISSUER,
            client_id=CLIENT_ID,
            client_keys=rp.keys(),
            signing_key=ring.current,
            person=PERSON,
            scopes=["openid"],
            nonce=NONCE,
            acr="x",
            now=NOW,
            **id_token_kwargs,
        )


def test_encryption_follows_the_client_key_wrap(ring):
    rp = RelyingParty()
    rp.enc = ECKey.generate_key(
        "P-256", parameters={"use": "enc", "alg": "ECDH-ES+A128KW", "kid": "e128"}, private=True
    )
    header, _ = open_nested(id_token(rp, ring, ["openid"]), rp, ring)
    assert header["alg"] == "ECDH-ES+A128KW" and header["kid"] == "e128"


def test_userinfo_person_info(rp, ring):
    person_info = {"uinfin": myinfo_item("S9812381D"), "name": myinfo_item("TAN AH KOW, JOHN")}
    token = issue_userinfo(
        issuer=ISSUER,
        client_id=CLIENT_ID,
        client_keys=rp.keys(),
        signing_key=ring.current,
        sub=PERSON.sub,
        person_info=person_info,
        now=NOW,
    )
    header, inner = open_nested(token, rp, ring)
    assert header["cty"] == "JWT"
    assert inner.claims["person_info"]["uinfin"] == {
        "lastupdated": "",
        "source": "1",
        "classification": "C",
        "value": "S9812381D",
    }
    assert inner.claims["sub"] == PERSON.sub and inner.claims["aud"] == CLIENT_ID


class TestAccessTokens:
    def proof(self, rp, guard, token=None):  # type: ignore[no-untyped-def]
        if token is None:
            return verify_dpop_proof(
                rp.proof(), htm="POST", htu=TOKEN_URL, replay_guard=guard, now=NOW
            )
        url = ISSUER + "/userinfo"
        return verify_dpop_proof(
            rp.proof(htm="GET", htu=url, ath=access_token_hash(token)),
            htm="GET",
            htu=url,
            replay_guard=guard,
            now=NOW,
            access_token=token,
        )

    def test_issue_and_check(self, rp, guard):
        token, record = issue_access_token(
            client_id=CLIENT_ID,
            sub=PERSON.sub,
            scopes=["openid"],
            proof=self.proof(rp, guard),
            now=NOW,
        )
        assert record.token_hash == token_hash(token) and token not in json.dumps(record.to_dict())
        assert record.jkt == rp.dpop.thumbprint() and record.expires_at == T + 1800
        header_token = access_token_from_header(f"DPoP {token}")
        checked = check_access_token(header_token, record, self.proof(rp, guard, token), now=NOW)
        assert checked.sub == PERSON.sub
        assert type(record).from_dict(json.loads(json.dumps(record.to_dict()))) == record

    def test_expired_unknown_and_rebound_tokens(self, rp, guard):
        token, record = issue_access_token(
            client_id=CLIENT_ID, sub="s", scopes=["openid"], proof=self.proof(rp, guard), now=NOW
        )
        later = NOW + timedelta(minutes=30)
        with pytest.raises(OAuthError, match="expired"):
            check_access_token(token, record, self.proof(rp, guard, token), now=later)
        with pytest.raises(OAuthError, match="unknown"):
            check_access_token(token, None, self.proof(rp, guard, token), now=NOW)
        thief = RelyingParty()
        with pytest.raises(OAuthError, match="different DPoP key") as info:
            check_access_token(token, record, self.proof(thief, guard, token), now=NOW)
        assert info.value.status == 401

    @pytest.mark.parametrize("value", [None, "", "Bearer abc", "DPoP ", "DPoP a b", "Basic x"])
    def test_authorization_header(self, value):
        with pytest.raises(OAuthError) as info:
            access_token_from_header(value)
        assert info.value.error == "invalid_token" and info.value.status == 401


def test_token_response():
    body = token_response("at", "idt", ["openid", "name"])
    assert body == {
        "access_token": "at",
        "token_type": "DPoP",
        "expires_in": 1800,
        "id_token": "idt",
        "scope": "openid name",
    }


def test_client_keys_pick_strongest_wrap():
    keys = [
        {**ECKey.generate_key("P-256").as_dict(private=False), "use": "enc", "kid": k, "alg": a}
        for k, a in (("a", "ECDH-ES+A128KW"), ("b", "ECDH-ES+A256KW"))
    ]
    sig = {**ECKey.generate_key("P-256").as_dict(private=False), "use": "sig", "kid": "s"}
    assert validate_client_jwks({"keys": [sig, *keys]}).encryption_key().kid == "b"

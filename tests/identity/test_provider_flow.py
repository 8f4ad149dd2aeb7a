"""The provider end to end in-process: MyInfo only after consent, consent revocation, CorpPass,
stable sub, one-time codes, error pages without redirects."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from smartnation.core.db import Database
from smartnation.identity.demo import PASSWORD
from smartnation.messaging.models import Message

from .flow_support import REDIRECT_URI, TestRelyingParty, login

CITIZEN_TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def http(personas: Database, app) -> TestClient:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _rp(database: Database, **kwargs) -> TestRelyingParty:  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return TestRelyingParty(session, issuer="http://127.0.0.1:8000/id", **kwargs)


def _latest_sms(database: Database, phone: str) -> str:
    """The newest SMS body queued to ``phone`` (delivery is a job; no worker runs here)."""
    with database.transaction() as session:
        body = session.scalar(
            sa.select(Message.body).where(Message.recipient == phone).order_by(Message.id.desc())
        )
    assert body is not None
    return str(body)[:6]


def _totp() -> str:
    return pyotp.TOTP(CITIZEN_TOTP).now()


def test_myinfo_is_shared_only_after_consent_and_stops_when_withdrawn(personas, http):
    rp = _rp(personas, scopes="openid user.identity name uinfin sex dob regadd cpfbalances")
    start = rp.start(http)
    page = http.get(start)
    assert page.status_code == 200
    # Up to the consent page nothing is issued: no code reaches the relying party.
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    http.post(
        "/id/auth/password",
        data={"csrf_token": token, "nric": "S8012345J", "password": PASSWORD},
        follow_redirects=False,
    )
    factor_page = http.get("/id/auth/factor").text
    factor_id = factor_page.split('name="factor_id" value="')[2].split('"')[0]  # the app
    http.post("/id/auth/factor", data={"csrf_token": token, "factor_id": factor_id})
    response = http.post(
        "/id/auth/verify", data={"csrf_token": token, "code": _totp()}, follow_redirects=False
    )
    assert response.headers["location"] == "/id/auth/consent"
    consent = http.get("/id/auth/consent").text
    for words in (
        "Test benefits portal",
        "To prefill your benefits application",
        "NRIC or FIN",
        "Date of birth",
        "Registered address",
    ):
        assert words in consent
    response = http.post(
        "/id/auth/consent", data={"csrf_token": token, "decision": "allow"}, follow_redirects=False
    )
    callback = response.headers["location"]
    assert callback.startswith(REDIRECT_URI + "?code=")
    tokens = rp.token(http, callback)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "DPoP"
    claims = rp.open(http, body["id_token"])
    assert claims["amr"] == ["pwd", "swk"]
    assert claims["sub_attributes"]["identity_number"] == "S8012345J"
    info = rp.userinfo(http, body["access_token"])
    assert info.status_code == 200 and info.headers["content-type"] == "application/jwt"
    person = rp.open(http, info.text)["person_info"]
    assert person["uinfin"]["value"] == "S8012345J"
    assert person["sex"]["code"] == "M" and person["sex"]["desc"] == "MALE"
    assert person["dob"]["value"] == "1980-03-14"
    assert person["cpfbalances"] == {
        "lastupdated": "",
        "source": "1",
        "classification": "C",
        "unavailable": True,
    }
    # The person sees the consent on "My consents" and withdraws it.
    page = http.get("/identity/consents")
    assert page.status_code == 200 and "Test benefits portal" in page.text
    consent_id = page.text.split("/identity/consents/")[1].split("/")[0]
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    http.post(f"/identity/consents/{consent_id}/revoke", data={"csrf_token": token})
    refused = rp.userinfo(http, body["access_token"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"
    assert "Test benefits portal" not in http.get("/identity/consents").text


def test_declining_consent_sends_access_denied_and_no_code(personas, http):
    rp = _rp(personas, scopes="openid name")
    final = login(
        http, rp.start(http), nric="S8012345J", password=PASSWORD, code_for=_totp, consent="deny"
    )
    location = final.headers["location"]
    assert location.startswith(REDIRECT_URI) and "error=access_denied" in location
    assert "code=" not in location


def test_code_is_single_use_and_replay_revokes_the_token(personas, http):
    rp = _rp(personas, scopes="openid user.identity")
    final = login(http, rp.start(http), nric="S8012345J", password=PASSWORD, code_for=_totp)
    first = rp.token(http, final.headers["location"])
    assert first.status_code == 200
    again = rp.token(http, final.headers["location"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    revoked = rp.userinfo(http, first.json()["access_token"])
    assert revoked.status_code == 401


def test_corppass_tokens_carry_the_entity_and_role(personas, http):
    rp = _rp(personas, scopes="openid user.identity", kind="corppass")
    page = login(
        http,
        rp.start(http),
        nric="S8512345I",
        password=PASSWORD,
        code_for=lambda: _latest_sms(personas, "+6591234507"),
        factor="SMS code to",
        entity="53012345B",
    )
    tokens = rp.token(http, page.headers["location"])
    assert tokens.status_code == 200, tokens.text
    claims = rp.open(http, tokens.json()["id_token"])
    assert claims["entityInfo"]["CPEntID"] == "53012345B"
    assert claims["entityInfo"]["CPEnt_TYPE"] == "UEN"
    assert claims["userInfo"]["CPAccType"] == "Admin"  # the owner of the florist
    assert claims["userInfo"]["CPUID_FullName"] == "NG MEI LING"
    assert claims["amr"] == ["pwd", "otp-sms"]


def test_stable_sub_and_foreign_account_type(personas, http):
    rp = _rp(personas, scopes="openid user.identity")
    subs = []
    foreigner = pyotp.TOTP("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")
    final = login(http, rp.start(http), nric="G5123456T", password=PASSWORD, code_for=foreigner.now)
    claims = rp.open(http, rp.token(http, final.headers["location"]).json()["id_token"])
    assert claims["sub_attributes"]["account_type"] == "foreign"
    subs.append(claims["sub"])
    assert subs[0] != "G5123456T"


def test_loa3_is_refused_clearly(personas, http):
    rp = _rp(personas, scopes="openid")
    response = rp.par(http, acr_values="urn:singpass:authentication:loa:3")
    assert response.status_code == 400
    assert "face verification" in response.json()["error_description"]


def test_unknown_request_uri_is_an_error_page_not_a_redirect(personas, http):
    response = http.get(
        "/id/auth?client_id=x&request_uri=urn:ietf:params:oauth:request_uri:nope",
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "location" not in response.headers


def test_bad_input_to_protocol_endpoints_is_an_oauth_error(personas, http):
    assert (
        http.post("/id/token", content=b"{}", headers={"content-type": "application/json"}).json()[
            "error"
        ]
        == "invalid_request"
    )
    answer = http.post("/id/token", data={"grant_type": "authorization_code"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    answer = http.get("/id/userinfo", headers={"Authorization": "Bearer abc"})
    assert answer.status_code == 401 and "WWW-Authenticate" in answer.headers
    assert (
        http.get("/id/.well-known/openid-configuration").json()["issuer"]
        == "http://127.0.0.1:8000/id"
    )


def test_unprintable_client_ids_are_invalid_client_not_a_crash(personas, http):
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import ECKey

    key = ECKey.generate_key("P-256", private=True)
    forged = jose_jwt.encode(
        {"alg": "ES256"}, {"iss": "a\x00b", "sub": "a\x00b"}, key, algorithms=["ES256"]
    )
    answer = http.post(
        "/id/token",
        data={
            "grant_type": "authorization_code",
            "code": "x",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": forged,
        },
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"

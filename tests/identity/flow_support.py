"""An in-process relying party: private_key_jwt, DPoP and PKCE made with joserfc, the login
pages driven through the TestClient with plain form posts."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session

from smartnation.identity import clients as client_registry
from smartnation.identity.oidc.client_auth import CLIENT_ASSERTION_TYPE
from smartnation.identity.oidc.dpop import access_token_hash

REDIRECT_URI = "https://rp.example.sg/callback"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class TestRelyingParty:
    __test__ = False

    def __init__(
        self, session: Session, *, issuer: str, scopes: str, kind: str = "singpass"
    ) -> None:
        self.issuer = issuer
        self.sig = ECKey.generate_key(
            "P-256", parameters={"use": "sig", "alg": "ES256", "kid": "s1"}, private=True
        )
        self.enc = ECKey.generate_key(
            "P-256", parameters={"use": "enc", "alg": "ECDH-ES+A256KW", "kid": "e1"}, private=True
        )
        self.dpop = ECKey.generate_key("P-256", private=True)
        self.scopes = scopes
        client = client_registry.register_client(
            session,
            name="Test benefits portal",
            purpose="To prefill your benefits application",
            kind=kind,
            redirect_uris=[REDIRECT_URI],
            scopes=scopes.split(),
            jwks={"keys": [self.sig.as_dict(private=False), self.enc.as_dict(private=False)]},
        )
        self.client_id = client.client_id
        self.verifier = secrets.token_urlsafe(48)

    def assertion(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.issuer,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        }
        return jwt.encode({"alg": "ES256", "kid": "s1"}, claims, self.sig, algorithms=["ES256"])

    def proof(self, htm: str, url: str, access_token: str | None = None) -> str:
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": htm,
            "htu": url,
            "iat": int(time.time()),
        }
        if access_token:
            claims["ath"] = access_token_hash(access_token)
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.dpop.as_dict(private=False)}
        return jwt.encode(header, claims, self.dpop, algorithms=["ES256"], default_type=None)

    def par(self, http: TestClient, **extra: str) -> Any:
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        form = {
            "response_type": "code",
            "scope": self.scopes,
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "state": "s" * 32,
            "nonce": "n" * 32,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.assertion(),
            **extra,
        }
        return http.post(
            "/id/par", data=form, headers={"DPoP": self.proof("POST", self.issuer + "/par")}
        )

    def start(self, http: TestClient, **extra: str) -> str:
        response = self.par(http, **extra)
        assert response.status_code == 201, response.text
        uri = response.json()["request_uri"]
        return f"/id/auth?client_id={self.client_id}&request_uri={uri}"

    def token(self, http: TestClient, callback: str) -> Any:
        code = parse_qs(urlsplit(callback).query)["code"][0]
        return http.post(
            "/id/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": self.verifier,
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": self.assertion(),
            },
            headers={"DPoP": self.proof("POST", self.issuer + "/token")},
        )

    def userinfo(self, http: TestClient, access_token: str) -> Any:
        return http.get(
            "/id/userinfo",
            headers={
                "Authorization": f"DPoP {access_token}",
                "DPoP": self.proof("GET", self.issuer + "/userinfo", access_token),
            },
        )

    def open(self, http: TestClient, token: str) -> dict[str, Any]:
        """Decrypt with our enc key, verify with the provider's published keys."""
        inner = jwe.decrypt_compact(token, self.enc).plaintext
        assert inner is not None
        keys = KeySet.import_key_set(http.get("/id/jwks").json())
        return dict(jwt.decode(inner.decode(), keys, algorithms=["ES256"]).claims)


def login(
    http: TestClient,
    start: str,
    *,
    nric: str,
    password: str,
    code_for: Any,
    factor: str = "authenticator app",
    consent: str | None = "allow",
    entity: str | None = None,
) -> Any:
    """Drive the pages; ``code_for()`` returns the second-factor code once it was sent."""
    page = http.get(start)
    assert page.status_code == 200, page.text
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    response = http.post(
        "/id/auth/password",
        data={"csrf_token": token, "nric": nric, "password": password},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    choice = http.get("/id/auth/factor").text
    forms = re.findall(r'value="(\d+)">\s*<button[^>]*>\s*([^<]+)', choice)
    factor_id = next(fid for fid, label in forms if factor in label)
    http.post(
        "/id/auth/factor",
        data={"csrf_token": token, "factor_id": factor_id},
        follow_redirects=False,
    )
    response = http.post(
        "/id/auth/verify", data={"csrf_token": token, "code": code_for()}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    if response.headers["location"] == "/id/auth/entity":
        response = http.post(
            "/id/auth/entity",
            data={"csrf_token": token, "uen": entity or ""},
            follow_redirects=False,
        )
    if response.headers["location"] == "/id/auth/consent" and consent is not None:
        response = http.post(
            "/id/auth/consent",
            data={"csrf_token": token, "decision": consent},
            follow_redirects=False,
        )
    return response

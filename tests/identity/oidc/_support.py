"""Keys, assertions and proofs built the way a relying party builds them."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

from smartnation.identity.oidc.client_auth import CLIENT_ASSERTION_TYPE
from smartnation.identity.oidc.keys import ClientKeys, validate_client_jwks
from smartnation.identity.oidc.params import AuthorizationRequest, ClientRegistration

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
T = int(NOW.timestamp())
ISSUER = "https://id.smartnation.example/id"
CLIENT_ID = "tRansport0Portal1Client2Id3Abcde"
REDIRECT_URI = "https://portal.example.sg/callback"
PAR_URL = ISSUER + "/par"
TOKEN_URL = ISSUER + "/token"
USERINFO_URL = ISSUER + "/userinfo"
STATE = "st4te-" + "a" * 30
NONCE = "n0nce." + "b" * 30


class RelyingParty:
    """A client with its private keys, as make_client_keys.mjs would produce them."""

    def __init__(self, client_id: str = CLIENT_ID, curve: str = "P-256") -> None:
        self.client_id = client_id
        alg = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[curve]
        self.sig_alg = alg
        self.sig = ECKey.generate_key(
            curve, parameters={"use": "sig", "alg": alg, "kid": "sig-1"}, private=True
        )
        self.enc = ECKey.generate_key(
            "P-256",
            parameters={"use": "enc", "alg": "ECDH-ES+A256KW", "kid": "enc-1"},
            private=True,
        )
        self.dpop = ECKey.generate_key("P-256", private=True)

    def public_jwks(self) -> dict[str, Any]:
        return {"keys": [self.sig.as_dict(private=False), self.enc.as_dict(private=False)]}

    def keys(self) -> ClientKeys:
        return validate_client_jwks(self.public_jwks())

    def registration(self) -> ClientRegistration:
        return ClientRegistration(client_id=self.client_id, redirect_uris=(REDIRECT_URI,))

    def assertion(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        body = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": ISSUER,
            "iat": T,
            "exp": T + 60,
            "jti": secrets.token_urlsafe(16),
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        hdr = {"alg": self.sig_alg, "kid": "sig-1", "typ": "JWT"}
        hdr.update(header or {})
        return jwt.encode(hdr, body, self.sig, algorithms=[hdr["alg"]])

    def auth_params(self, assertion: str | None = None) -> dict[str, str]:
        return {
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": assertion or self.assertion(),
        }

    def proof(
        self,
        htm: str = "POST",
        htu: str = TOKEN_URL,
        header: dict[str, Any] | None = None,
        key: ECKey | None = None,
        alg: str = "ES256",
        **claims: Any,
    ) -> str:
        signer = key or self.dpop
        body = {"jti": str(uuid.uuid4()), "htm": htm, "htu": htu, "iat": T}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        hdr = {"typ": "dpop+jwt", "alg": alg, "jwk": signer.as_dict(private=False)}
        hdr.update(header or {})
        hdr = {k: v for k, v in hdr.items() if v is not None}
        return jwt.encode(hdr, body, signer, algorithms=[alg], default_type=None)


def par_form(**overrides: str | None) -> dict[str, str]:
    form: dict[str, str | None] = {
        "response_type": "code",
        "scope": "openid user.identity name",
        "state": STATE,
        "nonce": NONCE,
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


PKCE_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B


def stored_request(jkt: str | None = None) -> AuthorizationRequest:
    return AuthorizationRequest(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        scopes=("openid", "user.identity", "name"),
        state=STATE,
        nonce=NONCE,
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        acr="urn:singpass:authentication:loa:2",
        dpop_jkt=jkt,
    )

"""ID tokens, userinfo responses and DPoP-bound access tokens.

ID tokens and userinfo responses are signed then encrypted: an inner ES256 JWS (``typ: JWT``,
``kid``) inside a JWE to the relying party's encryption key (``ECDH-ES+A256KW`` unless the key
names a weaker wrap, ``enc: A256CBC-HS512``, ``cty: JWT``, the key's ``kid``).

Access tokens are opaque random strings, not JWTs: the only resource server is our own userinfo
endpoint, which looks them up anyway; an opaque token reveals nothing if logged, can be revoked
by deleting a row, and only its SHA-256 is stored so a leaked table yields no usable token. Each
is bound to the DPoP key that obtained it (``cnf.jkt`` in the stored record).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from joserfc import jwe, jwt
from joserfc.jwk import ECKey

from smartnation.identity.oidc.algorithms import CONTENT_ENCRYPTION, PROVIDER_SIGNING_ALG
from smartnation.identity.oidc.clock import epoch
from smartnation.identity.oidc.dpop import DPoPProof, check_token_binding
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import ClientKeys, SigningKey, encryption_alg

ID_TOKEN_LIFETIME: Final = 600
ACCESS_TOKEN_LIFETIME: Final = 1800
USERINFO_LIFETIME: Final = 600
AMR_VALUES: Final = frozenset({"pwd", "otp-sms", "face", "swk", "hwk"})


@dataclass(frozen=True)
class Person:
    """The person who logged in, as the ID token may describe them."""

    sub: str  # stable opaque UUID, never the NRIC/FIN
    identity_number: str  # NRIC or FIN
    account_type: Literal["standard", "foreign"] = "standard"
    identity_coi: str = "SG"  # country that issued identity_number
    name: str | None = None
    email: str | None = None
    mobileno: str | None = None  # E.164


@dataclass(frozen=True)
class CorpPassEntity:
    """The business a CorpPass user acts for, in the claim names CorpPass relying parties read.

    ``entityInfo`` and ``userInfo`` are mandatory in CorpPass ID tokens; the user's roles
    (authorisations per e-service) are not in the token but served by a separate
    authorisation-info endpoint, so they are not modelled here.
    """

    uen: str  # CPEntID
    entity_type: Literal["UEN", "NON-UEN", "GSTN"] = "UEN"
    entity_status: str = "Registered"
    account_type: Literal["Admin", "Sub-Admin", "User", "Enquiry User"] = "User"
    full_name: str = ""
    singpass_holder: bool = True
    non_uen_reg_no: str = ""
    non_uen_country: str = ""
    non_uen_name: str = ""

    def claims(self) -> dict[str, Any]:
        return {
            "entityInfo": {
                "CPEntID": self.uen,
                "CPEnt_TYPE": self.entity_type,
                "CPEnt_Status": self.entity_status,
                "CPNonUEN_RegNo": self.non_uen_reg_no,
                "CPNonUEN_Country": self.non_uen_country,
                "CPNonUEN_Name": self.non_uen_name,
            },
            "userInfo": {
                "CPAccType": self.account_type,
                "CPUID_FullName": self.full_name,
                "ISSPHOLDER": "YES" if self.singpass_holder else "NO",
            },
        }


def sub_attributes(person: Person, scopes: Iterable[str]) -> dict[str, str]:
    """The ``sub_attributes`` the granted scopes release, and nothing more."""
    granted = set(scopes)
    out: dict[str, str] = {}
    if "user.identity" in granted:
        out["identity_number"] = person.identity_number
        out["identity_coi"] = person.identity_coi
        out["account_type"] = person.account_type
    for scope in ("name", "email", "mobileno"):
        value = getattr(person, scope)
        if scope in granted and value is not None:
            out[scope] = value
    return out


def id_token_claims(
    *,
    issuer: str,
    client_id: str,
    person: Person,
    scopes: Iterable[str],
    nonce: str,
    acr: str,
    amr: Iterable[str],
    now: datetime | None = None,
    corppass: CorpPassEntity | None = None,
) -> dict[str, Any]:
    methods = list(amr)
    if not methods or any(m not in AMR_VALUES for m in methods):
        raise ValueError(f"amr must be a non-empty list of {sorted(AMR_VALUES)}")
    iat = epoch(now)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "sub": person.sub,
        "sub_type": "user",
        "iat": iat,
        "exp": iat + ID_TOKEN_LIFETIME,
        "nonce": nonce,
        "acr": acr,
        "amr": methods,
    }
    attributes = sub_attributes(person, scopes)
    if attributes:
        claims["sub_attributes"] = attributes
    if corppass is not None:
        claims.update(corppass.claims())
    return claims


def sign_then_encrypt(
    claims: Mapping[str, Any], signing_key: SigningKey, client: ClientKeys
) -> str:
    """Nested JWT: ES256 JWS with our kid, inside a JWE to the client's encryption key."""
    inner = jwt.encode(
        {"alg": PROVIDER_SIGNING_ALG, "kid": signing_key.kid, "typ": "JWT"},
        dict(claims),
        signing_key.key,
        algorithms=[PROVIDER_SIGNING_ALG],
    )
    return encrypt_to_client(inner, client.encryption_key())


def encrypt_to_client(inner_jwt: str, enc_key: ECKey) -> str:
    alg = encryption_alg(enc_key)
    header: dict[str, Any] = {"alg": alg, "enc": CONTENT_ENCRYPTION, "cty": "JWT"}
    if enc_key.kid:
        header["kid"] = enc_key.kid
    return jwe.encrypt_compact(header, inner_jwt, enc_key, algorithms=[alg, CONTENT_ENCRYPTION])


def issue_id_token(
    *,
    issuer: str,
    client_id: str,
    client_keys: ClientKeys,
    signing_key: SigningKey,
    person: Person,
    scopes: Iterable[str],
    nonce: str,
    acr: str,
    amr: Iterable[str],
    now: datetime | None = None,
    corppass: CorpPassEntity | None = None,
) -> str:
    claims = id_token_claims(
        issuer=issuer,
        client_id=client_id,
        person=person,
        scopes=scopes,
        nonce=nonce,
        acr=acr,
        amr=amr,
        now=now,
        corppass=corppass,
    )
    return sign_then_encrypt(claims, signing_key, client_keys)


def issue_userinfo(
    *,
    issuer: str,
    client_id: str,
    client_keys: ClientKeys,
    signing_key: SigningKey,
    sub: str,
    person_info: Mapping[str, Any],
    now: datetime | None = None,
) -> str:
    """The userinfo response body (``application/jwt``): ``{sub, person_info: {...}}`` with
    iss/aud/iat/exp, signed then encrypted like the ID token."""
    iat = epoch(now)
    claims = {
        "iss": issuer,
        "aud": client_id,
        "sub": sub,
        "iat": iat,
        "exp": iat + USERINFO_LIFETIME,
        "person_info": dict(person_info),
    }
    return sign_then_encrypt(claims, signing_key, client_keys)


def myinfo_item(
    value: Any,
    *,
    source: Literal["1", "2", "3", "4"] = "1",
    classification: str = "C",
    lastupdated: str = "",
) -> dict[str, Any]:
    """One MyInfo data item: ``{lastupdated, source, classification, value}``."""
    return {
        "lastupdated": lastupdated,
        "source": source,
        "classification": classification,
        "value": value,
    }


@dataclass(frozen=True)
class AccessTokenRecord:
    """What is stored for an access token: its SHA-256, never the token itself."""

    token_hash: str
    client_id: str
    sub: str
    scopes: tuple[str, ...]
    jkt: str  # cnf.jkt: the DPoP key the token is bound to
    expires_at: int
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["scopes"] = list(self.scopes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AccessTokenRecord:
        return cls(
            token_hash=str(data["token_hash"]),
            client_id=str(data["client_id"]),
            sub=str(data["sub"]),
            scopes=tuple(data["scopes"]),
            jkt=str(data["jkt"]),
            expires_at=int(data["expires_at"]),
            extra=dict(data.get("extra") or {}),
        )


def token_hash(token: str) -> str:
    """The lookup key stored for an opaque token or code."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def new_opaque_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


def issue_access_token(
    *,
    client_id: str,
    sub: str,
    scopes: Iterable[str],
    proof: DPoPProof,
    now: datetime | None = None,
) -> tuple[str, AccessTokenRecord]:
    """A new DPoP-bound access token and the record to store for it."""
    token = new_opaque_token()
    record = AccessTokenRecord(
        token_hash=token_hash(token),
        client_id=client_id,
        sub=sub,
        scopes=tuple(scopes),
        jkt=proof.jkt,
        expires_at=epoch(now) + ACCESS_TOKEN_LIFETIME,
    )
    return token, record


def token_response(access_token: str, id_token: str, scopes: Iterable[str]) -> dict[str, Any]:
    """The JSON body of a successful token response (serve with Cache-Control: no-store)."""
    return {
        "access_token": access_token,
        "token_type": "DPoP",
        "expires_in": ACCESS_TOKEN_LIFETIME,
        "id_token": id_token,
        "scope": " ".join(scopes),
    }


def access_token_from_header(authorization: str | None) -> str:
    """The token from ``Authorization: DPoP <token>``; Bearer is refused (FAPI 2.0 requires
    sender-constrained tokens)."""
    if not authorization:
        raise OAuthError("invalid_token", "Authorization: DPoP <access token> is required", 401)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "dpop":
        raise OAuthError("invalid_token", "access tokens are DPoP-bound; use the DPoP scheme", 401)
    token = token.strip()
    if not token or len(token) > 512 or not token.isascii() or " " in token:
        raise OAuthError("invalid_token", "malformed access token", 401)
    return token


def check_access_token(
    token: str,
    record: AccessTokenRecord | None,
    proof: DPoPProof,
    now: datetime | None = None,
) -> AccessTokenRecord:
    """Userinfo: the stored record for ``token`` must exist, be unexpired and bound to the
    proof's key. ``proof`` must come from :func:`verify_dpop_proof` with ``access_token``."""
    if record is None or not hmac.compare_digest(record.token_hash, token_hash(token)):
        raise OAuthError("invalid_token", "access token is unknown or revoked", 401)
    if epoch(now) >= record.expires_at:
        raise OAuthError("invalid_token", "access token has expired", 401)
    check_token_binding(proof, record.jkt)
    return record

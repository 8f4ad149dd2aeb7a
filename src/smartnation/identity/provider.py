"""The OpenID provider's endpoints as functions: each calls the protocol core
(:mod:`smartnation.identity.oidc`) in order and keeps what must be remembered in the database.

Every refusal is an :class:`OAuthError`; the web layer answers it as the specifications say.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final, Protocol

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.orm import Session

from smartnation.core.clock import utcnow
from smartnation.identity import clients as client_registry
from smartnation.identity import consents as consent_records
from smartnation.identity.accounts import get_account, record_login
from smartnation.identity.factors import AMR_OF_KIND
from smartnation.identity.models import (
    AccessToken,
    Account,
    AuthorizationCode,
    Client,
    PushedRequest,
)
from smartnation.identity.myinfo import person_info
from smartnation.identity.oidc.client_auth import authenticate_client
from smartnation.identity.oidc.clock import from_epoch
from smartnation.identity.oidc.discovery import discovery_document, issuer_for
from smartnation.identity.oidc.dpop import verify_dpop_proof
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.grants import CodeGrant, CodeReplayed, issue_code, redeem_code
from smartnation.identity.oidc.keys import ClientKeys
from smartnation.identity.oidc.params import (
    PAR_EXPIRES_IN,
    AuthorizationRequest,
    authorization_response_url,
    new_request_uri,
    parse_form,
    resolve_authorize_request,
    validate_par_request,
)
from smartnation.identity.oidc.tokens import (
    AccessTokenRecord,
    CorpPassEntity,
    Person,
    access_token_from_header,
    check_access_token,
    issue_access_token,
    issue_id_token,
    issue_userinfo,
    token_hash,
    token_response,
)
from smartnation.identity.storage import DatabaseReplayGuard, load_keyring
from smartnation.registry import service as registry

# Registry officer roles and the CorpPass account type they hold.
CORPPASS_ACCOUNT_TYPE: Final = {
    "director": "Admin",
    "owner": "Admin",
    "partner": "Admin",
    "secretary": "Sub-Admin",
    "authorised_officer": "User",
}


@dataclass(frozen=True)
class Provider:
    """Where the provider runs: its issuer, and whether http JWKS URLs on loopback are allowed."""

    issuer: str
    allow_http_localhost: bool = True

    @classmethod
    def for_base_url(cls, base_url: str, *, development: bool = True) -> Provider:
        return cls(issuer_for(base_url), allow_http_localhost=development)

    def endpoint(self, name: str) -> str:
        return f"{self.issuer}/{name}"


def discovery(provider: Provider) -> dict[str, Any]:
    """The OpenID Provider metadata; the JWKS is served at ``<issuer>/jwks``."""
    document = discovery_document(provider.issuer)
    document["jwks_uri"] = provider.endpoint("jwks")
    return document


def jwks(session: Session) -> dict[str, Any]:
    return load_keyring(session).jwks()


class _ClientLookup:
    """Finds a client and its keys once per request: client authentication looks it up, and the
    endpoint then needs the same row and keys again."""

    def __init__(self, session: Session, provider: Provider) -> None:
        self.session = session
        self.provider = provider
        self.found: dict[str, Client | None] = {}
        self.keys: dict[str, ClientKeys] = {}

    def client(self, client_id: str) -> Client | None:
        if client_id not in self.found:
            self.found[client_id] = client_registry.find_client(self.session, client_id)
        return self.found[client_id]

    def __call__(self, client_id: str) -> ClientKeys | None:
        client = self.client(client_id)
        if client is None:
            return None
        if client_id not in self.keys:
            self.keys[client_id] = client_registry.client_keys(
                client, allow_http_localhost=self.provider.allow_http_localhost
            )
        return self.keys[client_id]


def request_to_dict(request: AuthorizationRequest) -> dict[str, Any]:
    data = dataclasses.asdict(request)
    data["scopes"] = list(request.scopes)
    return data


def request_from_dict(data: dict[str, Any]) -> AuthorizationRequest:
    return AuthorizationRequest(**{**data, "scopes": tuple(data["scopes"])})


def push_authorization_request(
    session: Session, provider: Provider, form: list[tuple[str, str]], dpop: str | None
) -> dict[str, Any]:
    """POST /par: authenticate the client, check DPoP and every parameter, store the request."""
    params = parse_form(form)
    guard = DatabaseReplayGuard(session)
    lookup = _ClientLookup(session, provider)
    authenticated = authenticate_client(
        params, issuer=provider.issuer, lookup=lookup, replay_guard=guard
    )
    proof = verify_dpop_proof(dpop, htm="POST", htu=provider.endpoint("par"), replay_guard=guard)
    client = lookup.client(authenticated.client_id)
    if client is None:  # authenticate_client refuses an unknown client
        raise OAuthError("invalid_client", "unknown client", 401)
    request = validate_par_request(
        [(k, v) for k, v in form if not k.startswith("client_assertion")],
        client=client_registry.registration(client),
        dpop_jkt_from_proof=proof.jkt,
    )
    request_uri = new_request_uri()
    stored = request_to_dict(request)
    # What the login pages show about the service, kept with the request so that the
    # authorisation endpoint need not look the client up again.
    stored[_SERVICE_KEY] = {"name": client.name, "corppass": client.kind == "corppass"}
    session.connection().execute(
        _STORE_PUSHED_REQUEST,
        {
            "request_uri_hash": token_hash(request_uri),
            "request": stored,
            "expires_at": utcnow() + timedelta(seconds=PAR_EXPIRES_IN),
        },
    )
    return {"request_uri": request_uri, "expires_in": PAR_EXPIRES_IN}


@dataclass(frozen=True)
class ServiceShown:
    """What the login pages say about the service a person is logging in to."""

    name: str
    corppass: bool


_SERVICE_KEY: Final = "_service"
_STORE_PUSHED_REQUEST: Final = insert(PushedRequest)
# Single use in one statement: the row is deleted and its contents returned together, so two
# requests racing with the same request_uri cannot both have it.
_TAKE_PUSHED_REQUEST: Final = (
    delete(PushedRequest)
    .where(PushedRequest.request_uri_hash == bindparam("request_uri_hash"))
    .returning(PushedRequest.request, PushedRequest.expires_at)
)


def resolve_authorization(
    session: Session, query: list[tuple[str, str]]
) -> tuple[AuthorizationRequest, ServiceShown | None]:
    """GET /auth: the stored pushed request (single use: removed on lookup), and what the
    login pages show about its service (None for a request stored without it)."""
    params = parse_form(query)
    row = (
        session.connection()
        .execute(
            _TAKE_PUSHED_REQUEST,
            {"request_uri_hash": token_hash(params.get("request_uri", ""))},
        )
        .first()
    )
    stored, expires, service = (None, None, None)
    if row is not None:
        data = dict(row.request)
        shown = data.pop(_SERVICE_KEY, None)
        if isinstance(shown, dict):
            service = ServiceShown(str(shown["name"]), bool(shown["corppass"]))
        stored, expires = request_from_dict(data), row.expires_at
    return resolve_authorize_request(query, stored=stored, expires_at=expires), service


# Built once: every login and token exchange runs them, and building costs more than running.
# Core statements, not the ORM: nothing here needs an identity map or a flush.
_CODE_BY_HASH: Final = select(
    AuthorizationCode.account_id,
    AuthorizationCode.grant,
    AuthorizationCode.consent_id,
    AuthorizationCode.entity_uen,
    AuthorizationCode.entity_role,
).where(AuthorizationCode.code_hash == bindparam("code_hash"))
_STORE_ACCESS_TOKEN: Final = insert(AccessToken)
_STORE_CODE: Final = insert(AuthorizationCode)


def complete_authorization(
    session: Session,
    provider: Provider,
    request: AuthorizationRequest,
    account: Account,
    amr: list[str],
    *,
    person: Person,
    consent_id: int | None = None,
    entity_uen: str | None = None,
    entity_role: str | None = None,
) -> str:
    """The person has logged in (and consented): issue a code and return the redirect URL.

    The code's grant keeps who the person is as the registry showed them at this login
    (``person``, see :func:`person_from`): the ID token describes this authentication, and the
    token endpoint then needs neither the account nor the registry.
    """
    code, key, grant = issue_code(request, sub=str(account.sub), amr=tuple(amr))
    session.connection().execute(
        _STORE_CODE,
        {
            "code_hash": key,
            "account_id": account.id,
            "grant": {
                "request": request_to_dict(request),
                "sub": grant.sub,
                "amr": list(grant.amr),
                "expires_at": grant.expires_at,
                "person": dataclasses.asdict(person),
            },
            "consent_id": consent_id,
            "entity_uen": entity_uen,
            "entity_role": entity_role,
            "expires_at": from_epoch(grant.expires_at),
        },
    )
    record_login(session, account, amr, request.client_id)
    return authorization_response_url(request, code, provider.issuer)


def _grant_of(data: dict[str, Any] | None) -> CodeGrant | None:
    if data is None:
        return None
    return CodeGrant(
        request=request_from_dict(data["request"]),
        sub=data["sub"],
        amr=tuple(data["amr"]),
        expires_at=int(data["expires_at"]),
    )


class RegistryRecord(Protocol):
    """What an ID token takes from a resident's registry record."""

    @property
    def nric(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def mobile(self) -> str | None: ...
    @property
    def residential_status(self) -> str: ...


def person_from(account: Account, resident: RegistryRecord) -> Person:
    """The person as an ID token may describe them, from their account and registry record."""
    foreign = resident.residential_status not in ("C", "P")
    return Person(
        sub=str(account.sub),
        identity_number=resident.nric,
        account_type="foreign" if foreign else "standard",
        identity_coi="SG",
        name=resident.name,
        email=resident.email,
        mobileno=resident.mobile,
    )


def person_of(session: Session, account: Account) -> Person:
    # By NRIC without the address: the ID token carries no address, and loading it costs a query.
    resident = registry.find_resident(session, account.nric)
    if resident is None:
        raise OAuthError("invalid_grant", "the person is no longer in the registry")
    return person_from(account, resident)


def exchange_code(
    session: Session, provider: Provider, form: list[tuple[str, str]], dpop: str | None
) -> dict[str, Any]:
    """POST /token: client assertion, DPoP, single-use code, PKCE; then the tokens."""
    params = parse_form(form)
    guard = DatabaseReplayGuard(session)
    lookup = _ClientLookup(session, provider)
    authenticated = authenticate_client(
        params, issuer=provider.issuer, lookup=lookup, replay_guard=guard
    )
    proof = verify_dpop_proof(dpop, htm="POST", htu=provider.endpoint("token"), replay_guard=guard)
    code_key = token_hash(params.get("code", ""))
    connection = session.connection()
    row = connection.execute(_CODE_BY_HASH, {"code_hash": code_key}).first()
    try:
        grant = redeem_code(
            params,
            grant=_grant_of(row.grant if row is not None else None),
            client_id=authenticated.client_id,
            proof=proof,
            replay_guard=guard,
        )
    except CodeReplayed:
        # RFC 6749 4.1.2: a code used twice is compromised; revoke what it was exchanged for.
        session.execute(delete(AccessToken).where(AccessToken.code_hash == code_key))
        raise
    assert row is not None  # redeem_code refuses an unknown code
    keys = lookup(authenticated.client_id)
    if keys is None:
        raise OAuthError("invalid_client", "unknown client", 401)
    stored_person = row.grant.get("person")
    if isinstance(stored_person, dict):
        person = Person(**stored_person)
    else:  # a code issued before grants carried the person
        person = person_of(session, get_account(session, row.account_id))
    access_token, record = issue_access_token(
        client_id=authenticated.client_id, sub=grant.sub, scopes=grant.request.scopes, proof=proof
    )
    connection.execute(
        _STORE_ACCESS_TOKEN,
        {
            "token_hash": record.token_hash,
            "account_id": row.account_id,
            "client_id": record.client_id,
            "scopes": list(record.scopes),
            "jkt": record.jkt,
            "code_hash": code_key,
            "consent_id": row.consent_id,
            "expires_at": from_epoch(record.expires_at),
        },
    )
    corppass = None
    if row.entity_uen:
        business = registry.get_business(session, row.entity_uen)
        corppass = CorpPassEntity(
            uen=business.uen,
            entity_status="Registered" if business.status == "live" else business.status,
            account_type=CORPPASS_ACCOUNT_TYPE.get(row.entity_role or "", "User"),  # type: ignore[arg-type]
            full_name=person.name or "",
        )
    id_token = issue_id_token(
        issuer=provider.issuer,
        client_id=authenticated.client_id,
        client_keys=keys,
        signing_key=load_keyring(session).current,
        person=person,
        scopes=grant.request.scopes,
        nonce=grant.request.nonce,
        acr=grant.request.acr,
        amr=grant.amr,
        corppass=corppass,
    )
    return token_response(access_token, id_token, grant.request.scopes)


def userinfo(
    session: Session, provider: Provider, authorization: str | None, dpop: str | None
) -> str:
    """GET /userinfo: the consented MyInfo items as a signed-then-encrypted JWT."""
    token = access_token_from_header(authorization)
    guard = DatabaseReplayGuard(session)
    proof = verify_dpop_proof(
        dpop, htm="GET", htu=provider.endpoint("userinfo"), replay_guard=guard, access_token=token
    )
    row = session.get(AccessToken, token_hash(token))
    record = None
    if row is not None:
        record = AccessTokenRecord(
            token_hash=row.token_hash,
            client_id=row.client_id,
            sub="",
            scopes=tuple(row.scopes),
            jkt=row.jkt,
            expires_at=int(row.expires_at.timestamp()),
        )
    check_access_token(token, record, proof)
    assert row is not None
    account = get_account(session, row.account_id)
    items: list[str] = []
    wanted = consent_records.myinfo_items(row.scopes)
    if wanted:
        consent = consent_records.active_consent(session, row.consent_id)
        if consent is None:
            raise OAuthError("invalid_token", "the person has withdrawn consent", 401)
        items = [i for i in wanted if i in consent.items]
    resident = registry.get_resident(session, account.nric)
    client = client_registry.find_client(session, row.client_id)
    if client is None:
        raise OAuthError("invalid_token", "the client is no longer registered", 401)
    keys = client_registry.client_keys(client, allow_http_localhost=provider.allow_http_localhost)
    return issue_userinfo(
        issuer=provider.issuer,
        client_id=row.client_id,
        client_keys=keys,
        signing_key=load_keyring(session).current,
        sub=str(account.sub),
        person_info=person_info(resident, items),
    )


def requested_items(request: AuthorizationRequest) -> list[str]:
    return consent_records.myinfo_items(request.scopes)


def entities_of(session: Session, account: Account) -> list[tuple[str, str, str]]:
    """The businesses a person may act for under CorpPass: (UEN, name, role)."""
    return [
        (business.uen, business.name, role)
        for business, role in registry.businesses_of(session, account.resident_id)
        if business.status == "live"
    ]


def amr_for(first: Iterable[str], factor_kind: str) -> list[str]:
    """The ID token's amr: what the person did, in order."""
    return [*first, AMR_OF_KIND[factor_kind]]

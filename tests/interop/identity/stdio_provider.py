"""A provider assembled from the protocol core, answering rp.mjs over JSON lines.

It stands where the web layer will: each endpoint below is the sequence of core calls the real
endpoint makes, with dicts instead of tables. Time is real, because openid-client's is.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from smartnation.identity.oidc.client_auth import authenticate_client
from smartnation.identity.oidc.clock import utc_now
from smartnation.identity.oidc.discovery import discovery_document
from smartnation.identity.oidc.dpop import verify_dpop_proof
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.grants import CodeGrant, issue_code, redeem_code
from smartnation.identity.oidc.keys import ClientKeys, ProviderKeyring
from smartnation.identity.oidc.params import (
    PAR_EXPIRES_IN,
    AuthorizationRequest,
    ClientRegistration,
    authorization_response_url,
    new_request_uri,
    resolve_authorize_request,
    validate_par_request,
)
from smartnation.identity.oidc.replay import InMemoryReplayGuard
from smartnation.identity.oidc.tokens import (
    AccessTokenRecord,
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

HERE = Path(__file__).parent
ISSUER = "http://127.0.0.1:5156/id"
CLIENT_ID = "interopClient0123456789abcdefghi"
REDIRECT_URI = "http://localhost:3080/callback"
PERSON = Person(
    sub=str(uuid.UUID("5c3c2b6e-9f1a-4f3e-8d7b-1a2b3c4d5e6f")),
    identity_number="S9812381D",
    name="TAN AH KOW, JOHN",
    email="john.tan@example.sg",
    mobileno="+6591234567",
)

Response = tuple[int, dict[str, str], str]


@dataclass
class Provider:
    client_keys: ClientKeys
    ring: ProviderKeyring = field(default_factory=ProviderKeyring.generate)
    guard: InMemoryReplayGuard = field(default_factory=InMemoryReplayGuard)
    pushed: dict[str, tuple[AuthorizationRequest, datetime]] = field(default_factory=dict)
    codes: dict[str, CodeGrant] = field(default_factory=dict)
    access_tokens: dict[str, AccessTokenRecord] = field(default_factory=dict)
    log: list[dict[str, Any]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    # What the jwks_uri serves; a test may publish other keys to see the signature check bite.
    published: ProviderKeyring | None = None

    @property
    def registration(self) -> ClientRegistration:
        return ClientRegistration(CLIENT_ID, (REDIRECT_URI,))

    def lookup(self, client_id: str) -> ClientKeys | None:
        return self.client_keys if client_id == CLIENT_ID else None

    def handle(self, method: str, url: str, headers: dict[str, str], body: str | None) -> Response:
        path = urlsplit(url).path
        self.requests.append(f"{method} {url}")
        doc = discovery_document(ISSUER)
        try:
            if method == "GET" and path == "/id/.well-known/openid-configuration":
                return _json(200, doc)
            if method == "GET" and url == doc["jwks_uri"]:
                return _json(200, (self.published or self.ring).jwks())
            if method == "POST" and url == doc["pushed_authorization_request_endpoint"]:
                return self.par(url, headers, body or "")
            if method == "POST" and url == doc["token_endpoint"]:
                return self.token(url, headers, body or "")
            if method == "GET" and url == doc["userinfo_endpoint"]:
                return self.userinfo(url, headers)
            return _json(404, {"error": "not_found"})
        except OAuthError as error:
            self.log.append({"url": url, "error": error.error, "description": error.description})
            status, extra, text = _json(error.status, error.to_dict())
            return status, {**extra, **error.headers()}, text

    def par(self, url: str, headers: dict[str, str], body: str) -> Response:
        form = parse_qsl(body, keep_blank_values=True)
        params = dict(form)
        authenticate_client(params, issuer=ISSUER, lookup=self.lookup, replay_guard=self.guard)
        proof = verify_dpop_proof(headers.get("dpop"), htm="POST", htu=url, replay_guard=self.guard)
        request = validate_par_request(
            [(k, v) for k, v in form if not k.startswith("client_assertion")],
            client=self.registration,
            dpop_jkt_from_proof=proof.jkt,
        )
        request_uri = new_request_uri()
        self.pushed[request_uri] = (request, utc_now() + timedelta(seconds=PAR_EXPIRES_IN))
        return _json(201, {"request_uri": request_uri, "expires_in": PAR_EXPIRES_IN})

    def authorize(self, url: str) -> str:
        query = parse_qsl(urlsplit(url).query)
        stored, expires = self.pushed.pop(dict(query).get("request_uri", ""), (None, None))
        request = resolve_authorize_request(query, stored=stored, expires_at=expires)
        # The login pages would authenticate PERSON here.
        code, key, grant = issue_code(request, sub=PERSON.sub, amr=("pwd", "swk"))
        self.codes[key] = grant
        return authorization_response_url(request, code, ISSUER)

    def token(self, url: str, headers: dict[str, str], body: str) -> Response:
        params = dict(parse_qsl(body, keep_blank_values=True))
        client = authenticate_client(
            params, issuer=ISSUER, lookup=self.lookup, replay_guard=self.guard
        )
        proof = verify_dpop_proof(headers.get("dpop"), htm="POST", htu=url, replay_guard=self.guard)
        grant = redeem_code(
            params,
            grant=self.codes.get(token_hash(params.get("code", ""))),
            client_id=client.client_id,
            proof=proof,
            replay_guard=self.guard,
        )
        access_token, record = issue_access_token(
            client_id=client.client_id, sub=grant.sub, scopes=grant.request.scopes, proof=proof
        )
        self.access_tokens[record.token_hash] = record
        id_token = issue_id_token(
            issuer=ISSUER,
            client_id=client.client_id,
            client_keys=self.client_keys,
            signing_key=self.ring.current,
            person=PERSON,
            scopes=grant.request.scopes,
            nonce=grant.request.nonce,
            acr=grant.request.acr,
            amr=grant.amr,
        )
        status, extra, text = _json(
            200, token_response(access_token, id_token, grant.request.scopes)
        )
        return status, {**extra, "cache-control": "no-store"}, text

    def userinfo(self, url: str, headers: dict[str, str]) -> Response:
        access_token = access_token_from_header(headers.get("authorization"))
        proof = verify_dpop_proof(
            headers.get("dpop"),
            htm="GET",
            htu=url,
            replay_guard=self.guard,
            access_token=access_token,
        )
        record = check_access_token(
            access_token, self.access_tokens.get(token_hash(access_token)), proof
        )
        body = issue_userinfo(
            issuer=ISSUER,
            client_id=record.client_id,
            client_keys=self.client_keys,
            signing_key=self.ring.current,
            sub=record.sub,
            person_info={
                "uinfin": myinfo_item(PERSON.identity_number),
                "name": myinfo_item(PERSON.name),
            },
        )
        return 200, {"content-type": "application/jwt"}, body


def _json(status: int, body: Any) -> Response:
    return status, {"content-type": "application/json"}, json.dumps(body)


def run_rp(keys_path: Path, provider: Provider, mode: str = "flow") -> dict[str, Any]:
    """Run rp.mjs against ``provider`` over stdio and return its result line."""
    process = subprocess.Popen(
        [
            "node",
            str(HERE / "rp.mjs"),
            "--stdio",
            "--mode",
            mode,
            "--issuer",
            ISSUER,
            "--client-id",
            CLIENT_ID,
            "--keys",
            str(keys_path),
            "--redirect-uri",
            REDIRECT_URI,
        ],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        for line in process.stdout:
            message = json.loads(line)
            if message["type"] == "result":
                return message  # type: ignore[no-any-return]
            if message["type"] == "authorize":
                answer: dict[str, Any] = {"callback": provider.authorize(message["url"])}
            else:
                status, headers, text = provider.handle(
                    message["method"], message["url"], message["headers"], message.get("body")
                )
                answer = {"status": status, "headers": headers, "body": text}
            process.stdin.write(json.dumps(answer) + "\n")
            process.stdin.flush()
        raise AssertionError(
            "rp.mjs ended without a result: " + (process.stderr.read() if process.stderr else "")
        )
    finally:
        process.kill()
        process.wait(timeout=10)

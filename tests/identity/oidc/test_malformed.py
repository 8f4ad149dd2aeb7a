"""Whatever arrives in an assertion, proof, header or form, the answer is an OAuthError."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartnation.identity.oidc.client_auth import authenticate_client, verify_client_assertion
from smartnation.identity.oidc.dpop import verify_dpop_proof
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.keys import validate_client_jwks
from smartnation.identity.oidc.params import ClientRegistration, validate_par_request
from smartnation.identity.oidc.replay import InMemoryReplayGuard
from smartnation.identity.oidc.tokens import access_token_from_header

from ._support import CLIENT_ID, ISSUER, NOW, REDIRECT_URI, TOKEN_URL, RelyingParty

RP = RelyingParty()
KEYS = RP.keys()
ALGS = ["none", "None", "HS256", "HS512", "RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", ""]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(value: Any) -> str:
    return b64(json.dumps(value).encode())


headers = st.fixed_dictionaries(
    {"alg": st.sampled_from(ALGS) | json_scalars},
    optional={
        "typ": st.sampled_from(["dpop+jwt", "JWT"]) | json_scalars,
        "kid": st.sampled_from(["sig-1", "enc-1"]) | json_scalars,
        "jwk": json_values | st.just(RP.dpop.as_dict(private=False)),
        "crit": json_values,
        "b64": st.booleans(),
    },
)
claims = st.fixed_dictionaries(
    {},
    optional={
        k: json_values | st.integers(min_value=-(2**70), max_value=2**70)
        for k in ("iss", "sub", "aud", "iat", "exp", "nbf", "jti", "htm", "htu", "ath", "nonce")
    },
)
structured = st.builds(
    lambda h, c, s: f"{seg(h)}.{seg(c)}.{b64(s)}", headers, claims, st.binary(max_size=140)
)
segments = st.lists(st.text(alphabet="ABCxyz019-_=.+/ ", max_size=30), min_size=1, max_size=6).map(
    ".".join
)


def mutated(token: str) -> st.SearchStrategy[str]:
    return st.tuples(st.integers(0, len(token) - 1), st.characters()).map(
        lambda pair: token[: pair[0]] + pair[1] + token[pair[0] + 1 :]
    )


tokens = (
    st.text(max_size=200)
    | segments
    | structured
    | mutated(RP.assertion())
    | mutated(RP.proof())
    | st.binary(max_size=64).map(lambda b: b.decode("latin-1"))
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(tokens)
def test_client_assertions_fail_only_with_oauth_errors(token: str) -> None:
    try:
        verify_client_assertion(
            token,
            client_id=CLIENT_ID,
            client_keys=KEYS,
            issuer=ISSUER,
            replay_guard=InMemoryReplayGuard(),
            now=NOW,
        )
    except OAuthError as error:
        assert error.error == "invalid_client"


@SETTINGS
@given(tokens, st.dictionaries(st.text(max_size=30), st.text(max_size=30), max_size=4))
def test_authenticate_client_fails_only_with_oauth_errors(
    token: str, extra: dict[str, str]
) -> None:
    params = {
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": token,
        **extra,
    }
    with contextlib.suppress(OAuthError):
        authenticate_client(
            params,
            issuer=ISSUER,
            lookup=lambda _c: KEYS,
            replay_guard=InMemoryReplayGuard(),
            now=NOW,
        )


@SETTINGS
@given(tokens, st.none() | st.text(max_size=40))
def test_dpop_proofs_fail_only_with_oauth_errors(token: str, access_token: str | None) -> None:
    try:
        verify_dpop_proof(
            token,
            htm="POST",
            htu=TOKEN_URL,
            replay_guard=InMemoryReplayGuard(),
            now=NOW,
            access_token=access_token.encode("ascii", "ignore").decode() if access_token else None,
        )
    except OAuthError as error:
        assert error.error == "invalid_dpop_proof"


@SETTINGS
@given(json_values | st.fixed_dictionaries({"keys": st.lists(json_values, max_size=3)}))
def test_client_jwks_fail_only_with_oauth_errors(jwks: Any) -> None:
    try:
        validate_client_jwks(jwks)
    except OAuthError as error:
        assert error.error == "invalid_client_metadata"


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "scope",
                    "state",
                    "nonce",
                    "redirect_uri",
                    "response_type",
                    "acr_values",
                    "code_challenge",
                    "code_challenge_method",
                    "dpop_jkt",
                    "client_id",
                    "authentication_context_message",
                ]
            )
            | st.text(max_size=10),
            st.text(max_size=300),
        ),
        max_size=12,
    )
)
def test_par_forms_fail_only_with_oauth_errors(pairs: list[tuple[str, str]]) -> None:
    client = ClientRegistration(CLIENT_ID, (REDIRECT_URI,))
    with contextlib.suppress(OAuthError):
        validate_par_request(pairs, client=client, dpop_jkt_from_proof=None)


@SETTINGS
@given(st.none() | st.text(max_size=100))
def test_authorization_headers_fail_only_with_oauth_errors(value: str | None) -> None:
    try:
        access_token_from_header(value)
    except OAuthError as error:
        assert error.status == 401


ec_jwks = st.fixed_dictionaries(
    {
        "kty": st.just("EC"),
        "crv": st.sampled_from(["P-256", "P-384", "P-521", "secp256k1"]),
        "x": st.binary(max_size=70).map(b64) | json_values,
        "y": st.binary(max_size=70).map(b64) | json_values,
    },
    optional={"d": st.binary(max_size=32).map(b64), "use": st.sampled_from(["sig", "enc"])},
)


@SETTINGS
@given(ec_jwks, claims)
def test_dpop_header_keys_fail_only_with_oauth_errors(
    jwk: dict[str, Any], body: dict[str, Any]
) -> None:
    token = f"{seg({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': jwk})}.{seg(body)}.{b64(b'x' * 64)}"
    try:
        verify_dpop_proof(
            token,
            htm="POST",
            htu=TOKEN_URL,
            replay_guard=InMemoryReplayGuard(),
            now=NOW,
            access_token="é-not-ascii",
        )
    except OAuthError as error:
        assert error.error == "invalid_dpop_proof"


@SETTINGS
@given(st.lists(ec_jwks.map(lambda k: {**k, "kid": "k"}), max_size=3))
def test_client_jwks_with_odd_ec_keys_fail_only_with_oauth_errors(
    keys: list[dict[str, Any]],
) -> None:
    try:
        validate_client_jwks({"keys": keys})
    except OAuthError as error:
        assert error.error == "invalid_client_metadata"

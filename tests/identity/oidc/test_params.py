from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.params import (
    LOA2,
    LOA3,
    MAX_PARAM_LENGTH,
    ClientRegistration,
    authorization_response_url,
    check_registered_redirect_uri,
    new_request_uri,
    parse_form,
    redirect_error,
    resolve_authorize_request,
    validate_par_request,
)

from ._support import CLIENT_ID, ISSUER, NONCE, NOW, REDIRECT_URI, STATE, par_form, stored_request

CLIENT = ClientRegistration(client_id=CLIENT_ID, redirect_uris=(REDIRECT_URI,))


def validate(form, jkt=None, client=CLIENT):  # type: ignore[no-untyped-def]
    return validate_par_request(form, client=client, dpop_jkt_from_proof=jkt)


def refused(form, error, match, **kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(OAuthError, match=match) as info:
        validate(form, **kwargs)
    assert info.value.error == error
    # PAR errors are answered to the client, never by redirect.
    assert info.value.redirect_uri is None
    return info.value


def test_valid_request():
    request = validate(par_form())
    assert request.scopes == ("openid", "user.identity", "name")
    assert request.acr == LOA2
    assert request.state == STATE and request.nonce == NONCE
    assert request.dpop_jkt is None


def test_pairs_are_accepted_and_repeats_refused():
    validate(list(par_form().items()))
    pairs = [*par_form().items(), ("scope", "openid email")]
    refused(pairs, "invalid_request", "repeated")


def test_response_type_must_be_code():
    refused(par_form(response_type="token"), "unsupported_response_type", "code")
    refused(par_form(response_type="code id_token"), "unsupported_response_type", "code")


def test_scope_must_contain_openid():
    refused(par_form(scope="name email"), "invalid_scope", "openid")
    refused(par_form(scope=None), "invalid_scope", "openid")


def test_unknown_or_unapproved_scope():
    refused(par_form(scope="openid admin"), "invalid_scope", "admin")
    narrow = ClientRegistration(CLIENT_ID, (REDIRECT_URI,), allowed_scopes=frozenset({"openid"}))
    refused(par_form(scope="openid name"), "invalid_scope", "name", client=narrow)


def test_myinfo_scopes_are_known():
    assert validate(par_form(scope="openid uinfin cpfbalances noa-basic")).scopes[1] == "uinfin"


@pytest.mark.parametrize(
    "value",
    ["short", "x" * 29, "x" * 256, "a" * 29 + " ", "a" * 30 + "!", "ä" * 30, "a" * 30 + "\n"],
)
def test_state_and_nonce_format(value):
    refused(par_form(state=value), "invalid_request", "state")
    refused(par_form(nonce=value), "invalid_request", "nonce")


def test_state_edges_are_accepted():
    validate(par_form(state="A/+_-=." + "z" * 23, nonce="9" * 255))


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/callback",
        REDIRECT_URI + "/../../evil",
        REDIRECT_URI + "?next=https://evil.example",
        REDIRECT_URI + "#x",
        REDIRECT_URI.upper(),
        REDIRECT_URI + "/",
        "https://portal.example.sg.evil.example/callback",
        "//evil.example",
        "javascript:alert(1)",
    ],
)
def test_open_redirect_attempts_are_refused(redirect):
    refused(par_form(redirect_uri=redirect), "invalid_request", "redirect_uri")


def test_missing_redirect_uri():
    refused(par_form(redirect_uri=None), "invalid_request", "redirect_uri")


def test_pkce_is_required_and_s256_only():
    refused(par_form(code_challenge_method="plain"), "invalid_request", "S256")
    refused(par_form(code_challenge_method=None), "invalid_request", "S256")
    refused(par_form(code_challenge=None), "invalid_request", "code_challenge")
    refused(par_form(code_challenge="tooshort"), "invalid_request", "code_challenge")


def test_loa3_is_refused_with_a_clear_reason():
    error = refused(par_form(acr_values=LOA3), "invalid_request", "face verification")
    assert "loa:2" in error.description


def test_loa2_preferred_after_loa3_is_satisfied():
    assert validate(par_form(acr_values=f"{LOA3} {LOA2}")).acr == LOA2


def test_unknown_acr_is_refused():
    refused(par_form(acr_values="urn:other:loa:9"), "invalid_request", "acr_values")


def test_oversized_parameters_are_refused():
    refused(par_form(state="a" * (MAX_PARAM_LENGTH + 1)), "invalid_request", "too long")
    many = {**par_form(), **{f"x{i}": "1" for i in range(40)}}
    refused(many, "invalid_request", "too many")
    big = {**par_form(), **{f"p{i}": "y" * 2000 for i in range(9)}}
    refused(big, "invalid_request", "too large")


def test_request_objects_and_request_uri_are_refused_at_par():
    refused(par_form(request="eyJ..."), "request_not_supported", "request")
    refused(par_form(request_uri="urn:x"), "invalid_request", "request_uri")


def test_client_id_must_match_authenticated_client():
    refused(par_form(client_id="other"), "invalid_request", "client_id")


def test_response_mode_query_only():
    refused(par_form(response_mode="fragment"), "invalid_request", "response_mode")


def test_dpop_jkt_binding():
    jkt = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
    assert validate(par_form(dpop_jkt=jkt)).dpop_jkt == jkt
    assert validate(par_form(), jkt=jkt).dpop_jkt == jkt
    refused(par_form(dpop_jkt="A" * 43), "invalid_dpop_proof", "dpop_jkt", jkt=jkt)


def test_authentication_context():
    request = validate(
        par_form(authentication_context_type="APP_PAYMENT", authentication_context_message="Pay")
    )
    assert request.authentication_context_type == "APP_PAYMENT"
    refused(par_form(authentication_context_type="<script>"), "invalid_request", "context_type")
    refused(par_form(authentication_context_message="x" * 101), "invalid_request", "message")
    limited = ClientRegistration(
        CLIENT_ID, (REDIRECT_URI,), allowed_context_types=frozenset({"BANK_TRANSFER"})
    )
    refused(
        par_form(authentication_context_type="APP_PAYMENT"),
        "invalid_request",
        "not allowed",
        client=limited,
    )


def test_parse_form_refuses_non_strings():
    with pytest.raises(OAuthError):
        parse_form([("a", None)])  # type: ignore[list-item]


class TestAuthorizeEndpoint:
    def query(self, request_uri: str) -> dict[str, str]:
        return {"client_id": CLIENT_ID, "request_uri": request_uri}

    def test_resolves_stored_request(self):
        uri = new_request_uri()
        request = resolve_authorize_request(
            self.query(uri),
            stored=stored_request(),
            expires_at=NOW + timedelta(seconds=60),
            now=NOW,
        )
        assert request.redirect_uri == REDIRECT_URI

    @pytest.mark.parametrize(
        ("query", "stored", "match"),
        [
            ({"client_id": CLIENT_ID}, True, "required"),
            ({"client_id": CLIENT_ID, "request_uri": "https://evil.example"}, True, "required"),
            ({"client_id": CLIENT_ID, "request_uri": new_request_uri()}, False, "unknown"),
            ({"client_id": "other", "request_uri": new_request_uri()}, True, "client_id"),
        ],
    )
    def test_errors_are_pages_not_redirects(self, query, stored, match):
        with pytest.raises(OAuthError, match=match) as info:
            resolve_authorize_request(
                query,
                stored=stored_request() if stored else None,
                expires_at=NOW + timedelta(seconds=60),
                now=NOW,
            )
        assert info.value.redirect_url(ISSUER) is None

    def test_expired_request_uri(self):
        with pytest.raises(OAuthError, match="expired") as info:
            resolve_authorize_request(
                self.query(new_request_uri()),
                stored=stored_request(),
                expires_at=NOW,
                now=NOW,
            )
        assert info.value.error == "invalid_request_uri"

    def test_redirect_with_error_once_resolved(self):
        error = redirect_error(stored_request(), OAuthError("access_denied", "cancelled"))
        url = error.redirect_url(ISSUER)
        assert url is not None and url.startswith(REDIRECT_URI + "?")
        query = parse_qs(urlsplit(url).query)
        assert query == {
            "error": ["access_denied"],
            "error_description": ["cancelled"],
            "state": [STATE],
            "iss": [ISSUER],
        }

    def test_success_redirect_carries_code_state_iss(self):
        url = authorization_response_url(stored_request(), "the-code", ISSUER)
        assert parse_qs(urlsplit(url).query) == {
            "code": ["the-code"],
            "state": [STATE],
            "iss": [ISSUER],
        }


@pytest.mark.parametrize(
    "uri",
    [
        "http://portal.example.sg/cb",
        "https://portal.example.sg/cb#x",
        "https://u:p@portal.example.sg/",
        "/relative",
        "custom:/x",
    ],
)
def test_registration_redirect_rules(uri):
    with pytest.raises(OAuthError) as info:
        check_registered_redirect_uri(uri)
    assert info.value.error == "invalid_redirect_uri"


def test_registration_allows_https_and_loopback():
    check_registered_redirect_uri("https://portal.example.sg/cb")
    check_registered_redirect_uri("http://localhost:3080/callback")

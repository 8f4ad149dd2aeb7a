from __future__ import annotations

import pytest

from smartnation.identity.oidc import pkce
from smartnation.identity.oidc.dpop import verify_dpop_proof
from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.grants import CodeReplayed, issue_code, redeem_code

from ._support import CLIENT_ID, NOW, PKCE_VERIFIER, REDIRECT_URI, RelyingParty, T, stored_request


def test_rfc7636_appendix_b_vector():
    assert pkce.s256(PKCE_VERIFIER) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    pkce.verify(PKCE_VERIFIER, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


@pytest.mark.parametrize(
    "verifier", [None, "a" * 42, "a" * 129, "a" * 42 + "!", "a" * 42 + " ", "é" * 43]
)
def test_malformed_verifier(verifier):
    with pytest.raises(OAuthError) as info:
        pkce.verify(verifier, pkce.s256("a" * 43))
    assert info.value.error == "invalid_grant"


def test_pkce_mismatch():
    with pytest.raises(OAuthError, match="does not match"):
        pkce.verify("b" * 43, pkce.s256("a" * 43))


def test_verifier_length_edges():
    for verifier in ("a" * 43, "~._-" * 32):
        pkce.verify(verifier, pkce.s256(verifier))


class TestRedeemCode:
    @pytest.fixture
    def proof(self, rp, guard):  # type: ignore[no-untyped-def]
        return verify_dpop_proof(
            rp.proof(),
            htm="POST",
            htu="https://id.smartnation.example/id/token",
            replay_guard=guard,
            now=NOW,
        )

    def form(self, code: str, **overrides: str) -> dict[str, str]:
        return {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": PKCE_VERIFIER,
            **overrides,
        }

    def redeem(self, form, grant, proof, guard, client_id=CLIENT_ID, now=NOW):  # type: ignore[no-untyped-def]
        return redeem_code(
            form, grant=grant, client_id=client_id, proof=proof, replay_guard=guard, now=now
        )

    def test_redeem_once(self, rp, proof, guard):
        code, key, grant = issue_code(
            stored_request(rp.dpop.thumbprint()), sub="uuid-1", amr=("pwd", "swk"), now=NOW
        )
        assert key != code and len(code) >= 43
        assert self.redeem(self.form(code), grant, proof, guard).sub == "uuid-1"
        with pytest.raises(CodeReplayed) as info:
            self.redeem(self.form(code), grant, proof, guard)
        assert info.value.error == "invalid_grant"

    def test_expired_code(self, proof, guard):
        code, _, grant = issue_code(stored_request(), sub="u", amr=("pwd",), now=NOW)
        late = NOW.replace(second=0, minute=NOW.minute + 1)
        with pytest.raises(OAuthError, match="expired"):
            self.redeem(self.form(code), grant, proof, guard, now=late)
        assert grant.expires_at == T + 60

    def test_other_client(self, proof, guard):
        code, _, grant = issue_code(stored_request(), sub="u", amr=("pwd",), now=NOW)
        with pytest.raises(OAuthError, match="another client"):
            self.redeem(self.form(code), grant, proof, guard, client_id="other")

    def test_wrong_redirect_uri(self, proof, guard):
        code, _, grant = issue_code(stored_request(), sub="u", amr=("pwd",), now=NOW)
        with pytest.raises(OAuthError, match="redirect_uri"):
            self.redeem(
                self.form(code, redirect_uri="https://evil.example/cb"), grant, proof, guard
            )

    def test_pkce_mismatch(self, proof, guard):
        code, _, grant = issue_code(stored_request(), sub="u", amr=("pwd",), now=NOW)
        with pytest.raises(OAuthError, match="code_verifier"):
            self.redeem(self.form(code, code_verifier="z" * 43), grant, proof, guard)

    def test_dpop_key_must_match_par(self, proof, guard):
        other = RelyingParty().dpop.thumbprint()
        code, _, grant = issue_code(stored_request(other), sub="u", amr=("pwd",), now=NOW)
        with pytest.raises(OAuthError) as info:
            self.redeem(self.form(code), grant, proof, guard)
        assert info.value.error == "invalid_dpop_proof"

    def test_unknown_code_and_grant_type(self, proof, guard):
        with pytest.raises(OAuthError, match="unknown"):
            self.redeem(self.form("nope"), None, proof, guard)
        with pytest.raises(OAuthError) as info:
            self.redeem(self.form("x", grant_type="password"), None, proof, guard)
        assert info.value.error == "unsupported_grant_type"

"""OAuth 2.0 / OpenID Connect protocol errors with their registered error codes."""

from __future__ import annotations

import json
from typing import Final, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from smartnation.identity.oidc.algorithms import DPOP_ALGS

ErrorCode = Literal[
    # RFC 6749 section 5.2 and 4.1.2.1
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "unsupported_response_type",
    "invalid_scope",
    "access_denied",
    "server_error",
    "temporarily_unavailable",
    # RFC 9449 (DPoP)
    "invalid_dpop_proof",
    "use_dpop_nonce",
    # RFC 6750 (bearer / resource requests)
    "invalid_token",
    "insufficient_scope",
    # RFC 9126 (PAR)
    "invalid_request_uri",
    # RFC 7591 (client metadata)
    "invalid_redirect_uri",
    "invalid_client_metadata",
    # OpenID Connect Core 3.1.2.6
    "login_required",
    "consent_required",
    "request_not_supported",
    "request_uri_not_supported",
]

# Errors answered on a resource request carry a WWW-Authenticate challenge rather than only a
# JSON body (RFC 6750 section 3, RFC 9449 section 7.1).
_RESOURCE_ERRORS: Final = frozenset(
    {"invalid_token", "insufficient_scope", "invalid_dpop_proof", "use_dpop_nonce"}
)


# invalid_client is 401 (RFC 6749 section 5.2), as are token errors on resource requests.
_DEFAULT_STATUS: Final = {"invalid_client": 401, "invalid_token": 401, "server_error": 500}


class OAuthError(Exception):
    """A refusal the provider answers with an OAuth error response.

    ``redirect_uri`` is set only once that URI has been checked against the client's
    registration, so an error can never be turned into an open redirect.
    """

    def __init__(
        self,
        error: ErrorCode,
        description: str,
        status: int | None = None,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
        dpop_nonce: str | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error: ErrorCode = error
        self.description = description
        self.status = _DEFAULT_STATUS.get(error, 400) if status is None else status
        self.redirect_uri = redirect_uri
        self.state = state
        # A fresh server nonce to hand back in the DPoP-Nonce header with use_dpop_nonce.
        self.dpop_nonce = dpop_nonce

    def to_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def www_authenticate(self, scheme: Literal["DPoP", "Bearer"] = "DPoP") -> str | None:
        """The WWW-Authenticate header value for resource-request errors, else ``None``.

        For DPoP the challenge lists the accepted algorithms (RFC 9449 section 7.1).
        """
        if self.error not in _RESOURCE_ERRORS:
            return None
        # Quotes and backslashes would break the quoted-string; descriptions are ours, but be safe.
        description = self.description.replace("\\", "").replace('"', "'")
        parts = [f'error="{self.error}"', f'error_description="{description}"']
        if scheme == "DPoP":
            parts.append('algs="' + " ".join(DPOP_ALGS) + '"')
        return f"{scheme} " + ", ".join(parts)

    def headers(self) -> dict[str, str]:
        """Extra response headers: the DPoP challenge and a fresh DPoP nonce when relevant."""
        out: dict[str, str] = {"Cache-Control": "no-store"}
        challenge = self.www_authenticate()
        if challenge is not None and self.status == 401:
            out["WWW-Authenticate"] = challenge
        if self.dpop_nonce is not None:
            out["DPoP-Nonce"] = self.dpop_nonce
        return out

    def redirect_url(self, issuer: str) -> str | None:
        """Where to send the browser with this error, or ``None`` to show an error page.

        Only a redirect URI already validated against the registration is ever used.
        """
        if self.redirect_uri is None:
            return None
        params = {"error": self.error, "error_description": self.description}
        if self.state is not None:
            params["state"] = self.state
        params["iss"] = issuer  # RFC 9207: lets the client detect mix-up attacks
        return append_query(self.redirect_uri, params)


def append_query(url: str, params: dict[str, str]) -> str:
    """Add query parameters to a URL that may already carry a query."""
    parts = urlsplit(url)
    query = urlencode(params)
    if parts.query:
        query = parts.query + "&" + query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

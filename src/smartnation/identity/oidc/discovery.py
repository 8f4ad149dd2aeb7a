"""The OpenID Provider metadata served at ``<issuer>/.well-known/openid-configuration``."""

from __future__ import annotations

from typing import Any, Final

from smartnation.identity.oidc.algorithms import (
    CLIENT_SIGNING_ALGS,
    CONTENT_ENCRYPTION,
    DPOP_ALGS,
    ENCRYPTION_ALGS,
    PROVIDER_SIGNING_ALG,
)
from smartnation.identity.oidc.params import KNOWN_SCOPES, SUPPORTED_ACR

# The document changes only with a deployment, so caches may keep it for an hour.
CACHE_CONTROL: Final = "public, max-age=3600"


def issuer_for(base_url: str) -> str:
    """The issuer identifier for a deployment at ``base_url``: ``<base>/id``."""
    return base_url.rstrip("/") + "/id"


def discovery_document(issuer: str) -> dict[str, Any]:
    """Every field relying parties (openid-client, the SingPass demo app) read, and no more."""
    if issuer.endswith("/") or "?" in issuer or "#" in issuer:
        raise ValueError("issuer must be a URL without trailing slash, query or fragment")
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/auth",
        "pushed_authorization_request_endpoint": f"{issuer}/par",
        "require_pushed_authorization_requests": True,
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/.well-known/keys",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "scopes_supported": sorted(KNOWN_SCOPES),
        "claims_supported": [
            "sub",
            "sub_type",
            "sub_attributes",
            "iss",
            "aud",
            "iat",
            "exp",
            "nonce",
            "acr",
            "amr",
            "entityInfo",
            "userInfo",
            "person_info",
        ],
        "acr_values_supported": list(SUPPORTED_ACR),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": list(CLIENT_SIGNING_ALGS),
        "id_token_signing_alg_values_supported": [PROVIDER_SIGNING_ALG],
        "id_token_encryption_alg_values_supported": list(ENCRYPTION_ALGS),
        "id_token_encryption_enc_values_supported": [CONTENT_ENCRYPTION],
        "userinfo_signing_alg_values_supported": [PROVIDER_SIGNING_ALG],
        "userinfo_encryption_alg_values_supported": list(ENCRYPTION_ALGS),
        "userinfo_encryption_enc_values_supported": [CONTENT_ENCRYPTION],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": list(DPOP_ALGS),
        "authorization_response_iss_parameter_supported": True,
        "request_parameter_supported": False,
        "claims_parameter_supported": False,
    }

"""The protocol core of the OpenID Connect provider in the FAPI 2.0 profile.

Pure functions over JOSE objects: no database, no web framework. What must be remembered
between requests (used ``jti`` values, redeemed codes) goes through :class:`ReplayGuard`; the
time is injectable everywhere as ``now``. Modules, in the order a login uses them:

* :mod:`.discovery`: provider metadata;
* :mod:`.keys`: provider signing keys and rotation, client JWKS validation and fetching;
* :mod:`.client_auth`: ``private_key_jwt`` client authentication;
* :mod:`.dpop`: DPoP proofs, key thumbprints, nonces and bindings;
* :mod:`.params`: PAR and authorisation endpoint parameters, redirects;
* :mod:`.pkce`: S256 code challenges;
* :mod:`.grants`: authorisation codes;
* :mod:`.tokens`: ID tokens, userinfo responses and access tokens;
* :mod:`.errors`: the OAuth errors every function raises.
"""

from smartnation.identity.oidc.errors import OAuthError
from smartnation.identity.oidc.replay import InMemoryReplayGuard, ReplayGuard

__all__ = ["InMemoryReplayGuard", "OAuthError", "ReplayGuard"]

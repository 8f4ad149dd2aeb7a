"""The JOSE algorithms this provider accepts and produces, in one place.

EC only: client keys are EC by registration rule, and one family keeps verification uniform and
cheap. RSA (RS*, PS*), HMAC (HS*) and ``none`` are refused everywhere a client signs.
"""

from typing import Final

# Client assertions (private_key_jwt) and DPoP proofs.
CLIENT_SIGNING_ALGS: Final = ("ES256", "ES384", "ES512")
# FAPI 2.0 also permits PS256 and EdDSA for DPoP; we keep DPoP to the same EC family as client
# keys so a relying party needs one kind of key and we verify one kind of signature.
DPOP_ALGS: Final = CLIENT_SIGNING_ALGS
# What the provider itself signs with (ID tokens, userinfo).
PROVIDER_SIGNING_ALG: Final = "ES256"
# Key management for encrypted ID tokens and userinfo: the client's enc key decides among these.
ENCRYPTION_ALGS: Final = ("ECDH-ES+A256KW", "ECDH-ES+A192KW", "ECDH-ES+A128KW")
DEFAULT_ENCRYPTION_ALG: Final = "ECDH-ES+A256KW"
CONTENT_ENCRYPTION: Final = "A256CBC-HS512"
# Curves each EC signing algorithm is defined over (RFC 7518 section 3.4).
CURVE_OF_ALG: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}

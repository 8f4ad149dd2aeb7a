"""National digital identity: SingPass-style login, MyInfo and CorpPass.

People log in to government and private services through an OpenID Connect provider in the
FAPI 2.0 profile (pushed authorisation requests, private_key_jwt, DPoP, PKCE, signed then
encrypted ID tokens). MyInfo shares government-verified personal data with a service after the
person consents; CorpPass does the same for people acting for a business. The protocol rules
live in :mod:`smartnation.identity.oidc`, free of database and web imports.
"""

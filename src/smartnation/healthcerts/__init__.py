"""HealthCerts: Singapore's digital COVID-19 test and vaccination certificates.

A HealthCert is an OpenAttestation v2 document: JSON whose every value is salted and hashed into
a Merkle root that the issuing clinic signs with its DID key and ties to its domain name through a
DNS TXT record. The PDT (pre-departure test) certificate carries a FHIR R4 bundle describing the
patient, the specimen and the result; Notarise endorses clinic certificates and Verify checks any
certificate.

This package holds the standalone OpenAttestation library (`openattestation`), the HealthCert
document schemas and FHIR content checks (`documents`) and the `certs` command line (`cli`). None of
it touches a database or the web layer, so it can be used on its own.
"""

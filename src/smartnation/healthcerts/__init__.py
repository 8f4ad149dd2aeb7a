"""HealthCerts: Singapore's digital COVID-19 test and vaccination certificates.

A HealthCert is an OpenAttestation v2 document: JSON whose every value is salted and hashed into
a Merkle root that the issuing clinic signs with its DID key and ties to its domain name through a
DNS TXT record. The PDT (pre-departure test) certificate carries a FHIR R4 bundle describing the
patient, the specimen and the result; Notarise endorses clinic certificates and Verify checks any
certificate.

This package holds the standalone OpenAttestation library (`openattestation`, no database or web
imports), the HealthCert document schemas and FHIR content checks (`documents`), the `certs`
command line (`cli`), and the Notarise and Verify services built on them (`service`, `api`,
`pages`): clinics registered with their domain and DID, endorsed certificates stored encrypted
behind QR links, and our own OCSP responder for revocations.
"""

"""OpenAttestation v2: wrap, obfuscate, sign, verify and encrypt documents.

Agrees byte for byte with `@govtechsg/open-attestation` 6.x and fragment for fragment with
`@govtechsg/oa-verify` 9.x (run offline). Plain Python: no database or web imports.
"""

from .digest import digest_document
from .dns import SystemTxtResolver, TableTxtResolver, TxtResolver, txt_resolver_from_setting
from .errors import (
    DecryptionError,
    KeyWithPeriodError,
    ObfuscationError,
    OpenAttestationError,
    SchemaValidationError,
    SigningError,
)
from .fragments import Fragment, Reason, is_valid
from .ocsp import HttpxOcspFetcher, OcspFetchError, unreachable_ocsp_fetcher
from .salt import salt_data, unsalt_data
from .schema import get_data, is_signed_wrapped_v2, is_wrapped_v2
from .sign import load_private_key, sign_document, sign_merkle_root
from .verify import (
    VerificationContext,
    document_integrity_holds,
    documents_integrity_hold,
    verify_document,
)
from .wrap import wrap_document, wrap_documents

__all__ = [
    "DecryptionError",
    "Fragment",
    "HttpxOcspFetcher",
    "KeyWithPeriodError",
    "ObfuscationError",
    "OcspFetchError",
    "OpenAttestationError",
    "Reason",
    "SchemaValidationError",
    "SigningError",
    "SystemTxtResolver",
    "TableTxtResolver",
    "TxtResolver",
    "VerificationContext",
    "digest_document",
    "document_integrity_holds",
    "documents_integrity_hold",
    "get_data",
    "is_signed_wrapped_v2",
    "is_valid",
    "is_wrapped_v2",
    "load_private_key",
    "salt_data",
    "sign_document",
    "sign_merkle_root",
    "txt_resolver_from_setting",
    "unreachable_ocsp_fetcher",
    "unsalt_data",
    "verify_document",
    "wrap_document",
    "wrap_documents",
]

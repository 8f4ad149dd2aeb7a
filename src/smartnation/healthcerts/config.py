"""HealthCerts settings from `SMARTNATION_HEALTHCERTS_*` variables.

The government's signing key defaults to a published development key so that the demo runs with
nothing set; using it logs a loud warning, and a production site sets its own key.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import coincurve
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smartnation.core.config import VAR_DIR
from smartnation.healthcerts.openattestation import load_private_key
from smartnation.healthcerts.openattestation.did import address_of_public_key

log = logging.getLogger(__name__)

# Published in the source: anyone can sign with it, so documents signed with it prove nothing.
DEVELOPMENT_SIGNING_KEY = "f6047aa197f10c85a6f43b307667183023563af341693bf136bed6ad1ac364f3"
DEFAULT_DNS_RECORDS = VAR_DIR / "healthcerts" / "dns-records.json"


class HealthCertsSettings(BaseSettings):
    """Notarise and Verify: the government's key and identity, DNS, storage and limits."""

    model_config = SettingsConfigDict(env_prefix="SMARTNATION_HEALTHCERTS_")

    # secp256k1 private key (64 hex digits) the government signs endorsed documents with.
    signing_key: str = DEVELOPMENT_SIGNING_KEY
    # The DNS name whose TXT record ties the signing key's DID to the government (DNS-DID).
    issuer_domain: str = "notarise.smartnation.localhost"
    issuer_name: str = "Smart Nation Notarise (development)"
    # `system` asks real DNS; a path names a JSON table {"domain": ["txt", ...]} that clinic
    # registration keeps up to date (the embedded demo's stand-in for DNS).
    dns: str = str(DEFAULT_DNS_RECORDS)
    # OCSP_RESPONDER (our own responder serves revocations) or NONE.
    revocation: str = "OCSP_RESPONDER"
    renderer_url: str = "https://healthcert.renderer.moh.gov.sg/"
    max_upload_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_batch_documents: int = Field(default=500, ge=1)

    @property
    def dns_table_path(self) -> Path | None:
        """The JSON table of TXT records, or None when real DNS is used."""
        if not self.dns or self.dns == "system":
            return None
        return Path(self.dns)

    @property
    def uses_development_key(self) -> bool:
        return self.signing_key.strip().removeprefix("0x").lower() == DEVELOPMENT_SIGNING_KEY

    def private_key(self) -> coincurve.PrivateKey:
        return load_private_key(self.signing_key)

    @property
    def issuer_address(self) -> str:
        return address_of_public_key(self.private_key().public_key)

    @property
    def issuer_did(self) -> str:
        return f"did:ethr:{self.issuer_address}"

    @property
    def issuer_key_id(self) -> str:
        return f"{self.issuer_did}#controller"

    @property
    def dns_did_record(self) -> str:
        """The TXT record to publish at `issuer_domain`."""
        return f"openatts a=dns-did; p={self.issuer_key_id}; v=1.0;"


@lru_cache(maxsize=1)
def get_healthcerts_settings() -> HealthCertsSettings:
    """The process-wide HealthCerts settings, read once; warns loudly about the development key."""
    settings = HealthCertsSettings()
    settings.private_key()  # a malformed key fails at start-up, not at the first notarisation
    if settings.uses_development_key:
        log.warning(
            "!!! HealthCerts are signed with the PUBLISHED DEVELOPMENT KEY (%s). Anyone can forge "
            "them. Set SMARTNATION_HEALTHCERTS_SIGNING_KEY to the government's own secp256k1 key "
            "before issuing real certificates. !!!",
            settings.issuer_address,
        )
    return settings

"""Fetching OCSP responder answers for OCSP_RESPONDER revocation, behind an injectable fetcher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

# Reason codes an OCSP responder may give (oa-verify's OcspResponderRevocationReason).
OCSP_REVOCATION_REASONS: dict[int, str] = {
    0: "UNSPECIFIED",
    1: "KEY_COMPROMISE",
    2: "CA_COMPROMISE",
    3: "AFFILIATION_CHANGED",
    4: "SUPERSEDED",
    5: "CESSATION_OF_OPERATION",
    6: "CERTIFICATE_HOLD",
    8: "REMOVE_FROM_CRL",
    9: "PRIVILEGE_WITHDRAWN",
    10: "A_A_COMPROMISE",
    1001: "SUSPENDED",
}


class OcspFetchError(RuntimeError):
    """The responder could not be reached or did not answer with JSON."""


OcspFetcher = Callable[[str], Any]
"""Takes the full URL `{location}/0x{hash}` and returns the parsed JSON answer."""


@dataclass
class HttpxOcspFetcher:
    """GET the URL with httpx; any failure or non-2xx status is an OcspFetchError."""

    timeout_seconds: float = 10.0

    def __call__(self, url: str) -> Any:
        try:
            response = httpx.get(url, timeout=self.timeout_seconds, follow_redirects=True)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OcspFetchError(str(exc) or type(exc).__name__) from exc


def unreachable_ocsp_fetcher(url: str) -> Any:
    """A fetcher for offline use: every request fails."""
    raise OcspFetchError(f"OCSP responder not reachable offline: {url}")

"""DNS TXT look-ups for issuer identity, behind a small interface chosen by configuration.

`SystemTxtResolver` asks real DNS (dnspython); `TableTxtResolver` answers from a table such as a
JSON file `{"domain": ["txt record", ...]}` for tests and air-gapped use (a domain absent from the
table has no records). `txt_resolver_from_setting` picks one from a setting string.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import dns.exception
import dns.resolver

ENV_SETTING = "SMARTNATION_HEALTHCERTS_DNS"
ETHEREUM_NETWORK_IDS = frozenset({"1", "3", "4", "5", "11155111", "137", "80002", "1337"})
_ETHEREUM_ADDRESS = re.compile(r"0x[a-fA-F0-9]{40}")  # unanchored, as the reference tests it
_DNSSEC_UNKNOWN = False


class DnsLookupError(RuntimeError):
    """No DNS answer could be obtained (not the same as an answer with no records)."""


class TxtResolver(Protocol):
    """Anything that returns the TXT strings published at a domain."""

    def txt_records(self, domain: str) -> list[str]:
        """TXT strings at `domain` ([] when there are none); DnsLookupError when DNS fails."""
        ...


@dataclass
class SystemTxtResolver:
    """Real DNS through dnspython."""

    timeout_seconds: float = 5.0

    def txt_records(self, domain: str) -> list[str]:
        resolver = dns.resolver.Resolver()
        resolver.lifetime = self.timeout_seconds
        try:
            answer = resolver.resolve(domain, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise DnsLookupError(f"Unable to query DNS for {domain}: {exc}") from exc
        return [b"".join(r.strings).decode("utf-8", "replace") for r in answer]


class TableTxtResolver:
    """TXT records from a table; keys starting with `_` (comments) are ignored."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self._table = {
            domain.lower().rstrip("."): [str(r) for r in records]
            for domain, records in table.items()
            if not domain.startswith("_")
        }

    @classmethod
    def from_json_file(cls, path: str | Path) -> TableTxtResolver:
        """Read `{"domain": ["txt record", ...]}` from a JSON file."""
        try:
            table = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read DNS records from {path}: {exc}") from exc
        if not isinstance(table, dict) or not all(
            isinstance(v, list) for k, v in table.items() if not str(k).startswith("_")
        ):
            raise ValueError(f"{path} must map domain names to lists of TXT strings")
        return cls(table)

    def txt_records(self, domain: str) -> list[str]:
        return list(self._table.get(domain.lower().rstrip("."), []))


def txt_resolver_from_setting(setting: str | None) -> TxtResolver:
    """`"system"` (or empty) for real DNS, otherwise the path of a JSON table of records."""
    if not setting or setting == "system":
        return SystemTxtResolver()
    return TableTxtResolver.from_json_file(setting)


def _trim_value(text: str) -> str:
    return text[:-1].strip() if text.endswith(";") else text.strip()


def parse_openatts_record(record: str) -> dict[str, str]:
    """Key/value pairs of one `openatts ...` TXT record, as @govtechsg/dnsprove parses them."""
    tokens = record.strip().split(" ")
    parsed: dict[str, str] = {"type": tokens[0]}
    for token in tokens[1:]:
        key, _, value = token.partition("=")
        parsed[key.strip()] = _trim_value(value)
    return parsed


def _openatts_records(records: list[str]) -> list[dict[str, str]]:
    unquoted = [r[1:-1] if r.startswith('"') else r for r in records]
    return [parse_openatts_record(r) for r in unquoted if r.startswith("openatts")]


def _is_did(text: str) -> bool:
    parts = text.split(":")
    method = parts[1] if len(parts) > 1 else ""
    specific = ":".join(parts[2:])
    return (
        parts[0] == "did"
        and bool(method)
        and bool(specific)
        and re.search("[a-z]+", method) is not None
    )


@dataclass(frozen=True)
class DnsDidRecord:
    """`openatts a=dns-did; p=<DID#key>; v=1.0;`"""

    public_key: str
    version: str


@dataclass(frozen=True)
class DocumentStoreRecord:
    """`openatts net=ethereum netId=<id> addr=<0x...>`"""

    net: str
    net_id: str
    address: str


def dns_did_records(records: list[str]) -> list[DnsDidRecord]:
    """The well-formed DNS-DID records among TXT strings."""
    found = []
    for r in _openatts_records(records):
        if (
            r.get("type") == "openatts"
            and r.get("a") == "dns-did"
            and isinstance(r.get("p"), str)
            and _is_did(r["p"])
            and "v" in r
        ):
            found.append(DnsDidRecord(public_key=r["p"], version=r["v"]))
    return found


def document_store_records(records: list[str]) -> list[DocumentStoreRecord]:
    """The well-formed document-store (DNS-TXT) records among TXT strings."""
    found = []
    for r in _openatts_records(records):
        if (
            r.get("type") == "openatts"
            and r.get("net") == "ethereum"
            and r.get("netId") in ETHEREUM_NETWORK_IDS
            and _ETHEREUM_ADDRESS.search(r.get("addr", ""))
        ):
            found.append(DocumentStoreRecord(net=r["net"], net_id=r["netId"], address=r["addr"]))
    return found

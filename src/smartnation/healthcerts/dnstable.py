"""The JSON table of DNS TXT records that stands in for DNS on the embedded demo.

`SMARTNATION_HEALTHCERTS_DNS` names the file (`var/healthcerts/dns-records.json` by default) or
says `system` for real DNS. On a table, registering a clinic publishes its DNS-DID record there,
and the government's own record is published beside it; hand-written entries are kept.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from smartnation.healthcerts.config import HealthCertsSettings
from smartnation.healthcerts.openattestation import (
    SystemTxtResolver,
    TableTxtResolver,
    TxtResolver,
)


def read_table(path: Path) -> dict[str, list[str]]:
    """The table in `path`; an absent or unreadable file is an empty table."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {
        str(domain): [str(r) for r in records]
        for domain, records in loaded.items()
        if isinstance(records, list)
    }


def resolver(settings: HealthCertsSettings) -> TxtResolver:
    """The TXT resolver the settings choose: real DNS or the table file (read on each call)."""
    path = settings.dns_table_path
    if path is None:
        return SystemTxtResolver()
    return _FileTxtResolver(path)


class _FileTxtResolver:
    """Re-reads the table on each look-up, so a clinic registered a moment ago is found."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def txt_records(self, domain: str) -> list[str]:
        return TableTxtResolver(read_table(self.path)).txt_records(domain)


def publish(path: Path, records: Mapping[str, Sequence[str]]) -> None:
    """Set the records of the given domains in the table file, atomically, keeping the others."""
    table = read_table(path)
    for domain, domain_records in records.items():
        table[domain.lower()] = list(domain_records)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".dns-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(table, out, indent=2, ensure_ascii=False)
            out.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

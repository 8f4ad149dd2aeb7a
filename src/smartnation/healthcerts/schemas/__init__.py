"""Published JSON schemas kept with the package so validation works offline.

- `openattestation-2.0-strict.json` / `-non-strict.json`: the OA 2.0 schema as compiled into
  `@govtechsg/open-attestation` 6.9.7 (strict is used when wrapping, non-strict when recognising
  wrapped documents, as the reference does).
- `pdt-healthcert-2.0*.json`, `fhir-4.0.1-lite.json`: from `@govtechsg/oa-schemata` 1.22.0.
- `notarise-1.0*.json`: from the Open-Attestation/schemata repository.
- `vaccination-healthcert-1.0.json`: `src/sg/gov/moh/vaccination-healthcert/1.0/schema.json` of the
  Open-Attestation/schemata repository (commit 261b86a8), unchanged but for whitespace; its `$id`
  is the upstream one, copied from the PDT schema it grew from.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_schema(file_name: str) -> dict[str, Any]:
    """Parse one schema file shipped in this package."""
    text = resources.files(__name__).joinpath(file_name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema

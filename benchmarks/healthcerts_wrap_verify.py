"""Wrap and verify HealthCerts: ours beside @govtechsg/open-attestation, in the same run.

Wraps batches of copies of a PDT HealthCert (1,000 / 10,000 / 100,000 by default) and checks the
integrity (target hash + Merkle proof, the reference `verifySignature`) of 10,000 wrapped
documents, then prints times and the ratio reference / ours. The reference runs through
`tests/interop/healthcerts/bench_wrap.mjs` (run `npm ci` there first); its proof building is
quadratic, so by default it is not run at 100,000.

    uv run python benchmarks/healthcerts_wrap_verify.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from smartnation.healthcerts.openattestation import wrap_documents
from smartnation.healthcerts.openattestation.verify import document_integrity_holds

ROOT = Path(__file__).resolve().parents[1]
NODE_PROJECT = ROOT / "tests" / "interop" / "healthcerts"
FIXTURE = (
    ROOT
    / ".."
    / "shared"
    / "fixtures"
    / "healthcerts"
    / "notarise__v2__pdt_pcr_with_nric_unwrapped.json"
)


def _document() -> dict[str, Any]:
    if FIXTURE.exists():
        document: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
        return document
    return {
        "id": "benchmark",
        "issuers": [
            {
                "name": "Clinic",
                "id": "did:ethr:0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1",
                "revocation": {"type": "NONE"},
                "identityProof": {
                    "type": "DNS-DID",
                    "location": "clinic.healthcerts.example",
                    "key": "did:ethr:0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1#controller",
                },
            }
        ],
        "fhirBundle": {
            "entry": [{"resource": {"name": [{"text": f"Person {i}"}]}} for i in range(40)]
        },
    }


def _ours(document: dict[str, Any], sizes: list[int], verify_count: int) -> dict[str, Any]:
    result: dict[str, Any] = {"wrap": {}, "verify": {}}
    keep: list[dict[str, Any]] = []
    for size in sizes:
        documents = [copy.deepcopy(document) for _ in range(size)]
        start = time.perf_counter()
        wrapped = wrap_documents(documents)
        result["wrap"][size] = time.perf_counter() - start
        if not keep and size >= verify_count:
            keep = wrapped[:verify_count]
        del wrapped, documents
    if keep:
        start = time.perf_counter()
        ok = sum(document_integrity_holds(d) for d in keep)
        result["verify"][len(keep)] = time.perf_counter() - start
        assert ok == len(keep), "our own documents must verify"
    return result


def _reference(document: dict[str, Any], sizes: list[int], verify_count: int) -> dict[str, Any]:
    if shutil.which("node") is None or not (NODE_PROJECT / "node_modules").exists():
        print("reference skipped: run `npm ci` in tests/interop/healthcerts")
        return {"wrap": {}, "verify": {}}
    payload = json.dumps({"document": document, "wrapCounts": sizes, "verifyCount": verify_count})
    completed = subprocess.run(
        ["node", "--max-old-space-size=8192", "bench_wrap.mjs"],
        cwd=NODE_PROJECT,
        input=payload,
        capture_output=True,
        text=True,
        check=True,
    )
    raw = json.loads(completed.stdout)
    return {
        "wrap": {int(k): v for k, v in raw["wrap"].items()},
        "verify": {int(k): v for k, v in raw["verify"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument(
        "--reference-max",
        type=int,
        default=10000,
        help="largest batch given to the (quadratic) reference",
    )
    parser.add_argument("--verify", type=int, default=10000)
    args = parser.parse_args()
    document = _document()
    ours = _ours(document, args.sizes, args.verify)
    reference = _reference(
        document, [s for s in args.sizes if s <= args.reference_max], args.verify
    )
    print(f"\n{'operation':<24}{'ours (s)':>12}{'reference (s)':>16}{'ratio':>10}")
    rows = [(f"wrap {n:,}", ours["wrap"].get(n), reference["wrap"].get(n)) for n in args.sizes]
    rows += [(f"verify {n:,}", t, reference["verify"].get(n)) for n, t in ours["verify"].items()]
    for label, mine, theirs in rows:
        ratio = f"{theirs / mine:.1f}x" if mine and theirs else "-"
        theirs_text = f"{theirs:.2f}" if theirs else "not run"
        print(f"{label:<24}{mine:>12.2f}{theirs_text:>16}{ratio:>10}")
    print("ratio = reference time / our time (higher means we are faster)")


if __name__ == "__main__":
    main()

"""Wrap and verify HealthCerts: ours beside @govtechsg/open-attestation, in the same run.

Wraps batches of copies of a PDT HealthCert (1,000 / 10,000 / 100,000 by default) and checks the
integrity (target hash + Merkle proof, the reference `verifySignature`) of 10,000 wrapped
documents (ours through `documents_integrity_hold`, which hashes several documents side by
side). Ours runs twice: in one process, and across all cores (forked workers); the
reference runs in one Node process through `tests/interop/healthcerts/bench_wrap.mjs` (run
`npm ci` there first). Its proof building is quadratic, so by default it is not run at 100,000.

Printed per operation: wall seconds of ours (one process, all cores) and of the reference, the
ratios reference / ours, and the CPU seconds of the one-process runs beside the reference's
(CPU time is less disturbed than wall time when the machine is shared).

    uv run python benchmarks/healthcerts_wrap_verify.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import json
import multiprocessing
import os
import shutil
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from smartnation.healthcerts.openattestation import documents_integrity_hold, wrap_documents
from smartnation.healthcerts.openattestation.speedups import native

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
CORES = os.cpu_count() or 1


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


def _count_fields(node: Any) -> int:
    if isinstance(node, dict) and node:
        return sum(_count_fields(v) for v in node.values())
    if isinstance(node, list) and node:
        return sum(_count_fields(v) for v in node)
    return 1


def _timed(work: Any) -> tuple[Any, float, float]:
    """(result, wall seconds, CPU seconds of this process)."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


# the documents to verify, inherited by forked workers instead of being pickled to them
_TO_VERIFY: list[dict[str, Any]] = []


def _verify_range(bounds: tuple[int, int]) -> int:
    return sum(documents_integrity_hold(_TO_VERIFY[bounds[0] : bounds[1]]))


def _verify_all_cores(count: int) -> int:
    step = -(-count // (CORES * 4))
    ranges = [(i, min(i + step, count)) for i in range(0, count, step)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=CORES, mp_context=context) as pool:
        return sum(pool.map(_verify_range, ranges))


def _ours(document: dict[str, Any], sizes: list[int], verify_count: int) -> dict[str, Any]:
    result: dict[str, Any] = {"wrap": {}, "wrap_cpu": {}, "wrap_cores": {}, "verify": {}}
    forking = CORES > 1 and "fork" in multiprocessing.get_all_start_methods()
    for size in sizes:
        documents = [copy.deepcopy(document) for _ in range(size)]
        wrapped, wall, cpu = _timed(functools.partial(wrap_documents, documents))
        result["wrap"][size], result["wrap_cpu"][size] = wall, cpu
        if not _TO_VERIFY and size >= verify_count:
            _TO_VERIFY.extend(wrapped[:verify_count])
        del wrapped
        if forking:
            _, wall, _ = _timed(functools.partial(wrap_documents, documents, workers=CORES))
            result["wrap_cores"][size] = wall
        del documents
        print(f"  ours: wrapped {size:,}", flush=True)
    if _TO_VERIFY:
        count = len(_TO_VERIFY)
        ok, wall, cpu = _timed(lambda: sum(documents_integrity_hold(_TO_VERIFY)))
        assert ok == count, "our own documents must verify"
        result["verify"] = {"n": count, "wall": wall, "cpu": cpu}
        if forking:
            ok, wall, _ = _timed(functools.partial(_verify_all_cores, count))
            assert ok == count, "our own documents must verify"
            result["verify"]["cores"] = wall
    return result


def _reference(document: dict[str, Any], sizes: list[int], verify_count: int) -> dict[str, Any]:
    empty: dict[str, Any] = {"wrap": {}, "verify": {}, "wrapCpu": {}, "verifyCpu": {}}
    if shutil.which("node") is None or not (NODE_PROJECT / "node_modules").exists():
        print("reference skipped: run `npm ci` in tests/interop/healthcerts")
        return empty
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
    return {key: {int(k): v for k, v in raw.get(key, {}).items()} for key in empty}


def _seconds(value: float | None) -> str:
    return f"{value:.2f}" if value else "-"


def _ratio(theirs: float | None, mine: float | None) -> str:
    return f"{theirs / mine:.1f}x" if mine and theirs else "-"


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
    route = "compiled C speedups" if native is not None else "pure Python (no C speedups)"
    print(f"{_count_fields(document)} fields a document; ours: {route}; {CORES} cores")
    ours = _ours(document, args.sizes, args.verify)
    print("  reference: running", flush=True)
    reference = _reference(
        document, [s for s in args.sizes if s <= args.reference_max], args.verify
    )
    header = (
        f"\n{'operation':<15}{'ours 1 proc':>12}{f'ours {CORES} proc':>12}{'reference':>11}"
        f"{'ratio 1 proc':>14}{f'ratio {CORES} proc':>14}{'CPU s ours / ref':>19}"
    )
    print(header)
    rows = [
        (
            f"wrap {n:,}",
            ours["wrap"][n],
            ours["wrap_cores"].get(n),
            reference["wrap"].get(n),
            ours["wrap_cpu"][n],
            reference["wrapCpu"].get(n),
        )
        for n in args.sizes
    ]
    if ours["verify"]:
        n = ours["verify"]["n"]
        rows.append(
            (
                f"verify {n:,}",
                ours["verify"]["wall"],
                ours["verify"].get("cores"),
                reference["verify"].get(n),
                ours["verify"]["cpu"],
                reference["verifyCpu"].get(n),
            )
        )
    for label, mine, cores, theirs, my_cpu, their_cpu in rows:
        cpu = f"{_seconds(my_cpu)} / {_seconds(their_cpu)}"
        print(
            f"{label:<15}{_seconds(mine):>12}{_seconds(cores):>12}{_seconds(theirs):>11}"
            f"{_ratio(theirs, mine):>14}{_ratio(theirs, cores):>14}{cpu:>19}"
        )
    print("seconds (wall unless marked CPU); ratio = reference time / our time (higher is faster)")


if __name__ == "__main__":
    main()

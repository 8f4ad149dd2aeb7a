"""TempID decryption rate against the raw AES-GCM limit, and contact resolution time.

Run: `uv run python benchmarks/tracing_tempid_decrypt.py [--count N]`

Prints, for one process (one core):
- raw AES-GCM decryptions per second of the `cryptography` library on inputs of exactly a
  TempID's size (16-byte IV, 29-byte ciphertext, 16-byte tag), already split: the limit;
- `open_tempid` and `decrypt_tempid` per second on the same TempIDs as base64 strings, and the
  ratio to the limit (the overhead is base64, slicing and building the result);
- the same with a three-key ring when every TempID was sealed with the oldest key;
- a throughput across all cores with one process per core (decryption is independent per TempID);
- processing one 50,000-record upload, and ranking 50,000 encounters into contacts.
"""

from __future__ import annotations

import argparse
import base64
import multiprocessing
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from smartnation.tracing.bluetrace import (
    Keyring,
    classify_upload,
    decrypt_tempid,
    generate_tempid,
    issue_upload_token,
    open_tempid,
    process_encounter_log,
)
from smartnation.tracing.proximity import encounters_from_records, rank_contacts

KEYS = [bytes([i]) * 32 for i in range(1, 4)]
NOW = datetime(2020, 5, 20, 12, tzinfo=UTC)
T0 = int(NOW.timestamp())


def best_rates(count: int, runs: dict[str, Callable[[], object]], repeat: int = 7) -> list[float]:
    """Operations per second of each run, best of `repeat`; the runs take turns so that a busy
    machine disturbs them alike, which keeps their ratios honest."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, run in runs.items():
            began = time.perf_counter()
            run()
            times[label].append(time.perf_counter() - began)
    rates = []
    for label, taken in times.items():
        rate = count / min(taken)
        print(f"  {label:<58} {rate:>12,.0f} /s   (median {count / statistics.median(taken):,.0f})")
        rates.append(rate)
    return rates


def each(operation: Callable[[Any], object], items: list[Any]) -> None:
    """Apply to every item, keeping no results: every variant pays the same loop and call."""
    for item in items:
        operation(item)


def make_tempids(ring: Keyring, count: int) -> list[str]:
    rng = random.Random(1)
    return [
        generate_tempid(
            ring, base64.b64encode(rng.randbytes(21)).decode(), T0 - 600, T0 + 300
        ).tempid
        for _ in range(count)
    ]


def _worker(count: int, barrier: Any, results: Any) -> None:
    ring = Keyring.of(KEYS[:1])
    tempids = make_tempids(ring, count)
    barrier.wait()  # every core starts decrypting at the same moment
    began = time.perf_counter()
    for tempid in tempids:
        open_tempid(ring, tempid)
    results.put(count / (time.perf_counter() - began))


def all_cores_rate(count: int) -> tuple[int, float]:
    """Sum of the rates of one process per core, decrypting at the same time."""
    workers = os.cpu_count() or 1
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(workers), context.Queue()
    processes = [
        context.Process(target=_worker, args=(count, barrier, results)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    total = sum(results.get() for _ in processes)
    for process in processes:
        process.join()
    return workers, total


def upload_of(records_count: int, ring: Keyring) -> dict[str, object]:
    """A realistic upload: ~2,000 distinct TempIDs heard repeatedly, 5% junk."""
    rng = random.Random(2)
    heard = [
        generate_tempid(ring, base64.b64encode(rng.randbytes(21)).decode(), T0 - 900, T0 + 86400)
        for _ in range(2000)
    ]
    models = ["iPhone X", "SM-G950F", "LYA-L29", "Pixel 3a XL", "Mi A1"]
    records = []
    for _ in range(records_count):
        roll = rng.random()
        msg = "Missing TempID" if roll < 0.05 else rng.choice(heard).tempid
        records.append(
            {
                "timestamp": (T0 + rng.randrange(86400)) * 1000,
                "msg": msg,
                "modelC": rng.choice(models),
                "modelP": rng.choice(models),
                "rssi": rng.randrange(-100, -40),
                "org": "SG_MOH",
                "v": 2,
            }
        )
    token = issue_upload_token(ring, "Xq3Lr9TzW1pKs0vBn7YcHd2FgJ5m", "ABC234", ["ABC234"], now=NOW)
    return {"token": token, "records": records, "events": []}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="TempIDs to decrypt per run")
    count = parser.parse_args().count

    one_key = Keyring.of(KEYS[:1])
    tempids = make_tempids(one_key, count)
    raw = [base64.b64decode(t) for t in tempids]
    split = [(r[29:45], r[:29] + r[45:]) for r in raw]
    cipher = AESGCM(KEYS[0])

    print(f"TempID decryption, one process, {count:,} TempIDs of 84 characters (61 bytes)")
    rotated = Keyring.of(list(reversed(KEYS)))  # the sealing key is tried last
    limit, opened, checked, oldest = best_rates(
        count,
        {
            "raw AESGCM.decrypt (16-byte IV, 29+16 bytes): the limit": lambda: each(
                lambda item: cipher.decrypt(item[0], item[1], None), split
            ),
            "open_tempid, 1 key (base64 in, uid/start/expiry out)": lambda: each(
                lambda t: open_tempid(one_key, t), tempids
            ),
            "decrypt_tempid, 1 key (raises on failure)": lambda: each(
                lambda t: decrypt_tempid(one_key, t), tempids
            ),
            "open_tempid, 3 keys, sealed with the oldest (3 tries each)": lambda: each(
                lambda t: open_tempid(rotated, t), tempids
            ),
        },
    )
    print(f"  ratio open_tempid / raw AES-GCM:     {opened / limit:.2f}")
    print(f"  ratio decrypt_tempid / raw AES-GCM:  {checked / limit:.2f}")
    print(f"  ratio 3-key worst case / raw / 3:    {oldest * 3 / limit:.2f}")
    workers, parallel = all_cores_rate(count)
    print(
        f"  all cores: {parallel:,.0f} /s with {workers} processes "
        f"({parallel / workers:,.0f} /s per core)"
    )

    print("\nUpload processing and contact resolution")
    upload = upload_of(50_000, one_key)
    began = time.perf_counter()
    processed = process_encounter_log(upload, one_key, now=NOW)
    processing = time.perf_counter() - began
    print(
        f"  process one upload of 50,000 records (2,000 distinct TempIDs): {processing:.3f} s "
        f"({dict(processed.counts)})"
    )
    began = time.perf_counter()
    classify_upload(upload["records"], one_key)  # type: ignore[arg-type]
    print(
        "  the same, classified as the server stores it (classify_upload): "
        f"{time.perf_counter() - began:.3f} s"
    )
    encounters = encounters_from_records(processed.records)
    began = time.perf_counter()
    ranked = rank_contacts(encounters)
    ranking = time.perf_counter() - began
    close = sum(1 for exposure in ranked if exposure.is_close_contact)
    print(
        f"  rank {len(encounters):,} encounters into {len(ranked):,} contacts "
        f"({close} close): {ranking:.3f} s"
    )
    rng = random.Random(3)
    synthetic = [
        type(encounters[0])(
            f"c{rng.randrange(500)}", rng.uniform(0, 25 * 86400), rng.uniform(-100, -40)
        )
        for _ in range(50_000)
    ]
    began = time.perf_counter()
    rank_contacts(synthetic)
    print(f"  rank 50,000 encounters over 25 days: {time.perf_counter() - began:.3f} s")


if __name__ == "__main__":
    main()

"""Sustained sends a second through the WhatsApp adapter, against the limit of the link.

Local WhatsApp Cloud API stand-ins run in their own processes (the bare httptools server): one
uncapped, and capped ones (1,000 and 100 messages a second by default) that answer 130429
beyond the cap.

1. Uncapped: first the stand-in's own ceiling (bare HTTP/1.1 over asyncio streams, no client
   library). Then, for each in-flight bound, plain POSTs of a ready-made body through one
   `aiohttp.ClientSession` with that many pooled connections, and the adapter's `send_many`
   (which builds each payload and parses each reply over the same kind of session). The
   ratios are printed.
2. Capped: the adapter with a token bucket at the cap, which should hold it with no 130429 at
   all; then with no bucket and rate-limit retries, which should still lose nothing. A cap is
   only tested when the client can go faster than it, hence the lower cap beside 1,000/s.

    uv run python benchmarks/messaging_channel_throughput.py [--messages 20000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import aiohttp
from yarl import URL

from smartnation.messaging.channels.base import (
    ChannelKind,
    Language,
    OutboundMessage,
    RateLimited,
    SendPolicy,
    SendResult,
    send_bounded,
)
from smartnation.messaging.channels.ratelimit import TokenBucket
from smartnation.messaging.channels.whatsapp import WhatsAppCloudChannel

TOKEN = "test-access-token"
PHONE_NUMBER_ID = "106540352242922"


@contextmanager
def fake_server(rate: float | None = None) -> Iterator[str]:
    command = [sys.executable, "-m", "smartnation.messaging.channels.fakes.whatsapp_server"]
    if rate is not None:
        command += ["--rate", str(rate)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"fake server did not start: {line!r}")
        yield line.removeprefix("listening on ").strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def messages(count: int) -> list[OutboundMessage]:
    languages = list(Language)
    return [
        OutboundMessage(
            message_id=f"bench-{n}",
            channel=ChannelKind.WHATSAPP,
            recipient=f"+65{80000000 + n}",
            language=languages[n % 4],
            template_name="covid_update",
            template_parameters=("Tan Ah Kow", "12 May"),
        )
        for n in range(count)
    ]


@dataclass
class Run:
    label: str
    sent: int
    seconds: float
    accepted: int
    rate_limited_answers: int = 0

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds


async def raw_posts(url: str, count: int, concurrency: int) -> Run:
    """Plain POSTs of one pre-encoded body through one aiohttp session, `concurrency` in flight."""
    channel = WhatsAppCloudChannel(phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN)
    body = json.dumps(channel.build_payload(messages(1)[0])).encode()
    await channel.aclose()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    target = URL(f"{url}/v23.0/{PHONE_NUMBER_ID}/messages")
    ok = 0
    remaining = iter(range(count))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal ok
            for _ in remaining:
                async with session.post(target, data=body, headers=headers) as response:
                    await response.read()
                    ok += response.status == 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Run(f"plain aiohttp, {concurrency} in flight", count, elapsed, ok)


async def server_ceiling(url: str, count: int, concurrency: int) -> Run:
    """What the stand-in itself can answer: bare HTTP/1.1 over asyncio streams, no client
    library, so that the figures below are not mistaken for the server's limit."""
    channel = WhatsAppCloudChannel(phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN)
    body = json.dumps(channel.build_payload(messages(1)[0])).encode()
    await channel.aclose()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    request = (
        f"POST /v23.0/{PHONE_NUMBER_ID}/messages HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    ok = 0
    remaining = iter(range(count))

    async def worker() -> None:
        nonlocal ok
        reader, writer = await asyncio.open_connection(host, int(port))
        for _ in remaining:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            ok += head.startswith(b"HTTP/1.1 200")
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Run(f"bare HTTP/1.1 (stand-in's ceiling), {concurrency} conns", count, elapsed, ok)


async def adapter_sends(
    url: str,
    count: int,
    concurrency: int,
    *,
    limiter: TokenBucket | None = None,
    retries: int = 3,
    label: str = "",
) -> Run:
    channel = WhatsAppCloudChannel(
        phone_number_id=PHONE_NUMBER_ID,
        access_token=TOKEN,
        base_url=url,
        timeout=30,
        policy=SendPolicy(concurrency=concurrency, limiter=limiter, rate_limit_retries=retries),
    )
    rate_limited = 0

    async def counting_send(message: OutboundMessage) -> SendResult:
        nonlocal rate_limited
        result = await channel.send(message)
        rate_limited += isinstance(result.failure, RateLimited)
        return result

    batch = messages(count)
    try:
        started = time.perf_counter()
        results = await send_bounded(counting_send, batch, channel.policy)
        elapsed = time.perf_counter() - started
    finally:
        await channel.aclose()
    accepted = sum(r.accepted for r in results)
    lost = [r for r in results if not r.accepted]
    if lost:
        print(f"  {len(lost)} not accepted, first: {lost[0].failure}")
    return Run(
        label or f"adapter send_many, {concurrency} in flight",
        count,
        elapsed,
        accepted,
        rate_limited,
    )


def show(run: Run) -> None:
    print(
        f"  {run.label:<52} {run.per_second:8.0f} msg/s  "
        f"({run.accepted}/{run.sent} accepted, {run.rate_limited_answers} x 130429, "
        f"{run.seconds:.2f} s)"
    )


def median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.per_second)[len(runs) // 2]


async def uncapped(count: int, concurrencies: list[int], rounds: int) -> None:
    print(f"uncapped stand-in: {count} messages a run, median of {rounds} alternating rounds")
    with fake_server() as url:
        # Warm both sides: connection set-up and first-request imports.
        await raw_posts(url, 500, 64)
        ceiling = await server_ceiling(url, count, 16)
        show(ceiling)
        for concurrency in concurrencies:
            raws: list[Run] = []
            adapters: list[Run] = []
            # Alternate, so that load from elsewhere on the machine falls on both alike.
            for _ in range(rounds):
                raws.append(await raw_posts(url, count, concurrency))
                adapters.append(await adapter_sends(url, count, concurrency))
            raw, adapter = median_run(raws), median_run(adapters)
            show(raw)
            show(adapter)
            print(
                f"  adapter / plain aiohttp: {adapter.per_second / raw.per_second:.2f}; "
                f"adapter / stand-in ceiling: {adapter.per_second / ceiling.per_second:.2f}"
            )


async def capped(count: int, cap: float, concurrency: int) -> None:
    print(f"\nstand-in capped at {cap:.0f}/s (130429 beyond): {count} messages a run")
    with fake_server(rate=cap) as url:
        # A small burst: a full second's burst on top of the refill would break the cap.
        held = await adapter_sends(
            url,
            count,
            concurrency,
            limiter=TokenBucket(cap, capacity=max(1.0, cap / 20)),
            label=f"adapter + {cap:.0f}/s token bucket, {concurrency} in flight",
        )
        show(held)
        print(f"  {held.per_second / cap:.1%} of the cap, {held.sent - held.accepted} lost")
        # Let the server's bucket refill before the next run.
        await asyncio.sleep(1.5)
        unpaced = await adapter_sends(
            url,
            count,
            concurrency,
            retries=50,
            label=f"adapter, no bucket, retries on 130429, {concurrency} in flight",
        )
        show(unpaced)
        print(
            f"  {unpaced.per_second / cap:.1%} of the cap, {unpaced.sent - unpaced.accepted} lost"
        )


async def main(args: argparse.Namespace) -> None:
    await uncapped(args.messages, args.concurrency, args.rounds)
    for cap in args.caps:
        await capped(args.capped_messages, cap, max(args.concurrency))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--capped-messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--caps",
        type=float,
        nargs="+",
        default=[1000.0, 100.0],
        help="capped stand-ins to run; one below the client's own limit shows the cap held",
    )
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="uvloop")
    parser.add_argument("--quick", action="store_true", help="small runs, for a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.capped_messages, args.rounds = 1_000, 1_000, 1
    # Other work on the machine moves these figures: print the load beside them.
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"event loop: {args.loop}; python {sys.version.split()[0]}; {os.cpu_count()} cores")
    print(f"load average before: {load}")
    coroutine = main(args)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(coroutine)
    else:
        asyncio.run(coroutine)

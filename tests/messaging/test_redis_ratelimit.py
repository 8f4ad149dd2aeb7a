"""The Redis token bucket: processes sharing a key share one rate."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
import redis

from smartnation.messaging.ratelimit_redis import RedisTokenBucket

URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def key() -> str:
    try:
        redis.Redis.from_url(URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return f"smartnation:test:{secrets.token_hex(4)}"


def test_two_buckets_on_one_key_share_the_rate(key: str) -> None:
    first, second = RedisTokenBucket(URL, key, 100), RedisTokenBucket(URL, key, 100)

    async def take(bucket: RedisTokenBucket, count: int) -> None:
        for _ in range(count):
            await bucket.acquire()

    started = time.perf_counter()

    async def both() -> None:
        await asyncio.gather(take(first, 50), take(second, 50))

    asyncio.run(both())
    elapsed = time.perf_counter() - started
    # 100 tokens at 100/s with a burst of 5: about 0.95 s together, not 0.5 s each.
    assert elapsed >= 0.85, elapsed


def test_try_acquire_and_pause(key: str) -> None:
    bucket = RedisTokenBucket(URL, key, 10, capacity=2)
    assert bucket.try_acquire() and bucket.try_acquire()
    assert not bucket.try_acquire()
    other = RedisTokenBucket(URL, key, 10, capacity=2)
    other.pause(5)
    time.sleep(0.3)
    assert not bucket.try_acquire()  # paused for every process sharing the key


def test_hundreds_of_concurrent_senders_share_one_connection_and_the_rate(key: str) -> None:
    # A dispatcher window has hundreds of sends waiting at once; each used to take its own
    # Redis connection, until the client refused ("Too many connections") mid-window.
    bucket = RedisTokenBucket(URL, key, 1000, capacity=50)

    async def window() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(bucket.acquire() for _ in range(600)))
        return time.perf_counter() - started

    elapsed = asyncio.run(window())
    # 600 tokens at 1,000/s with a burst of 50: at least 0.55 s.
    assert elapsed >= 0.5, elapsed
    clients = redis.Redis.from_url(URL).client_list()
    assert len(clients) < 20

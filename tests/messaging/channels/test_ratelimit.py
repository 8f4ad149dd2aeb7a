import asyncio

import pytest

from smartnation.messaging.channels.ratelimit import TokenBucket

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_try_acquire_spends_the_burst_then_refills_at_the_rate():
    clock = Clock()
    bucket = TokenBucket(10, capacity=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]
    clock.now += 0.1
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.now += 10
    # Refill stops at capacity.
    assert sum(bucket.try_acquire() for _ in range(10)) == 3


def test_pause_gives_nothing_until_it_ends_and_restarts_empty():
    clock = Clock()
    bucket = TokenBucket(10, capacity=5, clock=clock)
    bucket.pause(2.0)
    clock.now += 1.9
    assert not bucket.try_acquire()
    clock.now += 0.1
    assert not bucket.try_acquire()
    clock.now += 0.1
    assert bucket.try_acquire()


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(10, capacity=0.5)


async def test_acquire_holds_the_rate_across_concurrent_waiters():
    bucket = TokenBucket(500, capacity=5)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def take(n: int) -> None:
        for _ in range(n):
            await bucket.acquire()

    await asyncio.gather(*(take(25) for _ in range(8)))
    elapsed = loop.time() - started
    # 200 tokens, 5 of them free: at least 195 / 500 s.
    assert elapsed >= 0.195 * 0.95
    assert elapsed < 5


async def test_acquire_waits_out_a_pause():
    bucket = TokenBucket(1000, capacity=10)
    bucket.pause(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bucket.acquire()
    assert loop.time() - started >= 0.09


async def test_acquire_refuses_more_than_capacity():
    with pytest.raises(ValueError):
        await TokenBucket(10, capacity=2).acquire(3)

"""A token bucket for per-channel send rates, in-process and async.

One bucket per channel per process. Several worker processes sharing one provider account
share the bucket's state in Redis instead (`messaging.ratelimit_redis.RedisTokenBucket`, with
the same `acquire`, `try_acquire` and `pause`), or give each of N processes 1/N of the rate.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Refill is computed in floats: 0.1 s at 10/s must give a whole token, not 0.9999999.
_EPSILON = 1e-9


class TokenBucket:
    """`rate` tokens a second, holding at most `capacity` (the largest burst).

    Keep the capacity small next to the rate when the provider counts per second: a full
    bucket plus a second of refill would otherwise send twice the rate in one second.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity) if capacity is not None else max(1.0, self.rate / 20)
        if self.capacity < 1:
            raise ValueError("capacity must allow at least one token")
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._paused_until = 0.0
        # FIFO: waiters are served in arrival order, so no sender starves.
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take tokens now if there are enough; never waits (used by servers enforcing a cap)."""
        now = self._clock()
        if now < self._paused_until:
            return False
        self._refill(now)
        if self._tokens + _EPSILON >= tokens:
            self._tokens -= tokens
            return True
        return False

    async def acquire(self, tokens: float = 1.0) -> None:
        """Wait until `tokens` are available, then take them."""
        if tokens > self.capacity:
            raise ValueError("cannot take more tokens than the bucket holds")
        if not self._lock.locked() and self.try_acquire(tokens):
            return
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens + _EPSILON >= tokens:
                    self._tokens -= tokens
                    return
                await asyncio.sleep((tokens - self._tokens) / self.rate)

    def pause(self, seconds: float) -> None:
        """Give no tokens for `seconds` (the provider asked us to back off), then start empty."""
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = 0.0
            self._updated = until

"""A token bucket kept in Redis, so that worker processes sharing one provider number share a rate.

The bucket's state (tokens, last refill) is one Redis hash updated by a Lua script, atomically,
using the Redis server's clock so that machines with skewed clocks still agree. It has the same
`acquire`, `try_acquire` and `pause` as the in-process `TokenBucket` it stands in for.
"""

from __future__ import annotations

import asyncio
import logging
import time

import redis
import redis.asyncio as aioredis

from smartnation.messaging.channels.ratelimit import TokenBucket

log = logging.getLogger(__name__)
# Tokens booked for this process are spent within this long, or given up (never hoarded).
_BOOKING_LIFETIME = 1.0

# KEYS[1]: the bucket. ARGV: rate, capacity, tokens wanted, pause seconds (0: none), and 1 to
# reserve (the caller waits its turn: the bucket may go below zero) or 0 to take only if there.
# Returns how long the caller must wait before sending ("0": go now; "-1": not taken).
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local want, pause = tonumber(ARGV[3]), tonumber(ARGV[4])
local reserve = tonumber(ARGV[5]) == 1
local data = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'paused')
local tokens = tonumber(data[1]) or capacity
local ts = tonumber(data[2]) or now
local paused = tonumber(data[3]) or 0
if pause > 0 then
  if now + pause > paused then paused = now + pause end
  redis.call('HSET', KEYS[1], 'tokens', 0, 'ts', paused, 'paused', paused)
  redis.call('EXPIRE', KEYS[1], 3600)
  return tostring(pause)
end
if now < paused and not reserve then return '-1' end
local start = math.max(now, ts)
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
if not reserve and tokens + 1e-9 < want then return '-1' end
tokens = tokens - want
local wait = math.max(0, start - now)
if tokens < -1e-9 then wait = wait + (-tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(start))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class RedisTokenBucket(TokenBucket):
    """`rate` tokens a second shared by every process using the same `key`.

    A process books tokens in small batches (a hundredth of a second's worth, within the
    burst), one booking at a time: one Redis round trip serves several sends, and a window of
    hundreds of concurrent senders needs one Redis connection, not hundreds. A batch is spent
    at the time the script gave it, so bursts stay within the bucket's capacity. Should Redis
    be unreachable, the process paces itself at the full rate and the provider's throttling
    answers (always safe to retry) cover the difference until Redis is back.
    """

    def __init__(self, url: str, key: str, rate: float, capacity: float | None = None) -> None:
        super().__init__(rate, capacity)
        self.key = key
        self._url = url
        self._async: aioredis.Redis | None = None
        self._sync = redis.Redis.from_url(url)
        self.batch = max(1.0, min(self.capacity, self.rate / 100))
        self._booked = 0.0
        self._booked_until = 0.0
        self._booking = asyncio.Lock()

    def _client(self) -> aioredis.Redis:
        if self._async is None:
            self._async = aioredis.Redis.from_url(self._url)
        return self._async

    async def _call(self, tokens: float, pause: float = 0.0) -> float:
        answer = await self._client().eval(
            _SCRIPT, 1, self.key, self.rate, self.capacity, tokens, pause, 1
        )
        return float(answer)

    def try_acquire(self, tokens: float = 1.0) -> bool:
        answer = self._sync.eval(_SCRIPT, 1, self.key, self.rate, self.capacity, tokens, 0, 0)
        return float(answer) == 0.0

    async def acquire(self, tokens: float = 1.0) -> None:
        if tokens > self.capacity:
            raise ValueError("cannot take more tokens than the bucket holds")
        # Senders queue here in arrival order; the one at the front books for those behind.
        async with self._booking:
            if self._booked >= tokens and time.monotonic() < self._booked_until:
                self._booked -= tokens
                return
            want = max(tokens, self.batch)
            try:
                # One round trip: the script books our turn and says how long until it comes.
                wait = await self._call(want)
            except redis.RedisError:
                log.warning("shared rate limit unreachable; pacing this process alone")
                await super().acquire(tokens)
                return
            if wait > 0:
                await asyncio.sleep(wait)
            self._booked = want - tokens
            self._booked_until = time.monotonic() + _BOOKING_LIFETIME

    def pause(self, seconds: float) -> None:
        """Stop every process sharing the bucket for `seconds` (the provider said slow down)."""
        self._booked = 0.0
        try:
            self._sync.eval(
                _SCRIPT, 1, self.key, self.rate, self.capacity, 0, max(seconds, 1e-3), 0
            )
        except redis.RedisError:
            super().pause(seconds)

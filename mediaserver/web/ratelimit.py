"""Rate limits on Redis: a sliding window log per key (a sorted set of attempt times), shared by every
web process. Used for logins (failed attempts, per client address and per account) and for watch party
requests (guest joins per address, party creation per user); docs/API.md lists the numbers.

`acquire` is one Lua script, so concurrent requests cannot all slip under a limit: each attempt takes a
slot in every window it counts against, or none when any of them is full. A login that succeeds gives
its slot back (`release`): only failures count. When Redis cannot be reached the limits are not
applied (logged): logging in must keep working while the job queue is down.
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass

from flask import current_app, jsonify, request
from redis.exceptions import RedisError
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger("mediaserver.web")

#: Every limit counts within this window (s).
WINDOW_S = 60

# KEYS: the windows; ARGV: now (s), window (s), member, then one limit per key. Returns {1} when a slot
# was taken in every window, else {0, seconds until the fullest one frees a slot}.
_ACQUIRE = """
local now, window, member = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
    local free_at = tonumber(oldest[2]) + window - now
    if free_at > wait then wait = free_at end
  end
end
if wait > 0 then return {0, tostring(wait)} end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, member)
  redis.call('EXPIRE', key, math.ceil(window) + 1)
end
return {1, '0'}
"""


@dataclass(frozen=True)
class Slot:
    """An attempt counted in `keys` (`member` identifies it), or refused: `retry_after_s` > 0."""

    keys: tuple[str, ...]
    member: str
    retry_after_s: int = 0

    @property
    def refused(self) -> bool:
        return self.retry_after_s > 0


def client_address() -> str:
    """The client's address (behind nginx: from X-Forwarded-For once MEDIASERVER_PROXY_FIX is set)."""
    return request.remote_addr or "unknown"


def acquire(limits: dict[str, int], window_s: int = WINDOW_S) -> Slot:
    """Count one attempt against every `{name: limit}` window, or refuse it when any window is full."""
    prefix = current_app.config.get("RATE_LIMIT_PREFIX", "mediaserver:ratelimit")
    keys = tuple(f"{prefix}:{name}" for name in limits)
    member = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
    try:
        allowed, wait = current_app.redis.eval(_ACQUIRE, len(keys), *keys, time.time(), window_s, member,
                                               *limits.values())
    except RedisError as exc:
        log.warning("rate limits not applied, Redis is unreachable: %s", exc)
        return Slot((), member)
    if int(allowed):
        return Slot(keys, member)
    return Slot(keys, member, max(1, math.ceil(float(wait))))


def release(slot: Slot) -> None:
    """Give an attempt's slot back (a successful login does not count against its limits)."""
    try:
        for key in slot.keys:
            current_app.redis.zrem(key, slot.member)
    except RedisError as exc:
        log.warning("rate limit slot not released, Redis is unreachable: %s", exc)


def too_many(slot: Slot, message: str):
    """429 JSON `{"error", "message", "retry_after_s"}` with `Retry-After`."""
    response = jsonify(error=HTTP_STATUS_CODES[429], message=f"{message}; try again in {slot.retry_after_s} s",
                       retry_after_s=slot.retry_after_s)
    response.status_code = 429
    response.headers["Retry-After"] = str(slot.retry_after_s)
    return response

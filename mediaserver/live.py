"""Redis primitives the live features share (watch parties: `party/store.py`; the playback session:
`playsession/store.py`): the server clock, a write lock across processes, and the open Socket.IO
connections of a room with the liveness of the web processes holding them. An adapter: Redis in,
facts out; no Flask.

Keys: `mediaserver:process:<process id>` says a web process is alive (renewed while it has clients);
each feature names the hash of its room's connections (`connect`'s `key`): Socket.IO sid ->
"<process id>|<owner id>", the owner being a party member id or a playback device id.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from redis import Redis
from redis.exceptions import LockError

LOCK_TIMEOUT_S = 5  # a holder that died frees the lock after this long (s)
LOCK_POLL_S = (0.002, 0.05)  # first and longest wait (s) between two tries of a busy lock
PROCESS_PREFIX = "mediaserver:process:"
PROCESS_TTL_MS = 5_000  # a web process not heard from for this long is dead (its timer renews it)


def now_ms() -> int:
    """Server wall clock in ms since the epoch: the one clock every process and the protocols share."""
    return time.time_ns() // 1_000_000


@contextmanager
def locked(redis: Redis, name: str) -> Iterator[None]:
    """Hold the lock at key `name` (across processes); raises redis LockError after LOCK_TIMEOUT_S of
    waiting.

    A busy lock is tried again after 2 ms, 4, 8, ... then every 50 ms (LOCK_POLL_S): redis-py's own
    loop sleeps 100 ms between tries, so a command that met the timer's lock waited >= 100 ms."""
    lock = redis.lock(name, timeout=LOCK_TIMEOUT_S)
    stop_at = time.monotonic() + LOCK_TIMEOUT_S
    wait = LOCK_POLL_S[0]
    while not lock.acquire(blocking=False):
        if time.monotonic() + wait > stop_at:
            raise LockError("Unable to acquire lock within the time specified", lock_name=lock.name)
        time.sleep(wait)
        wait = min(2 * wait, LOCK_POLL_S[1])
    try:
        yield
    finally:
        lock.release()


def alive(redis: Redis, process_id: str) -> None:
    """Mark this web process alive for PROCESS_TTL_MS (renewed by its timer loop while it has clients)."""
    redis.set(f"{PROCESS_PREFIX}{process_id}", b"1", px=PROCESS_TTL_MS)


def connect(redis: Redis, key: str, sid: str, process_id: str, owner_id: str) -> None:
    """Record, in the hash `key`, an open connection `sid` of `owner_id` on process `process_id`."""
    alive(redis, process_id)
    redis.hset(key, sid, f"{process_id}|{owner_id}")


def disconnect(redis: Redis, key: str, sid: str) -> set[str]:
    """Forget connection `sid` in the hash `key`; returns the owners that still have a live connection
    there. Entries of processes that died (killed: no disconnect ever ran) are dropped on the way."""
    redis.hdel(key, sid)
    return live_owners(redis, key)


def live_owners(redis: Redis, key: str) -> set[str]:
    """The owners with a connection in the hash `key` on a process that is alive (one that stopped
    renewing its key for PROCESS_TTL_MS is dead: its entries are dropped)."""
    entries = {other: value.decode().partition("|") for other, value in redis.hgetall(key).items()}
    alive_ids = {pid for pid, _, _ in entries.values() if redis.exists(f"{PROCESS_PREFIX}{pid}")}  # once each
    dead = [other for other, (pid, _, _) in entries.items() if pid not in alive_ids]
    if dead:
        redis.hdel(key, *dead)
    return {owner for pid, _, owner in entries.values() if pid in alive_ids}

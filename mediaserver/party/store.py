"""Where a party's live state is kept: Redis, shared by every web process, with the database as its
durable copy. The I/O edge around the pure `state.py`.

Redis keys (prefix `mediaserver:party:<id>:`):
- `state`: the Party as JSON, changed only under `lock` (a redis-py Lock: one writer at a time across
  processes);
- `seen`: hash member id -> last time (ms) it was heard from (presence, written without the lock);
- `reports`: hash member id -> `{"drift_ms", "rtt_ms"}` JSON, the members' last `report`;
- `sids`: hash Socket.IO sid -> "<process id>|<member id>": open connections (a member may use several
  devices); an entry whose process stopped renewing `mediaserver:process:<id>` (killed) is dead;
- `tick` / `beat`: short-lived keys electing the one process that runs a party's timers this second
  and sends its 5 s `state` heartbeat.
`mediaserver:parties:active` is the set of running parties' ids.
Every change is also written to the `watch_sessions` row (`snapshot`), so a flushed Redis refills.
"""
from __future__ import annotations

import json
from contextlib import AbstractContextManager

from redis import Redis
from sqlalchemy import update
from sqlalchemy.orm import Session

from .. import live
from ..live import alive, now_ms  # noqa: F401 (the party's names for them: service.py, web/)
from ..models import WatchSession
from .model import MAX_STATE_CHARS, Party, Rejected

PREFIX = "mediaserver:party:"
ACTIVE = "mediaserver:parties:active"
STATE_TTL_S = 7 * 24 * 3600  # an untouched party's Redis state expires after a week (the row remains)


def _key(party_id: int, name: str) -> str:
    return f"{PREFIX}{party_id}:{name}"


def load(redis: Redis, db: Session, party_id: int) -> Party | None:
    """The party's live state from Redis, else from its row's snapshot; None when it has neither."""
    raw = redis.get(_key(party_id, "state"))
    if raw is not None:
        return Party.from_dict(json.loads(raw))
    row = db.get(WatchSession, party_id)
    if row is None or not row.snapshot:
        return None
    return Party.from_dict(row.snapshot)


def save(redis: Redis, db: Session, party: Party, durable: bool = True) -> None:
    """Write the party to Redis and, when `durable`, to its row (timeline columns and snapshot), then
    commit the session (and so whatever else it holds: `access.create`'s new rows).

    Not atomic across the two: Redis is written first, in one pipeline (the state and the running set),
    then the row in its own transaction. A failure between them (the database refusing, the process
    killed) leaves Redis ahead of the row, which the next durable save catches up; while Redis has the
    state, the row is only read to refill a flushed or restarted Redis, which then resumes from the
    last durable save. Raises RedisError (nothing written) or the database's error, and Rejected
    (invalid; nothing written) when the state's JSON would exceed MAX_STATE_CHARS: every part of it is
    bounded (model.py), this is the bound on the whole."""
    data = party.to_dict()
    text = json.dumps(data)
    if len(text) > MAX_STATE_CHARS:
        raise Rejected("invalid", f"the party's state would exceed {MAX_STATE_CHARS} characters; nothing was changed")
    pipe = redis.pipeline(transaction=False)  # one round trip
    pipe.set(_key(party.id, "state"), text, ex=STATE_TTL_S)
    if party.ended_ms is None:
        pipe.sadd(ACTIVE, party.id)
    else:
        pipe.srem(ACTIVE, party.id)
    pipe.execute()
    if durable:  # one UPDATE (no SELECT of the row first: this is on every command's path)
        db.execute(update(WatchSession).where(WatchSession.id == party.id).values(
            state=party.state, position_ms=party.position_ms, anchor_server_ms=party.anchor_server_ms,
            rev=party.rev, control_mode=party.control_mode, media_file_id=party.media_file_id, snapshot=data))
        db.commit()


def locked(redis: Redis, party_id: int) -> AbstractContextManager[None]:
    """Hold the party's write lock (across processes: `live.locked`); raises redis LockError after 5 s
    of waiting."""
    return live.locked(redis, _key(party_id, "lock"))


def touch(redis: Redis, party_id: int, member_id: str, at_ms: int) -> None:
    """Record that `member_id` was heard from at `at_ms`."""
    redis.hset(_key(party_id, "seen"), member_id, at_ms)


def seen(redis: Redis, party_id: int) -> dict[str, int]:
    """Member id -> last heard from (ms)."""
    return {k.decode(): int(v) for k, v in redis.hgetall(_key(party_id, "seen")).items()}


def put_reports(redis: Redis, pending: dict[int, dict[str, tuple[int, int, int]]]) -> None:
    """Store members' latest drift and RTT (ms) and mark them seen, in one round trip.
    `pending`: {party id: {member id: (drift_ms, rtt_ms, at_ms)}}."""
    if not pending:
        return
    pipe = redis.pipeline(transaction=False)
    for party_id, members in pending.items():
        pipe.hset(_key(party_id, "reports"), mapping={m: json.dumps({"drift_ms": d, "rtt_ms": r})
                                                      for m, (d, r, _) in members.items()})
        pipe.hset(_key(party_id, "seen"), mapping={m: at for m, (_, _, at) in members.items()})
    pipe.execute()


def reports(redis: Redis, party_id: int) -> dict[str, dict]:
    """Member id -> `{"drift_ms", "rtt_ms"}` (ms) as last reported."""
    return {k.decode(): json.loads(v) for k, v in redis.hgetall(_key(party_id, "reports")).items()}


def max_rtt_ms(party: Party, member_reports: dict[str, dict]) -> int:
    """The largest RTT (ms) reported by an online member, 0 when none reported."""
    values = [int(member_reports.get(m.id, {}).get("rtt_ms") or 0) for m in party.members.values() if m.online]
    return max(values, default=0)


def connect(redis: Redis, party_id: int, sid: str, process_id: str, member_id: str) -> None:
    """Record an open connection of `member_id` on process `process_id`."""
    live.connect(redis, _key(party_id, "sids"), sid, process_id, member_id)


def disconnect(redis: Redis, party_id: int, sid: str, member_id: str) -> bool:
    """Forget connection `sid`; True when the member still has another live connection. Entries of
    processes that died (killed: no disconnect ever ran) are dropped on the way."""
    return member_id in live.disconnect(redis, _key(party_id, "sids"), sid)


def active_ids(redis: Redis) -> list[int]:
    """Ids of the running parties."""
    return [int(v) for v in redis.smembers(ACTIVE)]


def forget(redis: Redis, party_id: int) -> None:
    """Drop a party whose state has expired from the running ones."""
    redis.srem(ACTIVE, party_id)


def states(redis: Redis, party_ids: list[int]) -> list[Party | None]:
    """The live states of `party_ids` in one round trip (None for one that has expired)."""
    raws = redis.mget([_key(party_id, "state") for party_id in party_ids]) if party_ids else []
    return [None if raw is None else Party.from_dict(json.loads(raw)) for raw in raws]


def elect(redis: Redis, party_id: int, name: str, ttl_ms: int) -> bool:
    """True for the one caller (across processes) that claims `name` for this party in `ttl_ms`."""
    return bool(redis.set(_key(party_id, name), b"1", nx=True, px=ttl_ms))


def postpone(redis: Redis, party_id: int, name: str, ttl_ms: int) -> None:
    """Hold `name` for this party for `ttl_ms` from now, so that no process wins `elect` before then."""
    redis.set(_key(party_id, name), b"1", px=ttl_ms)

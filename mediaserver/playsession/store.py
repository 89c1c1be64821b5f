"""Where a user's playback session is kept: Redis, shared by every web process. The I/O edge around the
pure `state.py`.

Redis keys (prefix `mediaserver:playsession:<user id>:`):
- `state`: the PlaySession as JSON, changed only under `lock` (`live.locked`: one writer at a time
  across processes); kept STATE_TTL_S after its last change;
- `sids`: hash Socket.IO sid -> "<process id>|<device id>" (`live.connect`): the open connections of
  the user's registered devices; an entry whose process stopped renewing its liveness key is dead.

Redis only, no database copy (the party keeps one in `watch_sessions`): the session is a convenience
(what was playing, to resume), not a record anyone else reads, and Redis outlives the web processes, so
a restarted or killed process loses nothing. Only a Redis that loses its data (no persistence, a flush)
loses the sessions: each user then starts from an empty queue. A copy would cost a table, a migration
and a database write on every play, pause and seek.
"""
from __future__ import annotations

import json
from contextlib import AbstractContextManager

from redis import Redis

from .. import live
from ..timeline import Rejected
from .state import PlaySession

PREFIX = "mediaserver:playsession:"
STATE_TTL_S = 180 * 24 * 3600  # a session untouched for half a year is forgotten (s)
#: The most a session's JSON may weigh (characters): MAX_QUEUE ten-digit track ids with their
#: durations and MAX_DEVICES devices are about 250,000 (tests/unit/test_playsession_state.py).
MAX_STATE_CHARS = 512 * 1024


def _key(user_id: int, name: str) -> str:
    return f"{PREFIX}{user_id}:{name}"


def load(redis: Redis, user_id: int) -> PlaySession:
    """The user's session, or a new empty one (stopped, no devices) when there is none."""
    raw = redis.get(_key(user_id, "state"))
    return PlaySession.from_dict(json.loads(raw)) if raw is not None else PlaySession(user_id=user_id)


def save(redis: Redis, session: PlaySession) -> None:
    """Write the session. Raises Rejected("invalid"; nothing written) past MAX_STATE_CHARS (every part
    is bounded: state.MAX_QUEUE, state.MAX_DEVICES, the event ids kept), RedisError when Redis is down."""
    text = json.dumps(session.to_dict())
    if len(text) > MAX_STATE_CHARS:
        raise Rejected("invalid", f"the session would exceed {MAX_STATE_CHARS} characters; nothing was changed")
    redis.set(_key(session.user_id, "state"), text, ex=STATE_TTL_S)


def locked(redis: Redis, user_id: int) -> AbstractContextManager[None]:
    """Hold the user's session lock (across processes); raises redis LockError after 5 s of waiting."""
    return live.locked(redis, _key(user_id, "lock"))


def connect(redis: Redis, user_id: int, sid: str, process_id: str, device_id: str) -> None:
    """Record connection `sid` of device `device_id` on process `process_id`."""
    live.connect(redis, _key(user_id, "sids"), sid, process_id, device_id)


def disconnect(redis: Redis, user_id: int, sid: str) -> set[str]:
    """Forget connection `sid`; returns the device ids that still have a live connection."""
    return live.disconnect(redis, _key(user_id, "sids"), sid)


def online(redis: Redis, user_id: int) -> set[str]:
    """The device ids with a live connection (connections of dead processes are dropped on the way)."""
    return live.live_owners(redis, _key(user_id, "sids"))

"""What the `/session` socket handlers and `GET /api/session` call (`web/session_socket.py`,
`web/playsession.py`): a device registering and leaving, a command, the current state, and the end of
a playing track. Each is a use case over the session's store (Redis: `store.py`), the catalog (the
`tracks` table: queued ids must exist) and the pure state machine (`commands.py`, `state.py`). Nothing
here knows Socket.IO: every call returns what the transport sends.

A command's path: `commands.parse_command` (shape) -> the tracks' durations from the catalog (unknown
ids refused) -> under the user's lock (`store.locked`, across processes): load, mark devices whose
connections are gone offline, `state.apply`, save -> the outcome.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import LockError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..live import alive, now_ms
from ..models import Track
from ..timeline import Outcome, Rejected
from . import commands, state, store
from .state import PlaySession

log = logging.getLogger("mediaserver.playsession")

#: What a command refused for a passing reason (another holder of the user's lock) says.
BUSY = "the playback session is busy; try again"
ID_CHUNK = 500  # track ids looked up per query (below every database's bound on parameters)


@dataclass
class Applied:
    """A command `state.apply` judged: `outcome` says what to send (`session_state` to the user's
    devices when changed, `rejected` to the sender); `session` is as saved, at `now_ms`."""

    session: PlaySession
    outcome: Outcome
    now_ms: int


@dataclass
class Refused:
    """A command refused before the state machine judged it (malformed, unknown tracks, the lock busy):
    `reason`, `code` (invalid, busy) and the current `session_state` view."""

    reason: str
    code: str
    state: dict


def durations(db: Session, track_ids: tuple[int, ...]) -> tuple[int | None, ...]:
    """The catalog's durations (ms, None when unknown) of `track_ids`, in their order (repeats allowed).
    Raises Rejected("invalid") naming up to 10 ids that are not in the `tracks` table."""
    found: dict[int, int | None] = {}
    unique = sorted(set(track_ids))
    for start in range(0, len(unique), ID_CHUNK):
        chunk = unique[start:start + ID_CHUNK]
        found.update(db.execute(select(Track.id, Track.duration_ms).where(Track.id.in_(chunk))).all())
    missing = [i for i in unique if i not in found]
    if missing:
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise Rejected("invalid", f"no such track: {', '.join(map(str, missing[:10]))}{more}")
    return tuple(found[i] for i in track_ids)


class SessionService:
    """The playback session use cases for one web process (`process_id`), over `redis`; starts are
    anchored `lead_ms` (ms) ahead."""

    def __init__(self, redis: Redis, process_id: str, lead_ms: int = state.START_LEAD_MS) -> None:
        self.redis, self.process_id, self.lead_ms = redis, process_id, lead_ms

    def current(self, user_id: int) -> tuple[PlaySession, int]:
        """The user's session settled to now (tracks that ended moved past, devices whose connections are
        gone offline; not saved: both are deterministic, so the saved one changes the same way on its
        next command) and now (ms). Raises RedisError."""
        now = now_ms()
        session, _ = self._load(user_id, now)
        state.settle(session, now)
        return session, now

    def view(self, user_id: int) -> dict:
        """The user's `session_state` (`state.view`), as `current` has it."""
        return state.view(*self.current(user_id))

    def register(self, user_id: int, sid: str, data: object) -> tuple[PlaySession, int]:
        """`register {device_id, name}` on connection `sid`: the device is online (`state.register`).
        Returns (session, now ms). Raises Rejected (invalid data, too many devices), LockError, RedisError."""
        device_id, name = commands.parse_register(data)
        now = now_ms()
        store.connect(self.redis, user_id, sid, self.process_id, device_id)
        try:
            with store.locked(self.redis, user_id):
                session, _ = self._load(user_id, now)
                state.register(session, device_id, name, now)
                store.save(self.redis, session)
        except Rejected:
            store.disconnect(self.redis, user_id, sid)
            raise
        log.info("session %s: device %s registered", user_id, device_id,
                 extra={"user_id": user_id, "event": "register", "device": device_id})
        return session, now

    def leave(self, user_id: int, sid: str, device_id: str) -> tuple[PlaySession, int] | None:
        """Connection `sid` of `device_id` closed: when it was the device's last live one, the device is
        offline (`state.disconnect`). Returns (session, now) to broadcast, or None when nothing changed.
        Raises RedisError or LockError (the transport logs them)."""
        if device_id in store.disconnect(self.redis, user_id, sid):
            return None  # another tab of the same device
        now = now_ms()
        with store.locked(self.redis, user_id):
            session, changed = self._load(user_id, now)  # (the device is among those it takes offline)
            changed = state.disconnect(session, device_id, now).changed or changed
            if changed:
                store.save(self.redis, session)
        return (session, now) if changed else None

    def command(self, db: Session, user_id: int, device_id: str, data: object) -> Applied | Refused:
        """Device `device_id`'s `command` with payload `data` (any JSON value). Raises RedisError."""
        try:
            command = commands.parse_command(data)
            if command.track_ids:
                command = dataclasses.replace(command, durations_ms=durations(db, command.track_ids))
        except Rejected as exc:
            return Refused(str(exc), exc.code, self.view(user_id))
        now = now_ms()
        try:
            with store.locked(self.redis, user_id):
                session, gone = self._load(user_id, now)
                outcome = state.apply(session, device_id, command, now, self.lead_ms)
                outcome.changed |= gone
                if outcome.changed:
                    store.save(self.redis, session)
        except LockError:
            return Refused(BUSY, "busy", self.view(user_id))
        except Rejected as exc:  # the state would outgrow its bound: nothing was saved
            return Refused(str(exc), exc.code, self.view(user_id))
        if not outcome.ignored:
            log.info("session %s: %s from %s", user_id, command.action, device_id, extra={
                "user_id": user_id, "event": command.action, "device": device_id,
                "outcome": "rejected" if outcome.rejected else "applied"})
        return Applied(session, outcome, now)

    def track_ended(self, user_id: int, rev: int) -> tuple[PlaySession, int] | None:
        """The track playing at revision `rev` should have ended: settle and save the session, and return
        (session, now) to broadcast; None when a newer revision came first or nothing ended."""
        now = now_ms()
        with store.locked(self.redis, user_id):
            session = store.load(self.redis, user_id)
            if session.rev != rev or not state.settle(session, now):
                return None
            store.save(self.redis, session)
        return session, now

    def alive(self) -> None:
        """Mark this process alive (`live.alive`): its connections count as open. Raises RedisError."""
        alive(self.redis, self.process_id)

    def _load(self, user_id: int, now: int) -> tuple[PlaySession, bool]:
        """The session, with the devices marked online that have no live connection (closed, or their
        process was killed: no disconnect ran) taken offline (`state.disconnect`), and whether there
        were any."""
        session = store.load(self.redis, user_id)
        connected = store.online(self.redis, user_id)
        gone = [d.id for d in session.devices.values() if d.online and d.id not in connected]
        for device_id in gone:
            state.disconnect(session, device_id, now)
        return session, bool(gone)

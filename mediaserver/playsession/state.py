"""A user's playback session: its data and its state machine, commands + `now_ms` -> a changed
session or a rejection (pure: no Flask, database, Redis or I/O; times are integers in ms since the
epoch, passed in; positions ms from the current track's start).

The session is one queue of track ids, the index of the current track, a timeline (`state`,
`position_ms`, `anchor_server_ms`: the party's clock math, `timeline.position_at`, at rate 1), a
revision `rev`, the user's devices and the one active device whose player makes the sound. Every
device shows the same state and may command it; `service.py` loads the session, parses the event
(`commands.parse_command`), fills in the tracks' durations from the catalog, calls `apply`, saves it.

Rules:
- `rev` counts the timeline's changes (a command, a track ending); a command naming another rev is
  stale and rejected with the current state; an applied command's `event_id` is remembered
  (RECENT_EVENTS) and a repeat of it ignored. Devices coming and going change no rev (a command in
  flight stays good), except when the active device leaves a playing session, which then pauses.
- A start (play, or a seek, next, previous or new queue while playing) is anchored `lead_ms` ahead
  (START_LEAD_MS), so that the active device has the state before the moment it names.
- A playing session whose track ends moves on to the next at the moment it ended (`settle`, run
  before every command and every view: nothing needs a timer for the timeline to be right); after the
  last track it is `stopped` at that track's end. `next` on the last track does the same.
- `previous` within PREVIOUS_RESTART_MS of the track's start goes to the previous track, else restarts
  the current one (as Plexamp's and Spotify's previous buttons; Android Media3's `seekToPrevious` has
  the same rule at 3 s: C.DEFAULT_MAX_SEEK_TO_PREVIOUS_POSITION_MS, androidx/media#1425).
- `set_device` moves the sound and nothing else: the projection goes on unchanged, so the new device
  starts where the old one was (it seeks to `position_at(now)` on its synced clock).
- `play` with no online active device makes the sender's device the active one.
- Bounds: MAX_QUEUE tracks, MAX_DEVICES devices (a new one past it replaces the offline one seen
  longest ago; refused when all are online).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import timeline
from ..timeline import Outcome, Rejected
from .commands import Command

STOPPED, PAUSED, PLAYING = "stopped", "paused", "playing"
MAX_QUEUE = 10_000           # tracks in a queue (ours: a whole large library's worth of albums)
MAX_DEVICES = 20             # devices a user keeps (ours)
START_LEAD_MS = 200          # a start is anchored this far ahead (ms): the state reaches the device first
PREVIOUS_RESTART_MS = 3_000  # previous within this of a track's start goes back a track (Media3's 3 s)


@dataclass
class Device:
    """A browser the user is signed in on: `id` is the page's own (kept in its storage), `name` the
    user's for it; `online` while it has a connection open; `last_seen_ms` when it last connected,
    registered or left (ms)."""

    id: str
    name: str
    online: bool = False
    last_seen_ms: int = 0


@dataclass
class PlaySession:
    """One user's session. `queue` holds `tracks` ids and `durations_ms` their durations (ms, None
    when unknown), index for index; `index` is the current track's (None while the queue is empty).
    While `state` is playing, the position at server time t is `position_ms + (t - anchor_server_ms)`,
    never before the anchor, at most the track's duration; otherwise it is `position_ms`."""

    user_id: int
    queue: list[int] = field(default_factory=list)
    durations_ms: list[int | None] = field(default_factory=list)
    index: int | None = None
    state: str = STOPPED
    position_ms: int = 0
    anchor_server_ms: int = 0
    rev: int = 0
    active_device_id: str | None = None
    devices: dict[str, Device] = field(default_factory=dict)
    recent_event_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict sharing nothing mutable with the session; `from_dict` reverses it."""
        data = dict(vars(self))
        data["queue"], data["durations_ms"] = list(self.queue), list(self.durations_ms)
        data["devices"] = {k: dict(vars(d)) for k, d in self.devices.items()}
        data["recent_event_ids"] = list(self.recent_event_ids)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlaySession:
        """Rebuild from `to_dict`'s output. Raises KeyError/TypeError on a malformed dict."""
        data = dict(data)
        data["devices"] = {k: Device(**v) for k, v in data.get("devices", {}).items()}
        return cls(**data)

    @property
    def duration_ms(self) -> int | None:
        """The current track's duration (ms), None when unknown or there is none."""
        return self.durations_ms[self.index] if self.index is not None else None


def position_at(session: PlaySession, now_ms: int) -> int:
    """The session's position (ms) in the current track at server time `now_ms`."""
    return timeline.position_at(session.position_ms, session.anchor_server_ms, now_ms, session.state == PLAYING,
                                duration_ms=session.duration_ms)


def track_end_ms(session: PlaySession) -> int | None:
    """When (server ms) the playing track ends, None when not playing or its duration is unknown."""
    if session.state != PLAYING or session.duration_ms is None:
        return None
    return session.anchor_server_ms + max(0, session.duration_ms - session.position_ms)


def settle(session: PlaySession, now_ms: int) -> bool:
    """Move a playing session past the tracks that have ended by `now_ms`: each next track starts at 0
    at the moment the one before ended; after the last, `stopped` at its end. One rev per track ended.
    True when anything changed."""
    changed = False
    while (end := track_end_ms(session)) is not None and now_ms >= end:
        changed = True
        session.rev += 1
        if session.index + 1 < len(session.queue):
            session.index, session.position_ms, session.anchor_server_ms = session.index + 1, 0, end
        else:
            session.state, session.position_ms, session.anchor_server_ms = STOPPED, session.duration_ms, end
    return changed


def register(session: PlaySession, device_id: str, name: str, now_ms: int) -> Outcome:
    """Device `device_id` connected (or registered again, perhaps renamed): online, seen now. The first
    device of a session without an active one becomes it. Past MAX_DEVICES the offline device seen
    longest ago is forgotten; when every other one is online, Rejected("invalid") is raised."""
    device = session.devices.get(device_id)
    if device is None:
        if len(session.devices) >= MAX_DEVICES:
            gone = [d for d in session.devices.values() if not d.online and d.id != session.active_device_id]
            if not gone:
                raise Rejected("invalid", f"too many devices online: at most {MAX_DEVICES}")
            del session.devices[min(gone, key=lambda d: (d.last_seen_ms, d.id)).id]
        device = session.devices[device_id] = Device(device_id, name)
    device.name, device.online, device.last_seen_ms = name, True, now_ms
    if session.active_device_id is None:
        session.active_device_id = device_id
    return Outcome(changed=True)


def disconnect(session: PlaySession, device_id: str, now_ms: int) -> Outcome:
    """Device `device_id`'s last connection closed: offline, seen now. When it was the active device of
    a playing session, the session pauses where it was (so that any device can resume it)."""
    device = session.devices.get(device_id)
    if device is None or not device.online:
        return Outcome()
    device.online, device.last_seen_ms = False, now_ms
    settle(session, now_ms)
    if device_id == session.active_device_id and session.state == PLAYING:
        _pause_at(session, position_at(session, now_ms), now_ms)
        session.rev += 1
    return Outcome(changed=True)


def apply(session: PlaySession, device_id: str, command: Command, now_ms: int,
          lead_ms: int = START_LEAD_MS) -> Outcome:
    """Apply `command` (`commands.parse_command`'s, with the tracks' durations filled in) from device
    `device_id` at `now_ms`. Tracks that ended before `now_ms` are settled first. Returns an Outcome:
    `changed` (broadcast `session_state`), `ignored` (a repeated event id) or `rejected`/`code` (stale,
    forbidden: the device is not online, invalid); never raises."""
    device = session.devices.get(device_id)
    if device is None or not device.online:
        return Outcome(rejected="register this device first", code="forbidden")
    if command.event_id is not None and command.event_id in session.recent_event_ids:
        return Outcome(ignored=True)
    settled = settle(session, now_ms)
    try:
        if command.rev != session.rev:
            raise Rejected("stale", f"stale revision {command.rev}: the session is at revision {session.rev}")
        changed = ACTIONS[command.action](session, device, command, now_ms, lead_ms)
    except Rejected as exc:
        return Outcome(changed=settled, rejected=str(exc), code=exc.code)
    timeline.remember(session.recent_event_ids, command.event_id)
    if changed:
        session.rev += 1
    return Outcome(changed=changed or settled)


def view(session: PlaySession, now_ms: int) -> dict:
    """The `session_state` event's body (docs/SESSION.md): `{rev, state, position_ms, anchor_server_ms,
    index, queue, active_device_id, devices: [{id, name, online, last_seen_ms}], track_id, duration_ms,
    server_ms}`; devices online first, then by name. Call it on a settled session."""
    devices = sorted(session.devices.values(), key=lambda d: (not d.online, d.name.casefold(), d.id))
    return {
        "rev": session.rev, "state": session.state, "position_ms": session.position_ms,
        "anchor_server_ms": session.anchor_server_ms, "index": session.index, "queue": list(session.queue),
        "active_device_id": session.active_device_id,
        "devices": [{"id": d.id, "name": d.name, "online": d.online, "last_seen_ms": d.last_seen_ms}
                    for d in devices],
        "track_id": session.queue[session.index] if session.index is not None else None,
        "duration_ms": session.duration_ms, "server_ms": now_ms,
    }


# --- the actions: each changes the session and says whether it did, or raises Rejected -------------
def _pause_at(session: PlaySession, position: int, now_ms: int) -> None:
    session.state, session.position_ms, session.anchor_server_ms = PAUSED, position, now_ms


def _go(session: PlaySession, index: int, position: int, now_ms: int, lead_ms: int) -> None:
    """Put track `index` at `position` (ms, clamped to its duration): playing on from `lead_ms` ahead
    when the session was playing, else paused there."""
    duration = session.durations_ms[index]
    session.index = index
    session.position_ms = min(position, duration) if duration is not None else position
    if session.state == PLAYING:
        session.anchor_server_ms = now_ms + lead_ms
    else:
        session.state, session.anchor_server_ms = PAUSED, now_ms


def _durations(command: Command) -> list[int | None]:
    """The command's tracks' durations (ms), None for each one the service did not fill in."""
    return list(command.durations_ms) if len(command.durations_ms) == len(command.track_ids) \
        else [None] * len(command.track_ids)


def _need_queue(session: PlaySession) -> None:
    if session.index is None:
        raise Rejected("invalid", "the queue is empty")


def _play(session, device, command, now_ms, lead_ms) -> bool:
    _need_queue(session)
    active = session.devices.get(session.active_device_id or "")
    moved = active is None or not active.online
    if moved:
        session.active_device_id = device.id
    if session.state == PLAYING:
        return moved
    if session.state == STOPPED:
        session.position_ms = 0
    session.state, session.anchor_server_ms = PLAYING, now_ms + lead_ms
    return True


def _pause(session, device, command, now_ms, lead_ms) -> bool:
    if session.state != PLAYING:
        return False
    projected = position_at(session, now_ms)
    reported = command.position_ms if device.id == session.active_device_id else None
    if reported is not None and session.duration_ms is not None:
        reported = min(reported, session.duration_ms)
    _pause_at(session, timeline.held_position(reported, projected), now_ms)
    return True


def _seek(session, device, command, now_ms, lead_ms) -> bool:
    _need_queue(session)
    _go(session, session.index, command.position_ms, now_ms, lead_ms)
    return True


def _next(session, device, command, now_ms, lead_ms) -> bool:
    _need_queue(session)
    if session.index + 1 < len(session.queue):
        _go(session, session.index + 1, 0, now_ms, lead_ms)
        return True
    if session.state == STOPPED:
        return False
    end = session.duration_ms if session.duration_ms is not None else position_at(session, now_ms)
    session.state, session.position_ms, session.anchor_server_ms = STOPPED, end, now_ms
    return True


def _previous(session, device, command, now_ms, lead_ms) -> bool:
    _need_queue(session)
    back = session.index > 0 and position_at(session, now_ms) <= PREVIOUS_RESTART_MS
    _go(session, session.index - 1 if back else session.index, 0, now_ms, lead_ms)
    return True


def _set_device(session, device, command, now_ms, lead_ms) -> bool:
    target = session.devices.get(command.device_id)
    if target is None or not target.online:
        raise Rejected("invalid", "no such device online")
    if target.id == session.active_device_id:
        return False
    session.active_device_id = target.id
    return True


def _enqueue(session, device, command, now_ms, lead_ms) -> bool:
    if len(session.queue) + len(command.track_ids) > MAX_QUEUE:
        raise Rejected("invalid", f"the queue would have more than {MAX_QUEUE} tracks")
    ran_out = session.state == STOPPED and session.index is not None
    first_new = len(session.queue)
    session.queue.extend(command.track_ids)
    session.durations_ms.extend(_durations(command))
    if session.index is None or ran_out:  # an empty or finished queue: the first new track, paused at 0
        session.state = PAUSED
        _go(session, first_new, 0, now_ms, lead_ms)
    return True


def _set_queue(session, device, command, now_ms, lead_ms) -> bool:
    if not command.track_ids:
        session.queue, session.durations_ms, session.index = [], [], None
        session.state, session.position_ms, session.anchor_server_ms = STOPPED, 0, now_ms
        return True
    if command.index >= len(command.track_ids):
        raise Rejected("invalid", f"index must be below the queue's length, {len(command.track_ids)}")
    session.queue, session.durations_ms = list(command.track_ids), _durations(command)
    if session.state == STOPPED:
        session.state = PAUSED
    _go(session, command.index, command.position_ms or 0, now_ms, lead_ms)
    return True


ACTIONS = {"play": _play, "pause": _pause, "seek": _seek, "next": _next, "previous": _previous,
           "set_device": _set_device, "enqueue": _enqueue, "set_queue": _set_queue}

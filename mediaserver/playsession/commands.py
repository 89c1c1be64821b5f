"""The `/session` events' data, parsed into typed values before the state machine sees it (pure).

`parse_command(data)` checks `command {action, rev, event_id, ...}` (types, sizes, ranges, known
actions) and returns a `Command` holding only the fields its action has; `parse_register(data)` checks
`register {device_id, name}`. Both raise `timeline.Rejected("invalid", ...)` naming what is wrong. What
depends on the session (a stale rev, a device that is not online, a queue index past the end, the
queue's length) is for `state.apply`; whether track ids exist is the service's (the catalog). The wire
contract is in docs/SESSION.md.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..timeline import EVENT_ID, MAX_INT, Rejected, event_id_field, int_field, is_int, rev_field

#: The most a `/session` event's data may weigh, in characters of compact JSON: a queue command of
#: MAX_TRACKS_PER_COMMAND ten-digit ids is about 22,000 (engine.io's packet bound is 64 kB:
#: factory.SOCKETIO_MAX_PACKET_BYTES).
MAX_EVENT_CHARS = 24_576
#: Track ids one `enqueue` or `set_queue` may carry (a longer queue is built by further `enqueue`s, up
#: to state.MAX_QUEUE).
MAX_TRACKS_PER_COMMAND = 2_000
MAX_DEVICE_NAME_CHARS = 40
ACTIONS = ("play", "pause", "seek", "next", "previous", "set_device", "enqueue", "set_queue")


@dataclass(frozen=True)
class Command:
    """One `command`: `action` (ACTIONS) at revision `rev`, with the fields that action has.

    `position_ms` (ms): seek's target (required), pause's player position (optional: kept when the
    sender is the active device and close to the projection), set_queue's start (default 0);
    `device_id`: set_device's; `track_ids`: enqueue's and set_queue's (`tracks` ids, in order), with
    `durations_ms` the catalog's durations (ms, None when unknown), filled in by the service;
    `index`: set_queue's starting track (0-based, default 0).
    """

    action: str
    rev: int
    event_id: str | None = None
    position_ms: int | None = None
    device_id: str | None = None
    track_ids: tuple[int, ...] = ()
    durations_ms: tuple[int | None, ...] = ()
    index: int = 0


def device_id_field(data: dict) -> str:
    """`data["device_id"]`: a client-made id (a UUID the page keeps), 1 to 64 letters, digits or `_.:-`
    (as event ids); raises Rejected("invalid")."""
    device_id = data.get("device_id")
    if not isinstance(device_id, str) or not EVENT_ID.fullmatch(device_id):
        raise Rejected("invalid", "device_id must be 1 to 64 letters, digits or _.:-")
    return device_id


def parse_register(data: object) -> tuple[str, str]:
    """`register {device_id, name}` -> (device id, name trimmed, 1 to MAX_DEVICE_NAME_CHARS characters).
    Raises Rejected("invalid")."""
    data = data if isinstance(data, dict) else {}
    device_id = device_id_field(data)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_DEVICE_NAME_CHARS:
        raise Rejected("invalid", f"name must be 1 to {MAX_DEVICE_NAME_CHARS} characters")
    return device_id, name.strip()


def _track_ids(data: dict, empty_ok: bool) -> tuple[int, ...]:
    ids = data.get("track_ids")
    if (not isinstance(ids, list) or len(ids) > MAX_TRACKS_PER_COMMAND or (not ids and not empty_ok)
            or not all(is_int(i) and 1 <= i <= MAX_INT for i in ids)):
        least = 0 if empty_ok else 1
        raise Rejected("invalid", f"track_ids must be a list of {least} to {MAX_TRACKS_PER_COMMAND} track ids")
    return tuple(ids)


def parse_command(data: object) -> Command:
    """The Command of `command` data `data` (not an object: taken as `{}`); unknown fields are dropped.
    Raises Rejected (code `invalid`) naming the first field that is wrong, or an unknown action."""
    data = data if isinstance(data, dict) else {}
    action = data.get("action")
    if action not in ACTIONS:
        raise Rejected("invalid", f"action must be one of {', '.join(ACTIONS)}")
    event_id, rev = event_id_field(data), rev_field(data)
    if action == "seek":
        return Command(action, rev, event_id, position_ms=int_field(data, "position_ms"))
    if action == "pause":
        reported = int_field(data, "position_ms") if data.get("position_ms") is not None else None
        return Command(action, rev, event_id, position_ms=reported)
    if action == "set_device":
        return Command(action, rev, event_id, device_id=device_id_field(data))
    if action == "enqueue":
        return Command(action, rev, event_id, track_ids=_track_ids(data, empty_ok=False))
    if action == "set_queue":
        start = int_field(data, "position_ms") if data.get("position_ms") is not None else 0
        index = int_field(data, "index", "index must be an integer from 0") if data.get("index") is not None else 0
        return Command(action, rev, event_id, position_ms=start, track_ids=_track_ids(data, empty_ok=True),
                       index=index)
    return Command(action, rev, event_id)  # play, next, previous

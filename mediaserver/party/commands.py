"""A party member's events, parsed into typed commands before the state machine sees them (pure).

`parse(event, data)` checks the shape of an event's data (types, sizes, ranges, known values) and
returns one of the command classes below, keeping only the fields each one has (anything else a client
sends is dropped); it raises `model.Rejected("invalid", ...)` naming what is wrong. `parse_report` and
`parse_time_ping` do the same for the two events that are no command, and `oversized` bounds every
event's data as a whole before anything else looks at it. What depends on the party (a stale rev, a
queue item or member that does not exist, who may do what) is for `state.apply`.
The wire contract of each event is in docs/PARTY.md.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

from ..timeline import event_id_field, int_field, is_finite, rev_field
# the event size bound, 32-bit integers, event ids and time_ping are shared with the playback session;
# the party's names for them (its socket, tests/unit/test_party_bounds.py)
from ..timeline import MAX_EVENT_CHARS, MAX_EVENT_ID_CHARS, MAX_INT, oversized, parse_time_ping  # noqa: F401
from .model import COHOST, CONTROL_MODES, GUEST, HOST, QUEUE_MODES, Rejected

#: Member ids are `u<user id>` or `g<participant id>` (access.py): short, letters and digits.
MEMBER_ID = re.compile(r"[A-Za-z0-9]{1,24}")
#: A report's drift beyond a day is no drift (no title is that long); RTTs above a minute are taken as
#: a minute (the play lead-in is capped far below that anyway: state.MAX_LEAD_MS).
MAX_DRIFT_MS = 86_400_000
MAX_RTT_MS = 60_000
MAX_CHAT_CHARS = 500
MAX_EMOJI_CHARS = 16
REQUEST_KINDS = ("add", "remove", "move")
#: The room's messages: event -> (its data field, what an error calls it, most characters).
MESSAGES = {"chat": ("text", "chat text", MAX_CHAT_CHARS), "react": ("emoji", "emoji", MAX_EMOJI_CHARS)}
ROLES = (HOST, COHOST, GUEST)


@dataclass(frozen=True)
class Play:
    """`play {rev, event_id?}`: play from the held position."""

    rev: int
    event_id: str | None = None


@dataclass(frozen=True)
class _ToPosition:
    """A timeline command naming a position (ms, >= 0) at revision `rev`."""

    rev: int
    position_ms: int
    event_id: str | None = None


class Pause(_ToPosition):
    """`pause {rev, position_ms, event_id?}`: pause where the pauser is."""


class Seek(_ToPosition):
    """`seek {rev, position_ms, event_id?}`: move the room's position, keeping its state."""


@dataclass(frozen=True)
class _NoData:
    """A command whose data says nothing the room uses."""


class Buffering(_NoData):
    """`buffering {position_ms?}`: this member's player stalled."""


class Ready(_NoData):
    """`ready {position_ms?}`: this member's player can play at the room's position."""


@dataclass(frozen=True)
class SetControl:
    """`set_control {mode}`: who may play, pause, seek and skip (CONTROL_MODES)."""

    mode: str


@dataclass(frozen=True)
class SetRole:
    """`set_role {member_id, role}`: the host promotes, demotes, or hands over the host role."""

    member_id: str
    role: str


class Skip(_NoData):
    """`skip {}`: the next queued title now."""


@dataclass(frozen=True)
class SetQueueMode:
    """`set_queue_mode {mode}`: `once` (a played title leaves the queue) or `circulate` (it goes back
    to the end)."""

    mode: str


@dataclass(frozen=True)
class Nudge:
    """`nudge {item_id}`: that queued item plays next (it moves to the queue's front)."""

    item_id: int


@dataclass(frozen=True)
class QueueAdd:
    """`queue_add {media_file_id}`; `title` and `duration_ms` (ms) come from the catalog (the service
    fills them in before `state.apply`)."""

    media_file_id: int
    title: str | None = None
    duration_ms: int | None = None

    def payload(self) -> dict:
        """As a request's `payload` on the wire: `{"media_file_id", "title", "duration_ms"}`."""
        return {"media_file_id": self.media_file_id, "title": self.title, "duration_ms": self.duration_ms}


@dataclass(frozen=True)
class QueueRemove:
    """`queue_remove {item_id}`."""

    item_id: int

    def payload(self) -> dict:
        """As a request's `payload`: `{"item_id"}`."""
        return {"item_id": self.item_id}


@dataclass(frozen=True)
class QueueMove:
    """`queue_move {item_id, index}`: the item to place `index` (0-based)."""

    item_id: int
    index: int

    def payload(self) -> dict:
        """As a request's `payload`: `{"item_id", "index"}`."""
        return {"item_id": self.item_id, "index": self.index}


QueueChange = Union[QueueAdd, QueueRemove, QueueMove]
#: A request's `kind` -> its queue change (and the queue event that makes it directly).
CHANGE_KINDS: dict[str, type] = {"add": QueueAdd, "remove": QueueRemove, "move": QueueMove}


@dataclass(frozen=True)
class RequestChange:
    """`request {kind, payload}`: a guest asks for a queue change (the host or a cohost decides)."""

    change: QueueChange

    @property
    def kind(self) -> str:
        """add, remove or move."""
        return next(kind for kind, cls in CHANGE_KINDS.items() if isinstance(self.change, cls))


@dataclass(frozen=True)
class Message:
    """`chat {text}` (1 to MAX_CHAT_CHARS characters) or `react {emoji}` (1 to MAX_EMOJI_CHARS), trimmed:
    `event` is chat or react, `field` the data's key, `value` what the room is shown."""

    event: str
    field: str
    value: str


@dataclass(frozen=True)
class Decide:
    """`decide {request_id, approve}`: the host or a cohost approves or denies a pending request."""

    request_id: int
    approve: bool


Command = Union[Play, Pause, Seek, Buffering, Ready, SetControl, SetRole, Skip, SetQueueMode, Nudge, QueueAdd,
                QueueRemove, QueueMove, RequestChange, Decide, Message]
TIMELINE = (Play, Pause, Seek)


def parse_report(data: object) -> tuple[int, int]:
    """`report {drift_ms, rtt_ms}` -> (drift ms, rtt ms): finite numbers, |drift| <= MAX_DRIFT_MS,
    rtt >= 0 (above MAX_RTT_MS taken as MAX_RTT_MS), rounded. Raises Rejected("invalid")."""
    data = data if isinstance(data, dict) else {}
    drift, rtt = data.get("drift_ms"), data.get("rtt_ms")
    if not (is_finite(drift) and is_finite(rtt)) or abs(drift) > MAX_DRIFT_MS or rtt < 0:
        raise Rejected("invalid", f"report needs drift_ms (at most {MAX_DRIFT_MS} either way) and rtt_ms "
                                  f"(>= 0), numbers of ms")
    return round(drift), round(min(rtt, MAX_RTT_MS))


def _text(data: dict, key: str, label: str, most: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise Rejected("invalid", f"{label} must be 1 to {most} characters")
    return value.strip()


def _timeline(cls, data: dict) -> Command:
    event_id = event_id_field(data)
    rev = rev_field(data)  # any 32-bit one; not the party's: stale (state.apply)
    if cls is Play:
        return Play(rev, event_id)
    return cls(rev, int_field(data, "position_ms"), event_id)


def _change(kind: str, data: dict) -> QueueChange:
    if kind == "add":
        return QueueAdd(int_field(data, "media_file_id"))
    item_id = int_field(data, "item_id", "no such queue item")
    if kind == "remove":
        return QueueRemove(item_id)
    return QueueMove(item_id, int_field(data, "index", "index must be an integer"))


def parse(event: str, data: object) -> Command:
    """The command for client event `event` with payload `data` (not an object: taken as `{}`).
    Raises Rejected (code `invalid`) naming the first field that is wrong, or an unknown event."""
    data = data if isinstance(data, dict) else {}
    if event == "play":
        return _timeline(Play, data)
    if event == "pause":
        return _timeline(Pause, data)
    if event == "seek":
        return _timeline(Seek, data)
    if event == "buffering":
        return Buffering()
    if event == "ready":
        return Ready()
    if event == "skip":
        return Skip()
    if event == "set_control":
        if data.get("mode") not in CONTROL_MODES:
            raise Rejected("invalid", f"mode must be one of {', '.join(CONTROL_MODES)}")
        return SetControl(data["mode"])
    if event == "set_queue_mode":
        if data.get("mode") not in QUEUE_MODES:
            raise Rejected("invalid", f"mode must be one of {', '.join(QUEUE_MODES)}")
        return SetQueueMode(data["mode"])
    if event == "nudge":
        return Nudge(int_field(data, "item_id", "no such queue item"))
    if event == "set_role":
        if not isinstance(data.get("member_id"), str) or not MEMBER_ID.fullmatch(data["member_id"]):
            raise Rejected("invalid", "no such member")
        if data.get("role") not in ROLES:
            raise Rejected("invalid", "role must be host, cohost or guest")
        return SetRole(data["member_id"], data["role"])
    if event in ("queue_add", "queue_remove", "queue_move"):
        return _change(event.removeprefix("queue_"), data)
    if event == "request":
        kind, payload = data.get("kind"), data.get("payload")
        if kind not in REQUEST_KINDS or not isinstance(payload, dict):
            raise Rejected("invalid", "a request needs kind add, remove or move and a payload object")
        return RequestChange(_change(kind, payload))
    if event == "decide":
        return Decide(int_field(data, "request_id", "no such pending request"), bool(data.get("approve")))
    if event in MESSAGES:
        field, label, most = MESSAGES[event]
        return Message(event, field, _text(data, field, label, most))
    raise Rejected("invalid", f"unknown event {event!r}")

"""What the two shared timelines have in common: a watch party (`party/`) and a user's playback session
(`playsession/`). Pure: no Flask, database, Redis or Socket.IO; every time is an integer in ms since the
epoch (the server's wall clock), passed in; positions are integers in ms from a title's or track's start.

- the clock math: where a timeline anchored at `anchor_server_ms` is at server time t (`position_at`),
  and which position a pause keeps (`held_position`);
- the revision rules' second half: a repeated `event_id` is dropped (`repeated`; a stale `rev` is each
  state machine's own check, since what counts as current is its state's);
- the wire checks every event goes through before a state machine sees it: its size as a whole
  (`oversized`), 32-bit integers (`int_field`), event ids (`event_id_field`), `time_ping` (`parse_time_ping`);
- `Rejected`, the refusal those checks and the state machines raise, and `Outcome`, what a command did.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

#: The most an event's data may weigh, in characters of compact JSON, unless a caller says otherwise:
#: the largest real party event, a chat line of 500 characters, is about 530 (issue 13: "a size limit
#: per event, a few KB"). The playback session allows more (its queue commands carry track ids).
MAX_EVENT_CHARS = 4096
#: Integers on the wire (ids, revisions, positions in ms, indexes) fit SQL INTEGER, 32-bit on
#: PostgreSQL (as `db.MAX_ID`): positions up to 2**31 - 1 ms, about 24.8 days.
MAX_INT = 2**31 - 1
#: Event ids are client-made UUIDs (crypto.randomUUID); they are remembered to drop repeats, so only
#: short plain ones are taken.
MAX_EVENT_ID_CHARS = 64
EVENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,%d}" % MAX_EVENT_ID_CHARS)
#: `time_ping`'s client_ms comes back as sent: a JavaScript number that is an exact integer or not.
MAX_CLIENT_MS = 2**53
RECENT_EVENTS = 256          # event ids remembered to drop repeats
RESYNC_TOLERANCE_MS = 2_000  # a pause keeps the pauser's position when within this of the timeline's


class Rejected(Exception):
    """A command refused: `code` says what kind of refusal (stale, forbidden, rate_limited, invalid, ...),
    the message says why, in words a user can read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Outcome:
    """What a command did.

    `changed`: broadcast the new state. `rejected`/`code`: the reason (sent as `rejected`) and a short
    code (as `Rejected`'s). `ignored`: a repeated event id, nothing to send. `emits`: further events for
    the room as (event name, payload).
    """

    changed: bool = False
    rejected: str | None = None
    code: str | None = None
    ignored: bool = False
    emits: list[tuple[str, dict]] = field(default_factory=list)


# --- clock math -------------------------------------------------------------------------------------
def position_at(position_ms: int, anchor_server_ms: int, now_ms: int, playing: bool, rate: float = 1.0,
                duration_ms: int | None = None) -> int:
    """A timeline's position (ms) at server time `now_ms`: `position_ms`, plus `(now_ms -
    anchor_server_ms) * rate` while `playing` and past the anchor (a start anchored in the future holds
    `position_ms` until then); clamped to [0, `duration_ms`] (no upper bound when None)."""
    position = position_ms
    if playing and now_ms > anchor_server_ms:
        position += round((now_ms - anchor_server_ms) * rate)
    if duration_ms is not None:
        position = min(position, duration_ms)
    return max(0, position)


def held_position(reported_ms: int | None, projected_ms: int) -> int:
    """Where a pause holds the timeline: where the pauser's player says it is (`reported_ms`) when that is
    within RESYNC_TOLERANCE_MS of the timeline's own `projected_ms` (the player's sound is what people
    heard), else the projection (a player far off, or one that said nothing: None)."""
    if reported_ms is not None and abs(reported_ms - projected_ms) <= RESYNC_TOLERANCE_MS:
        return reported_ms
    return projected_ms


def repeated(recent: list[str], event_id: str | None, keep: int = RECENT_EVENTS) -> bool:
    """True when `event_id` is in `recent` already (a resend: ignore the command); else remembers it
    (`remember`) and returns False. None is never a repeat."""
    if event_id is not None and event_id in recent:
        return True
    remember(recent, event_id, keep)
    return False


def remember(recent: list[str], event_id: str | None, keep: int = RECENT_EVENTS) -> None:
    """Add `event_id` (unless None) to `recent`, changed in place, keeping the last `keep` ids."""
    if event_id is not None:
        recent.append(event_id)
        del recent[:-keep]


# --- wire checks ------------------------------------------------------------------------------------
def is_int(value: object) -> bool:
    """An int that is not a bool (JSON `true` arrives as True, which Python counts as 1)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite(value: object) -> bool:
    """An int or a float that is neither NaN nor infinite (JSON from a browser has both: `NaN`)."""
    if is_int(value):
        return True
    return isinstance(value, float) and math.isfinite(value)


def int_field(data: dict, key: str, message: str | None = None, lowest: int = 0) -> int:
    """`data[key]`, an integer from `lowest` to MAX_INT; raises Rejected("invalid", `message` or one
    naming the range)."""
    value = data.get(key)
    if not is_int(value) or not lowest <= value <= MAX_INT:
        raise Rejected("invalid", message or f"{key} must be an integer from {lowest} to {MAX_INT}")
    return value


def rev_field(data: dict) -> int:
    """`data["rev"]`: any 32-bit integer (one that is not the state's current revision is stale, which
    the state machine says); raises Rejected("invalid")."""
    return int_field(data, "rev", lowest=-MAX_INT - 1)


def event_id_field(data: dict) -> str | None:
    """`data["event_id"]`: None when absent, else 1 to MAX_EVENT_ID_CHARS letters, digits or `_.:-`;
    raises Rejected("invalid")."""
    event_id = data.get("event_id")
    if event_id is not None and (not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id)):
        raise Rejected("invalid", f"event_id must be 1 to {MAX_EVENT_ID_CHARS} letters, digits or _.:-")
    return event_id


def oversized(data: object, most: int = MAX_EVENT_CHARS) -> bool:
    """Is event data `data` (any JSON value) over `most` characters of compact JSON? Data that JSON
    cannot write back (nesting too deep, an integer of thousands of digits) counts as oversized."""
    try:
        return len(json.dumps(data, ensure_ascii=False, separators=(",", ":"))) > most
    except (ValueError, TypeError, RecursionError):
        return True


def parse_time_ping(data: object) -> int | float:
    """`time_ping {client_ms}` -> client_ms, a finite number within ±MAX_CLIENT_MS (ms, the client's
    clock, echoed back unchanged). Raises Rejected("invalid")."""
    client_ms = data.get("client_ms") if isinstance(data, dict) else None
    if not is_finite(client_ms) or abs(client_ms) > MAX_CLIENT_MS:
        raise Rejected("invalid", "time_ping needs client_ms, a number of ms")
    return client_ms

"""The party's data: plain dataclasses that round-trip through JSON (Redis holds them between events).

Pure: no Flask, no database, no I/O. Times are integers in ms since the epoch (server wall clock);
positions are integers in ms from the title's start. `state.py` changes these objects; nothing else does.
"""
from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from ..timeline import Outcome, Rejected  # noqa: F401 (the party's names for them)

PLAYING, PAUSED, WAITING = "playing", "paused", "waiting"
HOST, COHOST, GUEST = "host", "cohost", "guest"
#: Member statuses: `loading` until its player can play the current title at the room's position,
#: `ready` while in step, `buffering` while stalled, `offline` while not connected.
LOADING, READY, BUFFERING, OFFLINE = "loading", "ready", "buffering", "offline"
CONTROL_MODES = ("host", "everyone")
#: What the queue does with a title once it has played: `once` drops it; `circulate` puts it back at
#: the queue's end (issue 14's listening parties: the queue goes round).
ONCE, CIRCULATE = "once", "circulate"
QUEUE_MODES = (ONCE, CIRCULATE)
#: The most a party's whole state may weigh, in characters of JSON (`store.save` refuses more; issue
#: 13). Every part is bounded (members: state.MAX_MEMBERS with 40-character names; the queue:
#: queue.MAX_QUEUE titles of access.MAX_TITLE_CHARS; requests: queue.MAX_PENDING + DECIDED_KEPT; the
#: rate log and the event ids remembered): the largest such state, every name and title in emoji, is
#: under this (tests/unit/test_party_bounds.py); a real 500-member party is about 60 kB.
MAX_STATE_CHARS = 2 * 1024 * 1024


@dataclass(frozen=True)
class PartyTimings:
    """The party's timers, in ms, from configuration (`PARTY_*_MS`, README "Configuration"); the
    defaults are issue 5's: the room waits at most `rebuffer_wait_ms` for a member that stalled and
    `first_load_wait_ms` for a title's first load; a disconnected host keeps the role for
    `host_grace_ms`; a member not heard from for `presence_timeout_ms` is offline (clients report every
    2 s); a `state` goes out at least every `heartbeat_ms`."""

    rebuffer_wait_ms: int = 10_000
    first_load_wait_ms: int = 30_000
    host_grace_ms: int = 30_000
    presence_timeout_ms: int = 15_000
    heartbeat_ms: int = 5_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PartyTimings:
        """From the app's config keys `PARTY_REBUFFER_WAIT_MS`, ... (each missing one: its default)."""
        defaults = cls()
        return cls(**{name: int(config.get(f"PARTY_{name.upper()}", getattr(defaults, name)))
                      for name in ("rebuffer_wait_ms", "first_load_wait_ms", "host_grace_ms", "presence_timeout_ms",
                                   "heartbeat_ms")})


@dataclass
class Member:
    """One participant: a user (`id` "u<user id>") or a guest (`id` "g<participant id>").

    `joined_ms` is when it first joined (the longest-present member inherits the host role);
    `away_since_ms` is when it went offline (None while online).
    """

    id: str
    name: str
    role: str = GUEST
    status: str = LOADING
    joined_ms: int = 0
    away_since_ms: int | None = None

    @property
    def online(self) -> bool:
        return self.status != OFFLINE


@dataclass
class QueueItem:
    """A title waiting its turn: `id` is the party's own item number, `duration_ms` may be None."""

    id: int
    media_file_id: int
    title: str
    duration_ms: int | None = None


@dataclass
class Request:
    """A guest's queue change awaiting a decision.

    `kind` is add, remove or move; `payload` is the queue command's data (`{"media_file_id", "title",
    "duration_ms"}`, `{"item_id"}` or `{"item_id", "index"}`); `status` is pending, approved, denied,
    failed (approved but no longer applicable, `reason` says why) or expired (undecided too long).
    """

    id: int
    member_id: str
    kind: str
    payload: dict
    status: str = "pending"
    created_ms: int = 0
    reason: str | None = None

    def to_json(self) -> dict:
        """The `request_update` event's body: `{request_id, status, kind, payload, member_id, reason}`."""
        return {"request_id": self.id, "status": self.status, "kind": self.kind, "payload": self.payload,
                "member_id": self.member_id, "reason": self.reason}


@dataclass
class Barrier:
    """The room waits for `member_ids` until they report ready or `deadline_ms` passes.

    `reason` is `buffering` (a member stalled: 10 s by default) or `load` (a new title: 30 s).
    """

    member_ids: list[str]
    deadline_ms: int
    reason: str


@dataclass
class Party:
    """A party's whole live state.

    Timeline: while `state` is playing, the position at server time t (ms) is
    `position_ms + (t - anchor_server_ms) * rate`, never before the anchor (a play anchored in the
    future holds `position_ms` until then). While paused or waiting, the position is `position_ms`.
    `rev` counts timeline changes; a command naming an older rev is stale.
    """

    id: int
    code: str
    host_id: str
    media_file_id: int | None = None
    title: str = ""
    duration_ms: int | None = None
    state: str = PAUSED
    position_ms: int = 0
    anchor_server_ms: int = 0
    rate: float = 1.0
    rev: int = 0
    control_mode: str = "host"
    queue_mode: str = ONCE
    members: dict[str, Member] = field(default_factory=dict)
    queue: list[QueueItem] = field(default_factory=list)
    requests: dict[int, Request] = field(default_factory=dict)
    barrier: Barrier | None = None
    settle_until_ms: int = 0
    recent_event_ids: list[str] = field(default_factory=list)
    rate_log: dict[str, list[int]] = field(default_factory=dict)
    next_id: int = 1
    ended_ms: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (request keys become strings), sharing nothing mutable with the party;
        `from_dict` reverses it. Written out rather than `dataclasses.asdict`, whose recursive deep
        copy took 3.6 ms for a 500-member party and this 0.26 ms (it runs on every change: bench/party.py)."""
        data = dict(vars(self))
        data["members"] = {k: dict(vars(m)) for k, m in self.members.items()}
        data["queue"] = [dict(vars(q)) for q in self.queue]
        data["requests"] = {str(k): {**vars(r), "payload": deepcopy(r.payload)} for k, r in self.requests.items()}
        data["barrier"] = {**vars(self.barrier), "member_ids": list(self.barrier.member_ids)} if self.barrier else None
        data["recent_event_ids"] = list(self.recent_event_ids)
        data["rate_log"] = {k: list(v) for k, v in self.rate_log.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Party:
        """Rebuild a Party from `to_dict`'s output. Raises KeyError/TypeError on a malformed dict."""
        data = dict(data)
        data["members"] = {k: Member(**v) for k, v in data.get("members", {}).items()}
        data["queue"] = [QueueItem(**v) for v in data.get("queue", [])]
        data["requests"] = {int(k): Request(**v) for k, v in data.get("requests", {}).items()}
        data["barrier"] = Barrier(**data["barrier"]) if data.get("barrier") else None
        return cls(**data)

    def take_id(self) -> int:
        """A fresh number for a queue item or a request."""
        self.next_id += 1
        return self.next_id - 1

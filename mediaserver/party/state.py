"""The party state machine: commands + `now_ms` -> a changed Party, or a rejection.

Pure (the model is `flask/sansio`'s): no Flask, no database, no I/O, no clock; every time is an
integer in ms since the epoch, passed in. `service.py` loads a Party, parses the event
(`commands.parse`), calls `apply` or `tick`, saves it, and the socket (`web/party_socket.py`) emits
what the returned `Outcome` says. The timers (`PartyTimings`) come from configuration.

Rules and where they come from (numbers are the issue's defaults unless said otherwise):
- `play` anchors the start `lead_ms` in the future: above the largest member RTT, at least 300 ms,
  so that the state reaches every member before the moment it names; at most 2 s (issue 13: one
  member's RTT, true or claimed, must not hold everyone's play back), a slower member catches up.
- A member that stalls while the room plays and it was in step puts the room in `waiting`; the room
  waits at most 10 s for it (30 s on a title's first load), then plays on while it catches up alone
  (Jellyfin's SyncPlay waits forever: jellyfin#17864; its PR #17349 proposes per-member timeouts).
  Stalls within SETTLE_MS after a timeline change are the change itself and do not hold the room.
- A late joiner never pauses the room: it joins `loading` and catches up alone.
- The host disconnected for 30 s hands over to the longest-present online cohost, else member.
"""
from __future__ import annotations

from .. import timeline
from ..timeline import RECENT_EVENTS  # noqa: F401 (the party's name for it: tests/unit/test_party_bounds.py)
from . import queue
from .commands import TIMELINE, Buffering, Command, Nudge, Pause, Play, Ready, SetControl, SetQueueMode, SetRole, Skip
from .model import BUFFERING, COHOST, GUEST, HOST, LOADING, OFFLINE, PAUSED, PLAYING, READY, WAITING
from .model import Barrier, Member, Outcome, Party, PartyTimings, QueueItem, Rejected

MIN_LEAD_MS = 300            # issue 5: a play starts at least 300 ms after the server accepts it
MAX_LEAD_MS = 2_000          # issue 13: and at most 2 s (a member with a worse RTT catches up alone)
MAX_MEMBERS = 1_000          # ours: a party's members (bench/party.py runs 500 guests)
LEAD_MARGIN_MS = 100         # on top of the largest RTT reported (ms)
SETTLE_MS = 2_000            # stalls this soon after a play or seek's anchor are the seek itself
#: Issue 5's timers: 10 s rebuffer and 30 s first-load waits, 30 s host grace, 15 s presence, 5 s heartbeat.
DEFAULT_TIMINGS = PartyTimings()


def position_at(party: Party, now_ms: int) -> int:
    """The room's position (ms) at server time `now_ms`, clamped to [0, duration] (`timeline.position_at`)."""
    return timeline.position_at(party.position_ms, party.anchor_server_ms, now_ms, party.state == PLAYING,
                                party.rate, party.duration_ms)


def lead_ms(max_rtt_ms: int) -> int:
    """How far in the future (ms) a start is anchored: LEAD_MARGIN_MS above the largest member RTT,
    within [MIN_LEAD_MS, MAX_LEAD_MS]."""
    return min(MAX_LEAD_MS, max(MIN_LEAD_MS, int(max_rtt_ms) + LEAD_MARGIN_MS))


def can_control(party: Party, member: Member) -> bool:
    """May `member` play, pause, seek and skip? The host and cohosts always; everyone in `everyone` mode."""
    return party.control_mode == "everyone" or member.role in (HOST, COHOST)


def new_party(party_id: int, code: str, host_id: str, host_name: str, item: QueueItem, now_ms: int) -> Party:
    """A paused party at 0 on `item`'s title, its host a member (offline until it connects)."""
    party = Party(id=party_id, code=code, host_id=host_id, media_file_id=item.media_file_id, title=item.title,
                  duration_ms=item.duration_ms, anchor_server_ms=now_ms)
    party.members[host_id] = Member(host_id, host_name, HOST, OFFLINE, joined_ms=now_ms, away_since_ms=now_ms)
    return party


def join(party: Party, member_id: str, name: str, now_ms: int) -> Outcome:
    """A member connects (first time or again): `loading` until its player reports ready.

    Never changes the timeline: a late joiner seeks to the live position by itself. Raises
    Rejected("invalid") for a new member once the party has MAX_MEMBERS.
    """
    member = party.members.get(member_id)
    if member is None:
        if len(party.members) >= MAX_MEMBERS:
            raise Rejected("invalid", f"the party is full: at most {MAX_MEMBERS} members")
        role = HOST if member_id == party.host_id else GUEST
        member = party.members[member_id] = Member(member_id, name, role, LOADING, joined_ms=now_ms)
    else:
        member.name = name or member.name
        member.status = LOADING
        member.away_since_ms = None
    return Outcome(changed=True)


def leave(party: Party, member_id: str, now_ms: int, max_rtt_ms: int = 0) -> Outcome:
    """A member disconnects or leaves; the room stops waiting for it (and plays on, anchored as `play`
    is, when it was the last one waited for). A host keeps its role for HOST_GRACE_MS."""
    member = party.members.get(member_id)
    if member is None or member.status == OFFLINE:
        return Outcome()
    member.status = OFFLINE
    member.away_since_ms = now_ms
    outcome = Outcome(changed=True)
    _stop_waiting_for(party, member_id, now_ms, max_rtt_ms)
    return outcome


def apply(party: Party, member_id: str, command: Command, now_ms: int, max_rtt_ms: int = 0,
          timings: PartyTimings = DEFAULT_TIMINGS) -> Outcome:
    """Apply `command` (`commands.parse`'s, a queued title's facts filled in) from member `member_id`
    at `now_ms`, and say what happened.

    What each command does: Play anchors the start `lead_ms(max_rtt_ms)` ahead (nothing when already
    playing); Pause holds the room at the pauser's position when within RESYNC_TOLERANCE_MS of the
    room's, else at the room's; Seek moves the position (a playing room re-anchors ahead); a repeated
    timeline `event_id` is ignored. Buffering and Ready change the member's status and the room's
    waits. SetControl and SetRole are the host's; Skip loads the next queued title (`load_title`;
    `queue.next_item`: in circulate mode the title ending goes back to the queue); SetQueueMode and
    Nudge (the queue's mode, an item to play next) are for whoever may control;
    queue, request, decide, chat and react commands are `queue.apply`'s. `max_rtt_ms` is the largest
    RTT (ms) the members report. Returns an Outcome: a refused command comes back as
    `Outcome(rejected=..., code=...)` (codes stale, forbidden, rate_limited, invalid), never as an
    exception.
    """
    member = party.members.get(member_id)
    if member is None or member.status == OFFLINE:
        return Outcome(rejected="join the party first", code="forbidden")
    if party.ended_ms is not None:
        return Outcome(rejected="the party has ended", code="invalid")
    if isinstance(command, TIMELINE) and timeline.repeated(party.recent_event_ids, command.event_id):
        return Outcome(ignored=True)
    try:
        if isinstance(command, TIMELINE):
            return _timeline(party, member, command, now_ms, max_rtt_ms)
        if isinstance(command, Buffering):
            return _buffering(party, member, now_ms, timings)
        if isinstance(command, Ready):
            return _ready(party, member, now_ms, max_rtt_ms)
        if isinstance(command, SetControl):
            return _set_control(party, member, command)
        if isinstance(command, SetRole):
            return _set_role(party, member, command, now_ms)
        if isinstance(command, (Skip, SetQueueMode, Nudge)) and not can_control(party, member):
            raise Rejected("forbidden", "only the host or a cohost can change what plays in host mode")
        if isinstance(command, Skip):
            item = queue.next_item(party)
            if item is None:
                raise Rejected("invalid", "the queue is empty")
            return load_title(party, item, now_ms, timings)
        if isinstance(command, (SetQueueMode, Nudge)):
            return queue.arrange(party, command)
        return queue.apply(party, member, command, now_ms)
    except Rejected as exc:
        return Outcome(rejected=str(exc), code=exc.code)


def tick(party: Party, now_ms: int, seen_ms: dict[str, int], max_rtt_ms: int = 0,
         timings: PartyTimings = DEFAULT_TIMINGS) -> Outcome:
    """Time-driven changes, run about every 0.25 s: presence, barrier deadline, host handoff, guests'
    requests left undecided (`queue.expire`), end of title.

    `seen_ms` maps member ids to the last time (ms) each was heard from.
    """
    outcome = Outcome()
    for member in party.members.values():
        if member.online and now_ms - seen_ms.get(member.id, now_ms) > timings.presence_timeout_ms:
            outcome.changed |= leave(party, member.id, now_ms, max_rtt_ms).changed
    if party.barrier is not None and now_ms >= party.barrier.deadline_ms:
        _release(party, now_ms, max_rtt_ms)  # the ones still loading catch up alone
        outcome.changed = True
    host = party.members.get(party.host_id)
    away_since = host.away_since_ms if host is not None and host.away_since_ms is not None else now_ms
    if host is None or (not host.online and now_ms - away_since >= timings.host_grace_ms):
        heir = _heir(party)
        if heir is not None:
            outcome.emits.append(("chat", _transfer_host(party, heir, now_ms)))
            outcome.changed = True
    outcome.emits.extend(queue.expire(party, now_ms))
    if party.state == PLAYING and party.duration_ms and position_at(party, now_ms) >= party.duration_ms:
        item = queue.next_item(party)
        if item is not None:
            sub = load_title(party, item, now_ms, timings)
            outcome.emits.extend(sub.emits)
        else:
            party.position_ms, party.state, party.anchor_server_ms = party.duration_ms, PAUSED, now_ms
            party.rev += 1
        outcome.changed = True
    return outcome


def load_title(party: Party, item: QueueItem, now_ms: int, timings: PartyTimings = DEFAULT_TIMINGS) -> Outcome:
    """Change the title (skip or auto-advance): the room waits for every online member to load it,
    at most `timings.first_load_wait_ms`, then plays from 0."""
    party.media_file_id, party.title, party.duration_ms = item.media_file_id, item.title, item.duration_ms
    party.state, party.position_ms, party.anchor_server_ms = WAITING, 0, now_ms
    party.rev += 1
    online = [m for m in party.members.values() if m.online]
    for member in online:
        member.status = LOADING
    party.barrier = Barrier([m.id for m in online], now_ms + timings.first_load_wait_ms, "load")
    party.settle_until_ms = now_ms + timings.first_load_wait_ms
    return Outcome(changed=True, emits=[("queue", queue.view(party))])


def view(party: Party, now_ms: int, reports: dict[str, dict] | None = None) -> dict:
    """The `state` event's body (issue 5's wire contract), plus `server_ms`, `title`, `duration_ms` and
    `ended` (true once the party has ended).

    `reports` maps member ids to their last `{"drift_ms", "rtt_ms"}`.
    """
    reports = reports or {}
    members = sorted(party.members.values(), key=lambda m: (m.joined_ms, m.id))
    return {
        "party": party.code, "media_file_id": party.media_file_id, "title": party.title,
        "duration_ms": party.duration_ms, "state": party.state, "position_ms": party.position_ms,
        "anchor_server_ms": party.anchor_server_ms, "rate": party.rate, "rev": party.rev,
        "host": party.host_id, "control_mode": party.control_mode, "queue_mode": party.queue_mode,
        "server_ms": now_ms,
        "ended": party.ended_ms is not None,
        "members": [{"id": m.id, "name": m.name, "role": m.role, "status": m.status,
                     "drift_ms": reports.get(m.id, {}).get("drift_ms"),
                     "rtt_ms": reports.get(m.id, {}).get("rtt_ms")} for m in members],
    }


def _timeline(party: Party, member: Member, command: Command, now_ms: int, max_rtt_ms: int) -> Outcome:
    if not can_control(party, member):
        event = type(command).__name__.lower()
        raise Rejected("forbidden", f"only the host or a cohost can {event} in host mode")
    if command.rev != party.rev:
        raise Rejected("stale", f"stale revision {command.rev}: the party is at revision {party.rev}")
    if party.media_file_id is None:
        raise Rejected("invalid", "nothing to play")
    if isinstance(command, Play):
        if party.state == PLAYING:
            return Outcome()
        _start(party, now_ms, max_rtt_ms)
        return Outcome(changed=True)
    position = command.position_ms
    if party.duration_ms is not None:
        position = min(position, party.duration_ms)
    if isinstance(command, Pause):
        party.position_ms = timeline.held_position(position, position_at(party, now_ms))
        party.state, party.anchor_server_ms, party.barrier = PAUSED, now_ms, None
    else:  # seek: keeps playing (from a new anchor), paused or waiting
        party.position_ms = position
        party.anchor_server_ms = now_ms + (lead_ms(max_rtt_ms) if party.state == PLAYING else 0)
        party.settle_until_ms = party.anchor_server_ms + SETTLE_MS
    party.rev += 1
    return Outcome(changed=True)


def _start(party: Party, now_ms: int, max_rtt_ms: int) -> None:
    """Play from `position_ms`, anchored `lead_ms` ahead; ends any wait."""
    party.state, party.barrier = PLAYING, None
    party.anchor_server_ms = now_ms + lead_ms(max_rtt_ms)
    party.settle_until_ms = party.anchor_server_ms + SETTLE_MS
    party.rev += 1


def _buffering(party: Party, member: Member, now_ms: int, timings: PartyTimings) -> Outcome:
    was = member.status
    member.status = BUFFERING
    if was != READY:
        return Outcome(changed=was != BUFFERING)
    if party.state == PLAYING and now_ms >= party.settle_until_ms:
        party.position_ms = position_at(party, now_ms)
        party.state, party.anchor_server_ms = WAITING, now_ms
        party.barrier = Barrier([member.id], now_ms + timings.rebuffer_wait_ms, "buffering")
        party.rev += 1
    elif party.state == WAITING and party.barrier is not None and member.id not in party.barrier.member_ids:
        party.barrier.member_ids.append(member.id)
    return Outcome(changed=True)


def _ready(party: Party, member: Member, now_ms: int, max_rtt_ms: int) -> Outcome:
    changed = member.status != READY
    member.status = READY
    if party.barrier is not None and member.id in party.barrier.member_ids:
        _stop_waiting_for(party, member.id, now_ms, max_rtt_ms)
        changed = True
    return Outcome(changed=changed)


def _stop_waiting_for(party: Party, member_id: str, now_ms: int, max_rtt_ms: int) -> None:
    if party.barrier is None or member_id not in party.barrier.member_ids:
        return
    party.barrier.member_ids.remove(member_id)
    if not party.barrier.member_ids:
        _release(party, now_ms, max_rtt_ms)


def _release(party: Party, now_ms: int, max_rtt_ms: int) -> None:
    """End the wait: the room plays on from where it stopped."""
    party.barrier = None
    if party.state == WAITING:
        _start(party, now_ms, max_rtt_ms)


def _set_control(party: Party, member: Member, command: SetControl) -> Outcome:
    if member.role != HOST:
        raise Rejected("forbidden", "only the host can change the control mode")
    changed = party.control_mode != command.mode
    party.control_mode = command.mode
    return Outcome(changed=changed)


def _set_role(party: Party, member: Member, command: SetRole, now_ms: int) -> Outcome:
    """`set_role {member_id, role}` (an addition to the wire contract): the host promotes a cohost,
    demotes one to guest, or hands the host role over."""
    if member.role != HOST:
        raise Rejected("forbidden", "only the host can change roles")
    target, role = party.members.get(command.member_id), command.role
    if target is None:
        raise Rejected("invalid", "no such member")
    if target.id == member.id:
        raise Rejected("invalid", "the host hands over the role by giving it to another member")
    if role == HOST:
        return Outcome(changed=True, emits=[("chat", _transfer_host(party, target, now_ms))])
    target.role = role
    return Outcome(changed=True)


def _heir(party: Party) -> Member | None:
    online = [m for m in party.members.values() if m.online and m.id != party.host_id]
    online.sort(key=lambda m: (m.role != COHOST, m.joined_ms, m.id))
    return online[0] if online else None


def _transfer_host(party: Party, heir: Member, now_ms: int) -> dict:
    """Make `heir` the host (the old host becomes a cohost); returns the announcement's chat body."""
    old = party.members.get(party.host_id)
    if old is not None:
        old.role = COHOST
    heir.role = HOST
    party.host_id = heir.id
    return {"member_id": None, "name": "", "system": True, "text": f"{heir.name} is now the host",
            "server_ms": now_ms}

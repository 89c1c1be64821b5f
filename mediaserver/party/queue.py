"""The party's queue, guests' requests, chat and reactions, with their rate limits. Pure, like state.py.

The host and cohosts change the queue directly (`queue_add`, `queue_remove`, `queue_move`); a guest
sends `request {kind, payload}` and the change waits for the host's `decide {request_id, approve}`.
Guests' requests, and everyone's chat and reactions, are rate-limited over a sliding window; a guest
has at most MAX_PENDING_PER_MEMBER requests waiting, the party MAX_PENDING, and a request not decided
within REQUEST_TTL_MS expires (issue 13: the state stays bounded whatever guests send).
"""
from __future__ import annotations

from .commands import Decide, Message, Nudge, QueueAdd, QueueChange, QueueMove, QueueRemove, RequestChange, SetQueueMode
from .model import CIRCULATE, COHOST, HOST, Member, Outcome, Party, QueueItem, Rejected, Request

#: (events, window ms) per member. Requests: the issue's example (5 per minute); chat and reactions
#: are looser so a conversation flows, tight enough that one member cannot flood the room.
RATE_LIMITS = {"request": (5, 60_000), "chat": (10, 30_000), "react": (20, 30_000)}
MAX_QUEUE = 200
#: Decided requests remembered (their outcome stays visible to their sender); older ones are forgotten.
DECIDED_KEPT = 50
#: Requests waiting for a decision: per guest, and per party (ours: a host decides a few at a time).
MAX_PENDING_PER_MEMBER = 3
MAX_PENDING = 20
#: A request undecided this long (ms) expires (ours: a host away that long has not seen it).
REQUEST_TTL_MS = 5 * 60_000


def view(party: Party) -> dict:
    """The `queue` event's body: `{"items": [{id, media_file_id, title, duration_ms}], "requests":
    [pending], "mode": once|circulate}`."""
    return {"items": [{"id": i.id, "media_file_id": i.media_file_id, "title": i.title,
                       "duration_ms": i.duration_ms} for i in party.queue],
            "requests": [r.to_json() for r in party.requests.values() if r.status == "pending"],
            "mode": party.queue_mode}


def arrange(party: Party, command: SetQueueMode | Nudge) -> Outcome:
    """`set_queue_mode` and `nudge`, for a member allowed to control (`state.apply` checks it): the mode
    set (the `state` says it too), or the item moved to the queue's front. Raises Rejected."""
    if isinstance(command, SetQueueMode):
        party.queue_mode = command.mode
        return Outcome(changed=True, emits=[("queue", view(party))])
    _change(party, QueueMove(command.item_id, 0))
    return Outcome(emits=[("queue", view(party))])


def next_item(party: Party) -> QueueItem | None:
    """Take the title to play next off the queue's front; in `circulate` mode the title playing now
    first goes to the queue's end (room permitting: MAX_QUEUE), so the queue goes round and a lone title
    plays again. None when there is nothing to play."""
    if party.queue_mode == CIRCULATE and party.media_file_id is not None and len(party.queue) < MAX_QUEUE:
        party.queue.append(QueueItem(party.take_id(), party.media_file_id, party.title, party.duration_ms))
    return party.queue.pop(0) if party.queue else None


def apply(party: Party, member: Member, command, now_ms: int) -> Outcome:
    """Queue changes, requests, decisions, chat and reactions (see the module doc). Raises Rejected."""
    editor = member.role in (HOST, COHOST)
    if isinstance(command, (QueueAdd, QueueRemove, QueueMove)):
        if not editor:
            raise Rejected("forbidden", "only the host or a cohost edits the queue; send a request instead")
        _change(party, command)
        return Outcome(changed=False, emits=[("queue", view(party))])
    if isinstance(command, RequestChange):
        _change(party, command.change, dry_run=True)  # a request that could never apply is refused now
        if not editor:
            _limit_pending(party, member)
            _limit(party, member, "request", now_ms)
        request = Request(party.take_id(), member.id, command.kind, command.change.payload(), "pending", now_ms)
        party.requests[request.id] = request
        _forget_old_requests(party)
        if editor:
            return _decide(party, request, True)
        return Outcome(emits=[("request_update", request.to_json()), ("queue", view(party))])
    if isinstance(command, Decide):
        if not editor:
            raise Rejected("forbidden", "only the host or a cohost decides requests")
        request = party.requests.get(command.request_id)
        if request is None or request.status != "pending":
            raise Rejected("invalid", "no such pending request")
        return _decide(party, request, command.approve)
    if isinstance(command, Message):  # chat and reactions: shown to the room as sent, trimmed
        _limit(party, member, command.event, now_ms)
        body = {"member_id": member.id, "name": member.name, command.field: command.value, "server_ms": now_ms}
        return Outcome(emits=[(command.event, {**body, "system": False} if command.event == "chat" else body)])
    raise Rejected("invalid", f"unknown command {type(command).__name__}")


def expire(party: Party, now_ms: int) -> list[tuple[str, dict]]:
    """Requests pending for REQUEST_TTL_MS or more become `expired`; returns the room events that say
    so (a `request_update` each, then the `queue`), or [] when none expired."""
    expired = [r for r in party.requests.values() if r.status == "pending" and now_ms - r.created_ms >= REQUEST_TTL_MS]
    for request in expired:
        request.status, request.reason = "expired", f"not decided within {REQUEST_TTL_MS // 60_000} min"
    if not expired:
        return []
    _forget_old_requests(party)
    return [("request_update", r.to_json()) for r in expired] + [("queue", view(party))]


def _limit_pending(party: Party, member: Member) -> None:
    """Raises Rejected(rate_limited) when `member` or the party has as many pending requests as allowed."""
    pending = [r for r in party.requests.values() if r.status == "pending"]
    if sum(r.member_id == member.id for r in pending) >= MAX_PENDING_PER_MEMBER:
        raise Rejected("rate_limited", f"you have {MAX_PENDING_PER_MEMBER} requests waiting: wait for the "
                                       "host's decision")
    if len(pending) >= MAX_PENDING:
        raise Rejected("rate_limited", f"{MAX_PENDING} requests are waiting for the host: try again later")


def _decide(party: Party, request: Request, approve: bool) -> Outcome:
    if approve:
        try:
            _change(party, _stored_change(request))
            request.status = "approved"
        except Rejected as exc:
            request.status, request.reason = "failed", str(exc)
    else:
        request.status = "denied"
    return Outcome(emits=[("request_update", request.to_json()), ("queue", view(party))])


def _stored_change(request: Request) -> QueueChange:
    """A stored request's change (its payload as `QueueChange.payload` wrote it)."""
    p = request.payload
    if request.kind == "add":
        return QueueAdd(p["media_file_id"], p.get("title"), p.get("duration_ms"))
    if request.kind == "remove":
        return QueueRemove(p["item_id"])
    return QueueMove(p["item_id"], p["index"])


def _change(party: Party, change: QueueChange, dry_run: bool = False) -> None:
    """Add, remove or move a queue item (an add's title and duration come from the catalog)."""
    if isinstance(change, QueueAdd):
        if len(party.queue) >= MAX_QUEUE:
            raise Rejected("invalid", f"the queue holds at most {MAX_QUEUE} titles")
        if not dry_run:
            party.queue.append(QueueItem(party.take_id(), change.media_file_id,
                                         change.title or f"File {change.media_file_id}", change.duration_ms))
        return
    index = next((i for i, item in enumerate(party.queue) if item.id == change.item_id), None)
    if index is None:
        raise Rejected("invalid", "no such queue item")
    if isinstance(change, QueueRemove):
        if not dry_run:
            del party.queue[index]
        return
    if not 0 <= change.index < len(party.queue):
        raise Rejected("invalid", f"index must be between 0 and {len(party.queue) - 1}")
    if not dry_run:
        party.queue.insert(change.index, party.queue.pop(index))


def _limit(party: Party, member: Member, kind: str, now_ms: int) -> None:
    """Sliding-window rate limit; raises Rejected(rate_limited) with the wait in s."""
    count, window_ms = RATE_LIMITS[kind]
    key = f"{member.id}:{kind}"
    recent = [t for t in party.rate_log.get(key, []) if now_ms - t < window_ms]
    if len(recent) >= count:
        wait_s = max(1, -(-(recent[0] + window_ms - now_ms) // 1000))
        party.rate_log[key] = recent
        raise Rejected("rate_limited", f"rate-limited: at most {count} {kind}s per {window_ms // 1000} s; "
                                       f"try again in {wait_s} s")
    party.rate_log[key] = recent + [now_ms]


def _forget_old_requests(party: Party, keep: int = DECIDED_KEPT) -> None:
    decided = [r.id for r in party.requests.values() if r.status != "pending"]
    for request_id in decided[:-keep] if len(decided) > keep else []:
        del party.requests[request_id]

"""The party's queue, guests' requests, chat and reactions, with their rate limits. Pure, like state.py.

The host and cohosts change the queue directly (`queue_add`, `queue_remove`, `queue_move`); a guest
sends `request {kind, payload}` and the change waits for the host's `decide {request_id, approve}`.
Guests' requests, and everyone's chat and reactions, are rate-limited over a sliding window.
"""
from __future__ import annotations

from typing import Callable

from .model import COHOST, HOST, Member, Outcome, Party, QueueItem, Rejected, Request

#: (events, window ms) per member. Requests: the issue's example (5 per minute); chat and reactions
#: are looser so a conversation flows, tight enough that one member cannot flood the room.
RATE_LIMITS = {"request": (5, 60_000), "chat": (10, 30_000), "react": (20, 30_000)}
MAX_CHAT_CHARS = 500
MAX_EMOJI_CHARS = 16
MAX_QUEUE = 200
REQUEST_KINDS = ("add", "remove", "move")
#: event -> (its data field, what the error calls it, most characters)
TEXT_EVENTS = {"chat": ("text", "chat text", MAX_CHAT_CHARS), "react": ("emoji", "emoji", MAX_EMOJI_CHARS)}


def view(party: Party) -> dict:
    """The `queue` event's body: `{"items": [{id, media_file_id, title, duration_ms}], "requests": [pending]}`."""
    return {"items": [{"id": i.id, "media_file_id": i.media_file_id, "title": i.title,
                       "duration_ms": i.duration_ms} for i in party.queue],
            "requests": [r.to_json() for r in party.requests.values() if r.status == "pending"]}


def apply(party: Party, member: Member, event: str, data: dict, now_ms: int, load_title: Callable) -> Outcome:
    """Queue, request, chat and react events (see the module doc). Raises state.Rejected."""
    editor = member.role in (HOST, COHOST)
    if event in ("queue_add", "queue_remove", "queue_move"):
        if not editor:
            raise Rejected("forbidden", "only the host or a cohost edits the queue; send a request instead")
        _change(party, event.removeprefix("queue_"), data)
        return Outcome(changed=False, emits=[("queue", view(party))])
    if event == "request":
        kind, payload = data.get("kind"), data.get("payload")
        if kind not in REQUEST_KINDS or not isinstance(payload, dict):
            raise Rejected("invalid", "a request needs kind add, remove or move and a payload object")
        _change(party, kind, payload, dry_run=True)  # a request that could never apply is refused now
        if not editor:
            _limit(party, member, "request", now_ms)
        request = Request(party.take_id(), member.id, kind, payload, "pending", now_ms)
        party.requests[request.id] = request
        _forget_old_requests(party)
        if editor:
            return _decide(party, request, True)
        return Outcome(emits=[("request_update", request.to_json()), ("queue", view(party))])
    if event == "decide":
        if not editor:
            raise Rejected("forbidden", "only the host or a cohost decides requests")
        request = party.requests.get(data.get("request_id")) if isinstance(data.get("request_id"), int) else None
        if request is None or request.status != "pending":
            raise Rejected("invalid", "no such pending request")
        return _decide(party, request, bool(data.get("approve")))
    if event in TEXT_EVENTS:  # chat {text}, react {emoji}: shown to the room as sent, trimmed
        field, label, most = TEXT_EVENTS[event]
        value = data.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > most:
            raise Rejected("invalid", f"{label} must be 1 to {most} characters")
        _limit(party, member, event, now_ms)
        body = {"member_id": member.id, "name": member.name, field: value.strip(), "server_ms": now_ms}
        return Outcome(emits=[(event, {**body, "system": False} if event == "chat" else body)])
    raise Rejected("invalid", f"unknown event {event!r}")


def _decide(party: Party, request: Request, approve: bool) -> Outcome:
    if approve:
        try:
            _change(party, request.kind, request.payload)
            request.status = "approved"
        except Rejected as exc:
            request.status, request.reason = "failed", str(exc)
    else:
        request.status = "denied"
    return Outcome(emits=[("request_update", request.to_json()), ("queue", view(party))])


def _change(party: Party, kind: str, data: dict, dry_run: bool = False) -> None:
    """Add, remove or move a queue item. `add` takes `{media_file_id, title, duration_ms}` (the socket
    handler fills title and duration from the catalog); `move` takes `{item_id, index}`."""
    if kind == "add":
        media_id = data.get("media_file_id")
        if not isinstance(media_id, int) or isinstance(media_id, bool):
            raise Rejected("invalid", "media_file_id must be an integer")
        if len(party.queue) >= MAX_QUEUE:
            raise Rejected("invalid", f"the queue holds at most {MAX_QUEUE} titles")
        if not dry_run:
            party.queue.append(QueueItem(party.take_id(), media_id, str(data.get("title") or f"File {media_id}"),
                                         data.get("duration_ms")))
        return
    item_id = data.get("item_id")
    index = next((i for i, item in enumerate(party.queue) if item.id == item_id), None)
    if index is None:
        raise Rejected("invalid", "no such queue item")
    if kind == "remove":
        if not dry_run:
            del party.queue[index]
        return
    to = data.get("index")
    if not isinstance(to, int) or isinstance(to, bool) or not 0 <= to < len(party.queue):
        raise Rejected("invalid", f"index must be between 0 and {len(party.queue) - 1}")
    if not dry_run:
        party.queue.insert(to, party.queue.pop(index))


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


def _forget_old_requests(party: Party, keep: int = 50) -> None:
    decided = [r.id for r in party.requests.values() if r.status != "pending"]
    for request_id in decided[:-keep] if len(decided) > keep else []:
        del party.requests[request_id]

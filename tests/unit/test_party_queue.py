"""The watch party's queue, guests' requests, chat and reactions (mediaserver.party.queue, through state.apply)."""
import re

import pytest

from mediaserver.party import commands, queue, state
from mediaserver.party.model import COHOST, QueueItem
from tests.unit.party_builders import apply_event

T0 = 1_700_000_000_000


def send(party, who, event, now=T0, **data):
    return apply_event(party, who, event, data, now)


def make():
    """A party whose host u1, cohost c1 and guests g1, g2 are online; the queue holds items A (id 1) and B (id 2)."""
    party = state.new_party(7, "ABCD", "u1", "Host", QueueItem(0, 1, "One", 600_000), T0)
    for mid in ("u1", "c1", "g1", "g2"):
        state.join(party, mid, mid.upper(), T0)
    send(party, "u1", "set_role", member_id="c1", role=COHOST)
    send(party, "u1", "queue_add", media_file_id=10, title="A", duration_ms=1_000)
    send(party, "u1", "queue_add", media_file_id=11, title="B")
    return party


def titles(party):
    return [item.title for item in party.queue]


def request(party, who="g1", now=T0, **data):
    return send(party, who, "request", now, **data)


# --- the host and cohosts edit the queue ---

@pytest.mark.parametrize("who", ["u1", "c1"])
def test_editors_add_remove_and_move_items(who):
    party = make()
    out = send(party, who, "queue_add", media_file_id=12, title="C", duration_ms=5_000)
    assert titles(party) == ["A", "B", "C"] and party.queue[-1].duration_ms == 5_000
    (name, body), = out.emits
    assert name == "queue" and [i["title"] for i in body["items"]] == ["A", "B", "C"]
    c_id = party.queue[-1].id
    assert send(party, who, "queue_move", item_id=c_id, index=0).emits[0][0] == "queue"
    assert titles(party) == ["C", "A", "B"]
    send(party, who, "queue_remove", item_id=party.queue[1].id)
    assert titles(party) == ["C", "B"]


def test_an_added_item_without_a_title_is_named_after_its_file():
    party = make()
    send(party, "u1", "queue_add", media_file_id=42)
    assert (party.queue[-1].title, party.queue[-1].duration_ms) == ("File 42", None)


@pytest.mark.parametrize("event, data", [
    ("queue_add", {"media_file_id": "12"}), ("queue_add", {"media_file_id": True}), ("queue_add", {}),
    ("queue_remove", {"item_id": 99}), ("queue_move", {"item_id": 99, "index": 0}),
    ("queue_move", {"item_id": 1, "index": 2}), ("queue_move", {"item_id": 1, "index": -1}),
    ("queue_move", {"item_id": 1, "index": "0"}),
])
def test_invalid_queue_edits_are_rejected(event, data):
    party = make()
    out = apply_event(party, "u1", event, data, T0)
    assert out.code == "invalid" and out.rejected and titles(party) == ["A", "B"]


@pytest.mark.parametrize("event, data", [("queue_add", {"media_file_id": 12}), ("queue_remove", {"item_id": 1}),
                                         ("queue_move", {"item_id": 2, "index": 0})])
def test_guests_cannot_edit_the_queue(event, data):
    party = make()
    out = apply_event(party, "g1", event, data, T0)
    assert out.code == "forbidden" and "request" in out.rejected and titles(party) == ["A", "B"]


# --- guests' requests ---

# An add's payload as the service makes it (the catalog's title and duration; commands.QueueAdd.payload)
@pytest.mark.parametrize("kind, payload", [("add", {"media_file_id": 12, "title": "C", "duration_ms": None}),
                                           ("remove", {"item_id": 1}), ("move", {"item_id": 2, "index": 0})])
def test_a_guest_request_waits_for_a_decision(kind, payload):
    party = make()
    out = request(party, kind=kind, payload=payload)
    assert out.rejected is None and not out.changed and titles(party) == ["A", "B"]
    (name, update), (qname, body) = out.emits
    assert name == "request_update" and qname == "queue"
    assert (update["status"], update["kind"], update["payload"]) == ("pending", kind, payload)
    assert update["member_id"] == "g1"
    assert party.requests[update["request_id"]].status == "pending"
    assert body["requests"] == [update] and [i["title"] for i in body["items"]] == ["A", "B"]


@pytest.mark.parametrize("kind, payload", [
    ("rename", {"item_id": 1}), (None, {}), ("add", None), ("add", [12]), ("add", {"media_file_id": "12"}),
    ("remove", {"item_id": 99}), ("remove", {}), ("move", {"item_id": 1, "index": 5}),
    ("move", {"item_id": 99, "index": 0}),
])
def test_a_request_that_could_never_apply_is_refused_at_once(kind, payload):
    party = make()
    out = request(party, kind=kind, payload=payload)
    assert out.code == "invalid" and out.rejected and not party.requests


def approve(party, request_id, who="u1", yes=True):
    return send(party, who, "decide", request_id=request_id, approve=yes)


def pending_id(out):
    return out.emits[0][1]["request_id"]


def test_approving_a_request_applies_it():
    party = make()
    rid = pending_id(request(party, kind="add", payload={"media_file_id": 12, "title": "C"}))
    out = approve(party, rid, who="c1")
    assert titles(party) == ["A", "B", "C"] and party.requests[rid].status == "approved"
    (name, update), (qname, body) = out.emits
    assert (name, update["status"], update["reason"]) == ("request_update", "approved", None)
    assert qname == "queue" and body["requests"] == [] and len(body["items"]) == 3


def test_denying_a_request_leaves_the_queue_alone():
    party = make()
    rid = pending_id(request(party, kind="remove", payload={"item_id": 1}))
    out = approve(party, rid, yes=False)
    assert titles(party) == ["A", "B"] and party.requests[rid].status == "denied"
    assert out.emits[0][1]["status"] == "denied"


def test_a_request_whose_item_vanished_fails_with_a_reason():
    party = make()
    rid = pending_id(request(party, kind="move", payload={"item_id": 2, "index": 0}))
    send(party, "u1", "queue_remove", item_id=2)
    out = approve(party, rid)
    assert party.requests[rid].status == "failed" and "no such queue item" in party.requests[rid].reason
    assert out.emits[0][1]["status"] == "failed" and out.emits[0][1]["reason"] == party.requests[rid].reason
    assert titles(party) == ["A"]


def test_only_editors_decide_and_only_pending_requests():
    party = make()
    rid = pending_id(request(party, kind="remove", payload={"item_id": 1}))
    assert approve(party, rid, who="g2").code == "forbidden"
    assert approve(party, rid, who="g1").code == "forbidden"
    assert party.requests[rid].status == "pending"
    assert approve(party, 999).code == "invalid" and approve(party, str(rid)).code == "invalid"
    approve(party, rid)
    assert approve(party, rid, yes=False).code == "invalid" and party.requests[rid].status == "approved"


@pytest.mark.parametrize("who", ["u1", "c1"])
def test_an_editors_own_request_applies_directly(who):
    party = make()
    out = request(party, who=who, kind="add", payload={"media_file_id": 12, "title": "C"})
    assert titles(party) == ["A", "B", "C"]
    assert out.emits[0][0] == "request_update" and out.emits[0][1]["status"] == "approved"


# --- rate limits ---

def add(party, now, who="g1", decided=True):
    """A guest's request to add title 12 at `now`, which the host then denies (when `decided`: so that
    only the rate limit counts, not the limit on pending requests)."""
    out = request(party, who=who, now=now, kind="add", payload={"media_file_id": 12})
    pending = [r for r in party.requests.values() if r.status == "pending"]
    if decided and out.rejected is None and pending:
        assert send(party, "u1", "decide", now, request_id=pending[-1].id, approve=False).rejected is None
    return out


def test_five_guest_requests_a_minute_then_rate_limited_until_the_window_passes():
    party = make()
    for i in range(5):
        assert add(party, T0 + i * 1_000).rejected is None
    out = add(party, T0 + 10_000)
    assert out.code == "rate_limited" and re.search(r"try again in 50 s", out.rejected)
    assert add(party, T0 + 59_999).code == "rate_limited"
    assert len(party.requests) == 5
    assert add(party, T0 + 60_000).rejected is None  # the first request left the window
    assert add(party, T0 + 60_500).code == "rate_limited"
    assert add(party, T0 + 61_000).rejected is None


def test_the_request_limit_is_per_guest_and_not_for_editors():
    party = make()
    for i in range(5):
        add(party, T0 + i)
    assert add(party, T0 + 10).code == "rate_limited"
    assert add(party, T0 + 10, who="g2").rejected is None
    for i in range(8):
        assert add(party, T0 + 10 + i, who="u1").rejected is None


# --- chat and reactions ---

def test_chat_carries_the_members_name_and_text():
    party = make()
    (name, body), = send(party, "g1", "chat", T0 + 5, text="  hello there ").emits
    assert name == "chat"
    assert body == {"member_id": "g1", "name": "G1", "text": "hello there", "system": False, "server_ms": T0 + 5}


@pytest.mark.parametrize("text", ["", "   ", None, 42, "x" * (commands.MAX_CHAT_CHARS + 1)])
def test_invalid_chat_is_rejected(text):
    out = send(make(), "g1", "chat", text=text)
    assert out.code == "invalid" and not out.emits


def test_chat_of_the_maximum_length_passes():
    assert send(make(), "g1", "chat", text="x" * commands.MAX_CHAT_CHARS).rejected is None


@pytest.mark.parametrize("event, data, count, window", [("chat", {"text": "hi"}, 10, 30_000),
                                                        ("react", {"emoji": "🎉"}, 20, 30_000)])
def test_chat_and_reactions_are_rate_limited(event, data, count, window):
    assert queue.RATE_LIMITS[event] == (count, window)
    party = make()
    for i in range(count):
        assert apply_event(party, "u1", event, data, T0 + i).emits
    out = apply_event(party, "u1", event, data, T0 + count)
    assert out.code == "rate_limited" and "try again in 30 s" in out.rejected and not out.emits
    assert apply_event(party, "g1", event, data, T0 + count).emits  # another member's allowance
    assert apply_event(party, "u1", event, data, T0 + window).emits


def test_a_reaction_carries_the_emoji():
    (name, body), = send(make(), "g2", "react", T0 + 3, emoji=" 👍 ").emits
    assert (name, body) == ("react", {"member_id": "g2", "name": "G2", "emoji": "👍", "server_ms": T0 + 3})


@pytest.mark.parametrize("emoji", ["", " ", None, 7, "x" * (commands.MAX_EMOJI_CHARS + 1)])
def test_invalid_reactions_are_rejected(emoji):
    assert send(make(), "g1", "react", emoji=emoji).code == "invalid"


def test_an_unknown_event_is_rejected():
    out = send(make(), "u1", "dance")
    assert out.code == "invalid" and "dance" in out.rejected


# --- listening parties: the queue's mode and nudges (issue 14) ---

def test_in_circulate_mode_a_played_title_goes_back_to_the_queue_end():
    party = make()
    out = send(party, "u1", "set_queue_mode", mode="circulate")
    assert out.changed and party.queue_mode == "circulate" and out.emits[0][1]["mode"] == "circulate"
    assert state.view(party, T0)["queue_mode"] == "circulate"
    send(party, "u1", "skip")  # "One" was playing: it goes to the end, "A" plays
    assert party.title == "A" and titles(party) == ["B", "One"]
    send(party, "u1", "skip")
    send(party, "u1", "skip")
    assert party.title == "One" and titles(party) == ["A", "B"]  # round once
    assert len({item.id for item in party.queue}) == 2  # each return is a new item


def test_in_circulate_mode_the_end_of_a_title_plays_the_next_and_keeps_the_one_played():
    party = make()
    send(party, "u1", "set_queue_mode", mode="circulate")
    for mid in ("u1", "c1", "g1", "g2"):
        send(party, mid, "ready")
    send(party, "u1", "play", rev=party.rev)
    state.tick(party, T0 + 601_000, {m: T0 + 601_000 for m in party.members})
    assert party.title == "A" and titles(party) == ["B", "One"]


def test_once_mode_drops_a_played_title_and_a_lone_title_circulates_onto_itself():
    party = make()
    send(party, "u1", "skip")
    assert party.title == "A" and titles(party) == ["B"]
    send(party, "u1", "queue_remove", item_id=party.queue[0].id)
    assert send(party, "u1", "skip").code == "invalid"  # nothing queued
    send(party, "u1", "set_queue_mode", mode="circulate")
    assert not send(party, "u1", "skip").rejected and party.title == "A" and party.state == "waiting"


def test_a_nudge_moves_an_item_to_play_next():
    party = make()
    send(party, "u1", "queue_add", media_file_id=12, title="C")
    out = send(party, "c1", "nudge", item_id=party.queue[2].id)
    assert titles(party) == ["C", "A", "B"] and [i["title"] for i in out.emits[0][1]["items"]] == ["C", "A", "B"]
    assert send(party, "u1", "nudge", item_id=999).code == "invalid"


def test_in_host_mode_a_guest_can_neither_nudge_nor_set_the_mode_in_everyone_mode_they_can():
    party = make()
    for event, data in (("nudge", {"item_id": party.queue[1].id}), ("set_queue_mode", {"mode": "circulate"})):
        assert send(party, "g1", event, **data).code == "forbidden"
    assert titles(party) == ["A", "B"] and party.queue_mode == "once"
    send(party, "u1", "set_control", mode="everyone")
    assert not send(party, "g1", "nudge", item_id=party.queue[1].id).rejected and titles(party) == ["B", "A"]
    assert not send(party, "g2", "set_queue_mode", mode="circulate").rejected and party.queue_mode == "circulate"


@pytest.mark.parametrize("event, data", [
    ("set_queue_mode", {"mode": "shuffle"}), ("set_queue_mode", {}), ("nudge", {"item_id": "1"}), ("nudge", {}),
])
def test_bad_queue_mode_and_nudge_data_is_refused(event, data):
    party = make()
    out = send(party, "u1", event, **data)
    assert out.code == "invalid" and titles(party) == ["A", "B"] and party.queue_mode == "once"

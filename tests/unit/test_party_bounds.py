"""Issue 13: whatever members send, a party's state stays bounded and one member cannot hold the others
back (party/commands.py, queue.py, state.py, model.MAX_STATE_CHARS). Times in ms, injected."""
import json
import math

import pytest

from mediaserver.party import access, commands, queue, state
from mediaserver.party.model import MAX_STATE_CHARS, Member, QueueItem, Rejected, Request
from tests.unit.party_builders import T0, make, send


def request(party, who, now=T0, media_file_id=12):
    return send(party, who, "request", now, kind="add", payload={"media_file_id": media_file_id, "title": "T"})


def pending(party):
    return [r for r in party.requests.values() if r.status == "pending"]


# --- each event's data, as a whole and field by field ---

def test_event_data_over_4096_characters_of_json_is_oversized():
    assert not commands.oversized({"text": "x" * 500, "junk": "y" * 3_500})
    assert commands.oversized({"text": "x" * 500, "junk": "y" * 3_600})
    assert not commands.oversized({"text": "🎉" * 500})  # characters, not bytes: a chat line of emoji passes
    assert commands.oversized({"kind": "move", "payload": {"item_id": 1, "index": 0, "junk": "J" * 900_000}})


def test_data_json_cannot_write_back_is_oversized():
    nested = []
    for _ in range(100_000):
        nested = [nested]
    assert commands.oversized(nested)
    assert commands.oversized({"rev": 10**5000})  # past Python's 4300-digit limit for int -> str


@pytest.mark.parametrize("data, expected", [
    ({"drift_ms": 12.6, "rtt_ms": 40}, (13, 40)),
    ({"drift_ms": -86_400_000, "rtt_ms": 0}, (-86_400_000, 0)),
    ({"drift_ms": 0, "rtt_ms": 60_000}, (0, 60_000)),
    ({"drift_ms": 0, "rtt_ms": 1e9}, (0, 60_000)),  # taken as a minute
])
def test_a_report_is_rounded_and_its_rtt_held_to_a_minute(data, expected):
    assert commands.parse_report(data) == expected


@pytest.mark.parametrize("data", [
    {"drift_ms": math.nan, "rtt_ms": 0}, {"drift_ms": 0, "rtt_ms": math.inf}, {"drift_ms": -math.inf, "rtt_ms": 0},
    {"drift_ms": 1e308, "rtt_ms": 0}, {"drift_ms": 10**400, "rtt_ms": 0}, {"drift_ms": 0, "rtt_ms": -1},
    {"drift_ms": True, "rtt_ms": 0}, {"drift_ms": "0", "rtt_ms": 0}, {"drift_ms": 0}, None, [1, 2],
])
def test_a_report_that_is_not_two_finite_numbers_in_range_is_refused(data):
    with pytest.raises(Rejected, match="report needs drift_ms") as refused:
        commands.parse_report(data)
    assert refused.value.code == "invalid"


def test_time_ping_takes_a_finite_client_ms_and_echoes_it_unchanged():
    assert commands.parse_time_ping({"client_ms": 1_700_000_000_123.25}) == 1_700_000_000_123.25
    for bad in (math.nan, math.inf, 2**60, "1", None, True):
        with pytest.raises(Rejected, match="time_ping needs client_ms"):
            commands.parse_time_ping({"client_ms": bad})


# --- the play lead-in ---

def test_one_members_60_s_rtt_delays_a_play_by_2_s_not_60():
    party = make("g1")
    send(party, "u1", "play", T0, rtt=60_000, rev=0)
    assert party.anchor_server_ms - T0 == state.MAX_LEAD_MS == 2_000


# --- guests' requests ---

def test_a_guest_has_at_most_3_requests_waiting():
    party = make("g1", "g2")
    for i in range(queue.MAX_PENDING_PER_MEMBER):
        assert request(party, "g1", T0 + i).rejected is None
    refused = request(party, "g1", T0 + 10)
    assert refused.code == "rate_limited" and "3 requests waiting" in refused.rejected
    assert request(party, "g2", T0 + 10).rejected is None  # per guest
    send(party, "u1", "decide", T0 + 20, request_id=pending(party)[0].id, approve=False)
    assert request(party, "g1", T0 + 30).rejected is None  # one was decided: room for one more


def test_a_party_has_at_most_20_requests_waiting():
    guests = [f"g{i}" for i in range(1, 9)]
    party = make(*guests)
    for i in range(queue.MAX_PENDING):
        assert request(party, guests[i // 3], T0 + i).rejected is None
    assert len(pending(party)) == 20
    refused = request(party, "g8", T0 + 100)
    assert refused.code == "rate_limited" and "20 requests are waiting" in refused.rejected


def test_a_request_undecided_for_5_min_expires_and_the_room_is_told():
    party = make("g1")
    request(party, "g1", T0)
    request_id = pending(party)[0].id
    seen = {"u1": T0 + 299_000, "g1": T0 + 299_000}  # both still there
    assert state.tick(party, T0 + queue.REQUEST_TTL_MS - 1, seen).emits == []
    outcome = state.tick(party, T0 + queue.REQUEST_TTL_MS, seen)
    updates = [body for name, body in outcome.emits if name == "request_update"]
    assert [(u["request_id"], u["status"], u["reason"]) for u in updates] == [
        (request_id, "expired", "not decided within 5 min")]
    assert ("queue", queue.view(party)) in outcome.emits and queue.view(party)["requests"] == []
    assert send(party, "u1", "decide", T0 + 300_001, request_id=request_id, approve=True).code == "invalid"
    assert state.tick(party, T0 + 300_250, {"u1": T0 + 300_000, "g1": T0 + 300_000}).emits == []  # once


# --- members, and the whole state ---

def test_the_party_takes_at_most_1000_members():
    party = make()
    for i in range(2, state.MAX_MEMBERS + 1):
        state.join(party, f"g{i}", "Guest", T0)
    assert len(party.members) == state.MAX_MEMBERS
    with pytest.raises(Rejected, match="the party is full: at most 1000 members"):
        state.join(party, "g5000", "Late", T0)
    state.join(party, "g2", "Back again", T0)  # a member coming back is no new member


def largest_party(members: int):
    """A party at every bound (model.MAX_STATE_CHARS lists them): `members` members with 40-emoji
    names, each at its chat, reaction and request rate limits; a full queue of 200-emoji titles; as many
    requests as are kept; every remembered event id 64 characters long."""
    party = state.new_party(2**31 - 1, "x" * 10, "u1", "😀" * 40, QueueItem(0, 1, "😀" * 200, 2**31 - 1), T0)
    for i in range(2, members + 1):
        party.members[f"g{2**31 - i}"] = Member(f"g{2**31 - i}", "😀" * access.MAX_NAME_CHARS, joined_ms=T0)
    for member_id in party.members:
        for kind, (count, _window) in queue.RATE_LIMITS.items():
            party.rate_log[f"{member_id}:{kind}"] = [T0 + 10**9] * count
    title = "😀" * access.MAX_TITLE_CHARS
    party.queue = [QueueItem(2**31 - i, 2**31 - i, title, 2**31 - 1) for i in range(queue.MAX_QUEUE)]
    payload = {"media_file_id": 2**31 - 1, "title": title, "duration_ms": 2**31 - 1}
    for i in range(queue.MAX_PENDING + queue.DECIDED_KEPT):
        party.requests[2**31 - i] = Request(2**31 - i, f"g{2**31 - 2}", "add", dict(payload),
                                            "pending" if i < queue.MAX_PENDING else "failed", T0,
                                            "x" * 200 if i >= queue.MAX_PENDING else None)
    party.recent_event_ids = ["e" * commands.MAX_EVENT_ID_CHARS] * state.RECENT_EVENTS
    return party


def test_the_largest_possible_state_fits_the_bound_at_1000_members():
    sizes = {n: len(json.dumps(largest_party(n).to_dict())) for n in (500, state.MAX_MEMBERS)}
    print(f"largest state: {sizes[500]:,} characters at 500 members, {sizes[1000]:,} at 1000 "
          f"(bound {MAX_STATE_CHARS:,})")
    assert sizes[state.MAX_MEMBERS] <= MAX_STATE_CHARS
    view = json.dumps(state.view(largest_party(500), T0))  # what every `state` pushes to every member
    assert len(view) < 300_000

"""The party core's time-driven rules: title changes and auto-advance, host handoff, presence, and the
JSON round trip of a whole party (pure, times in ms)."""
import json

from mediaserver.party import state
from mediaserver.party.model import (
    COHOST, GUEST, HOST, OFFLINE, PAUSED, PLAYING, READY, WAITING, Party, PartyTimings, QueueItem,
)
from tests.unit.party_builders import DUR, SETTLED, T0, apply_event, make, playing, send, waiting

# --- titles ---

def queued(*guests, at=0):
    party = playing(*guests, at=at)
    party.queue.append(QueueItem(party.take_id(), 2, "Two", 300_000))
    return party


def test_skip_loads_the_next_title_and_waits_for_every_online_member():
    party = queued("g1", "g2", "g3", at=30_000)
    state.leave(party, "g3", T0)
    rev, now = party.rev, SETTLED
    out = send(party, "u1", "skip", now)
    assert out.changed and ("queue", {"items": [], "requests": [], "mode": "once"}) in out.emits
    assert (party.media_file_id, party.title, party.duration_ms) == (2, "Two", 300_000)
    assert (party.state, party.position_ms, party.rev, party.queue) == (WAITING, 0, rev + 1, [])
    assert sorted(party.barrier.member_ids) == ["g1", "g2", "u1"]
    assert (party.barrier.deadline_ms, party.barrier.reason) == (now + 30_000, "load")
    for mid in ("u1", "g1"):
        send(party, mid, "ready", now + 1_000)
    assert party.state == WAITING
    send(party, "g2", "ready", now + 2_000)
    assert (party.state, party.position_ms, party.rev) == (PLAYING, 0, rev + 2)
    assert party.anchor_server_ms > now + 2_000


def test_skip_needs_control_and_a_queue():
    party = queued("g1")
    assert send(party, "g1", "skip", SETTLED).code == "forbidden"
    party.queue.clear()
    assert send(party, "u1", "skip", SETTLED).code == "invalid"
    assert party.media_file_id == 1


def test_the_end_of_the_title_advances_to_the_queue():
    party = queued("g1")
    end = T0 + 300 + DUR
    state.tick(party, end - 1, {})
    assert party.media_file_id == 1
    out = state.tick(party, end, {})
    assert out.changed and any(name == "queue" for name, _ in out.emits)
    assert (party.media_file_id, party.state, party.position_ms) == (2, WAITING, 0)
    assert party.barrier.deadline_ms == end + 30_000
    state.tick(party, end + 29_999, {})
    assert party.state == WAITING
    state.tick(party, end + 30_000, {})  # nobody reported ready: the room plays on anyway
    assert (party.state, party.position_ms) == (PLAYING, 0)


def test_the_end_of_the_title_with_an_empty_queue_pauses_at_the_end():
    party = playing("g1")
    rev, end = party.rev, T0 + 300 + DUR
    assert state.tick(party, end + 500, {}).changed
    assert (party.state, party.position_ms, party.rev) == (PAUSED, DUR, rev + 1)


# --- presence and the host role ---

def present(*guests):
    """Host u1 joined at T0; guests join 1 s apart in the given order; the host leaves at T0 + 10 s."""
    party = make()
    for i, mid in enumerate(guests, 1):
        state.join(party, mid, mid.upper(), T0 + i * 1_000)
    state.leave(party, "u1", T0 + 10_000)
    return party


def test_an_absent_host_keeps_the_role_for_30_s_then_the_oldest_cohost_gets_it():
    party = present("g1", "c1", "c2")
    for cohost in ("c2", "c1"):
        party.members[cohost].role = COHOST
    assert not state.tick(party, T0 + 39_999, {}).changed and party.host_id == "u1"
    out = state.tick(party, T0 + 40_000, {})
    assert out.changed and party.host_id == "c1"
    assert (party.members["c1"].role, party.members["u1"].role, party.members["g1"].role) == (HOST, COHOST, GUEST)
    (name, body), = out.emits
    assert name == "chat" and body["system"] and body["text"] == "C1 is now the host"
    assert body["server_ms"] == T0 + 40_000


def test_without_a_cohost_the_longest_present_online_member_gets_the_host_role():
    party = present("g1", "g2", "g3")
    state.leave(party, "g1", T0 + 10_000)
    state.tick(party, T0 + 40_000, {})
    assert party.host_id == "g2" and party.members["u1"].role == COHOST


def test_a_host_back_within_the_grace_keeps_the_role():
    party = present("g1")
    state.join(party, "u1", "Host", T0 + 39_000)
    state.tick(party, T0 + 100_000, {})
    assert party.host_id == "u1" and party.members["u1"].role == HOST


def test_members_unheard_of_for_15_s_go_offline():
    party = make("g1", "g2")
    seen = {"u1": T0 + 20_000, "g1": T0 + 5_000, "g2": T0 + 4_999}
    assert state.tick(party, T0 + 20_000, seen).changed
    assert [party.members[m].status for m in ("u1", "g1", "g2")] == [READY, READY, OFFLINE]
    assert party.members["g2"].away_since_ms == T0 + 20_000


def test_a_presence_timeout_releasing_the_room_anchors_above_the_rtt():
    party = waiting()
    now = SETTLED + 9_000  # before the barrier's deadline; g1, the one waited for, unheard of for 16 s
    state.tick(party, now, {"g1": now - 16_000}, max_rtt_ms=1_000)
    assert party.state == PLAYING and party.anchor_server_ms == now + state.lead_ms(1_000)


# --- persistence ---

def test_a_party_round_trips_through_json():
    party = waiting()  # a buffering barrier
    party.queue.append(QueueItem(party.take_id(), 2, "Two", None))
    send(party, "g2", "request", SETTLED, kind="add", payload={"media_file_id": 3, "title": "Three"})
    send(party, "u1", "chat", SETTLED, text="hello")
    send(party, "u1", "seek", SETTLED, rev=party.rev, position_ms=9_000, event_id="e-9")
    state.join(party, "g3", "G3", SETTLED)
    state.leave(party, "g3", SETTLED + 1)
    assert party.barrier and party.requests and party.rate_log and party.recent_event_ids and party.queue
    copy = Party.from_dict(json.loads(json.dumps(party.to_dict())))
    assert copy == party and copy.to_dict() == party.to_dict()
    assert isinstance(next(iter(copy.requests)), int) and copy.barrier.member_ids == ["g1"]



def test_to_dict_shares_nothing_mutable_with_the_party():
    party = waiting()  # a buffering barrier
    send(party, "g2", "request", SETTLED, kind="add", payload={"media_file_id": 3, "title": "Three"})
    send(party, "u1", "seek", SETTLED, rev=party.rev, position_ms=9_000, event_id="e-9")
    before = json.dumps(party.to_dict(), sort_keys=True)
    data = party.to_dict()
    data["members"]["g1"]["status"] = "offline"
    data["barrier"]["member_ids"].append("g9")
    next(iter(data["requests"].values()))["payload"]["title"] = "changed"
    data["recent_event_ids"].append("e-10")
    for times in data["rate_log"].values():
        times.append(0)
    assert json.dumps(party.to_dict(), sort_keys=True) == before


def test_configured_timers_move_the_rules_with_them():
    """The waits, the host's grace and presence as configured (PartyTimings), not issue 5's values."""
    timings = PartyTimings(rebuffer_wait_ms=3_000, first_load_wait_ms=5_000, host_grace_ms=2_000,
                           presence_timeout_ms=4_000)
    party = present("g1", "g2")
    assert not state.tick(party, T0 + 11_999, {}, timings=timings).changed and party.host_id == "u1"
    assert state.tick(party, T0 + 12_000, {}, timings=timings).changed and party.host_id == "g1"
    seen = {"g1": T0 + 12_000, "g2": T0 + 8_000}
    state.tick(party, T0 + 12_001, seen, timings=timings)  # g2 silent for 4 s and 1 ms: offline
    assert party.members["g2"].status == OFFLINE and party.members["g1"].status != OFFLINE
    stalled = playing("g1", "g2")
    send(stalled, "g1", "buffering", SETTLED)  # through the default timers: the room waits 10 s
    assert stalled.barrier.deadline_ms == SETTLED + 10_000
    loading = playing("g1")
    state.load_title(loading, QueueItem(5, 2, "Two", DUR), SETTLED, timings)
    assert loading.barrier.deadline_ms == SETTLED + 5_000
    again = playing("g1", "g2")
    assert apply_event(again, "g1", "buffering", {}, SETTLED, timings=timings).changed
    assert again.barrier.deadline_ms == SETTLED + 3_000

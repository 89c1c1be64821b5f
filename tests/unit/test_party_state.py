"""The watch party's timeline state machine: commands in every state (pure, times in ms).

Timers (title changes, host handoff, presence) are in test_party_timers.py."""
import pytest

from mediaserver.party import state
from mediaserver.party.model import (
    BUFFERING,
    COHOST,
    GUEST,
    HOST,
    LOADING,
    OFFLINE,
    PAUSED,
    PLAYING,
    WAITING,
)
from tests.unit.party_builders import DUR, SETTLED, T0, apply_event, in_state, make, playing, send, snapshot, waiting

# --- play, pause, seek in every state ---

@pytest.mark.parametrize("room", ["paused", "waiting"])
def test_play_starts_from_the_held_position_anchored_ahead(room):
    party = in_state(room)
    held, rev, now = party.position_ms, party.rev, SETTLED + 1_000
    out = send(party, "u1", "play", now, rev=rev)
    assert out.changed and out.rejected is None
    assert (party.state, party.position_ms, party.rev, party.barrier) == (PLAYING, held, rev + 1, None)
    assert party.anchor_server_ms == now + state.lead_ms(0)


def test_play_while_playing_changes_nothing():
    party = playing("g1")
    before = snapshot(party)
    out = send(party, "u1", "play", SETTLED, rev=party.rev)
    assert not out.changed and out.rejected is None and snapshot(party) == before


@pytest.mark.parametrize("room", ["paused", "playing", "waiting"])
def test_pause_holds_the_room_at_its_position(room):
    party = in_state(room)
    now = SETTLED + 1_000
    room_pos, rev = state.position_at(party, now), party.rev
    assert send(party, "u1", "pause", now, rev=rev, position_ms=room_pos).changed
    assert (party.state, party.position_ms, party.rev, party.barrier) == (PAUSED, room_pos, rev + 1, None)
    assert state.position_at(party, now + 60_000) == room_pos


@pytest.mark.parametrize("room, after, anchor_lead", [("paused", PAUSED, 0), ("playing", PLAYING, 300),
                                                      ("waiting", WAITING, 0)])
def test_seek_moves_the_position_and_keeps_the_state(room, after, anchor_lead):
    party = in_state(room)
    barrier, rev, now = party.barrier, party.rev, SETTLED + 1_000
    assert send(party, "u1", "seek", now, rev=rev, position_ms=120_000).changed
    assert (party.state, party.position_ms, party.rev) == (after, 120_000, rev + 1)
    assert party.anchor_server_ms == now + anchor_lead
    assert party.barrier == barrier  # a waiting room still waits for its stalled member
    assert party.settle_until_ms == party.anchor_server_ms + state.SETTLE_MS
    send(party, "u1", "seek", now, rev=rev + 1, position_ms=DUR + 5_000)
    assert party.position_ms == DUR  # clamped to the duration


# --- revisions, repeats, invalid data ---

@pytest.mark.parametrize("event", ["play", "pause", "seek"])
@pytest.mark.parametrize("room", ["paused", "playing", "waiting"])
def test_a_stale_rev_is_rejected_and_changes_nothing(event, room):
    party = in_state(room)
    before = snapshot(party)
    out = send(party, "u1", event, SETTLED, rev=party.rev - 1, position_ms=1_000)
    assert out.code == "stale" and out.rejected and not out.changed
    assert snapshot(party) == before


def test_a_repeated_event_id_is_ignored():
    party = playing("g1")
    assert send(party, "u1", "pause", SETTLED, rev=party.rev, position_ms=4_700, event_id="e-1").changed
    before = snapshot(party)
    out = send(party, "u1", "seek", SETTLED + 1, rev=party.rev, position_ms=9_000, event_id="e-1")
    assert out.ignored and not out.changed and out.rejected is None
    assert snapshot(party) == before


@pytest.mark.parametrize("data", [
    {"rev": "1"}, {"rev": None}, {"rev": True}, {"rev": 1.0}, {},
    {"rev": 1, "position_ms": "5"}, {"rev": 1, "position_ms": 1.5}, {"rev": 1, "position_ms": None},
    {"rev": 1, "position_ms": -1}, {"rev": 1, "position_ms": 0, "event_id": 5},
])
@pytest.mark.parametrize("event", ["pause", "seek"])
def test_invalid_timeline_data_is_rejected(event, data):
    party = playing("g1")
    assert party.rev == 1
    before = snapshot(party)
    out = apply_event(party, "u1", event, data, SETTLED)
    assert out.code == "invalid" and out.rejected and not out.changed
    assert snapshot(party) == before


@pytest.mark.parametrize("data", [None, [], "play", 3])
@pytest.mark.parametrize("event", ["play", "pause", "seek", "chat", "set_role"])
def test_non_object_data_is_rejected(event, data):
    party = make("g1")
    before = snapshot(party)
    out = apply_event(party, "u1", event, data, T0)
    assert out.code == "invalid" and snapshot(party) == before


# --- control ---

@pytest.mark.parametrize("event", ["play", "pause", "seek"])
def test_host_mode_forbids_guests_and_allows_cohosts_everyone_mode_allows_guests(event):
    party = make("g1", "c1")
    send(party, "u1", "set_role", T0, member_id="c1", role=COHOST)
    before = snapshot(party)
    out = send(party, "g1", event, T0, rev=party.rev, position_ms=1_000)
    assert out.code == "forbidden" and "host" in out.rejected and snapshot(party) == before
    rev = party.rev
    assert send(party, "c1", event, T0, rev=rev, position_ms=1_000).changed and party.rev == rev + 1
    send(party, "u1", "set_control", T0, mode="everyone")
    send(party, "u1", "pause", T0, rev=party.rev, position_ms=0)  # paused again: a play changes something
    rev = party.rev
    assert send(party, "g1", event, T0, rev=rev, position_ms=1_000).changed and party.rev == rev + 1


def test_only_the_host_sets_a_valid_control_mode():
    party = make("g1", "c1")
    send(party, "u1", "set_role", T0, member_id="c1", role=COHOST)
    for who in ("g1", "c1"):
        assert send(party, who, "set_control", T0, mode="everyone").code == "forbidden"
    for mode in ("all", None, ["host"]):
        assert send(party, "u1", "set_control", T0, mode=mode).code == "invalid"
    assert party.control_mode == "host"
    assert send(party, "u1", "set_control", T0, mode="everyone").changed and party.control_mode == "everyone"
    assert not send(party, "u1", "set_control", T0, mode="everyone").changed


def test_set_role_promotes_and_demotes():
    party = make("g1")
    assert send(party, "u1", "set_role", T0, member_id="g1", role=COHOST).changed
    assert party.members["g1"].role == COHOST
    assert send(party, "g1", "set_role", T0, member_id="g1", role=HOST).code == "forbidden"  # only the host
    assert send(party, "u1", "set_role", T0, member_id="g1", role=GUEST).changed
    assert party.members["g1"].role == GUEST and party.host_id == "u1"


def test_set_role_hands_the_host_role_over():
    party = make("g1")
    out = send(party, "u1", "set_role", T0, member_id="g1", role=HOST)
    assert out.changed and party.host_id == "g1"
    assert (party.members["g1"].role, party.members["u1"].role) == (HOST, COHOST)
    (name, body), = out.emits
    assert name == "chat" and body["system"] is True and body["text"] == "G1 is now the host"
    assert send(party, "u1", "set_control", T0, mode="everyone").code == "forbidden"


@pytest.mark.parametrize("data", [{"member_id": "nobody", "role": COHOST}, {"member_id": "g1", "role": "admin"},
                                  {"member_id": "u1", "role": GUEST}, {"member_id": ["g1"], "role": COHOST}])
def test_set_role_rejects_invalid_targets_and_roles(data):
    party = make("g1")
    before = snapshot(party)
    out = apply_event(party, "u1", "set_role", data, T0)
    assert out.code == "invalid" and snapshot(party) == before


def test_the_host_handover_announcement_carries_the_server_time():
    party = make("g1")
    (_, body), = send(party, "u1", "set_role", T0 + 42, member_id="g1", role=HOST).emits
    assert body["server_ms"] == T0 + 42


# --- the timeline's arithmetic ---

@pytest.mark.parametrize("rtt", [0, 50, 199, 200, 201, 450, 1_899])
def test_play_is_anchored_a_lead_of_at_least_300_ms_above_the_largest_rtt_ahead(rtt):
    assert state.lead_ms(rtt) >= state.MIN_LEAD_MS == 300 and state.lead_ms(rtt) > rtt
    party = make("g1")
    send(party, "u1", "play", T0, rtt=rtt, rev=0)
    assert party.anchor_server_ms == T0 + state.lead_ms(rtt)


@pytest.mark.parametrize("rtt", [1_900, 3_000, 60_000])
def test_the_lead_is_at_most_2_s_whatever_rtt_a_member_reports(rtt):
    party = make("g1")
    send(party, "u1", "play", T0, rtt=rtt, rev=0)
    assert party.anchor_server_ms == T0 + state.MAX_LEAD_MS == T0 + 2_000  # g1 catches up alone


def test_position_at_holds_before_the_anchor_and_advances_after():
    party = playing(at=10_000)  # anchor T0 + 300
    assert state.position_at(party, T0) == state.position_at(party, T0 + 300) == 10_000
    assert state.position_at(party, T0 + 1_300) == 11_000
    assert state.position_at(party, T0 + 300 + DUR) == DUR  # clamped to the duration
    party.rate = 2.0
    assert state.position_at(party, T0 + 1_300) == 12_000
    send(party, "u1", "pause", T0 + 1_300, rev=party.rev, position_ms=12_000)
    assert state.position_at(party, T0 + 100_000) == 12_000  # paused: does not move
    assert state.position_at(waiting(), SETTLED + 100_000) == 4_700


@pytest.mark.parametrize("offset, kept", [(0, True), (2_000, True), (-2_000, True), (2_001, False), (-2_001, False)])
def test_pause_keeps_the_pausers_position_only_within_the_tolerance(offset, kept):
    party = playing()
    room = state.position_at(party, SETTLED)  # 4 700
    send(party, "u1", "pause", SETTLED, rev=party.rev, position_ms=room + offset)
    assert party.position_ms == (room + offset if kept else room)


# --- buffering and the barrier ---

def test_a_ready_member_stalling_while_playing_holds_the_room_10_s():
    party = playing("g1", "g2")
    rev = party.rev
    assert send(party, "g1", "buffering", SETTLED).changed
    assert (party.state, party.position_ms, party.rev) == (WAITING, 4_700, rev + 1)
    assert (party.barrier.member_ids, party.barrier.deadline_ms, party.barrier.reason) == (
        ["g1"], SETTLED + 10_000, "buffering")
    assert party.members["g1"].status == BUFFERING


@pytest.mark.parametrize("seek", [False, True])
def test_a_stall_in_the_settle_window_does_not_hold_the_room(seek):
    party = playing("g1")
    if seek:
        send(party, "u1", "seek", SETTLED, rev=party.rev, position_ms=60_000)  # anchor +300, settled +2 300
        send(party, "g1", "ready", SETTLED + 400)
    now = party.settle_until_ms - 1
    rev = party.rev
    send(party, "g1", "buffering", now)
    assert (party.state, party.rev, party.barrier) == (PLAYING, rev, None)


def test_a_loading_member_never_holds_the_room():
    party = playing("g1")
    state.join(party, "g2", "G2", SETTLED)
    assert party.members["g2"].status == LOADING
    send(party, "g2", "buffering", SETTLED + 1_000)
    assert (party.state, party.barrier) == (PLAYING, None)


def test_the_last_barrier_member_ready_resumes_with_a_future_anchor():
    party = waiting()
    send(party, "g2", "buffering", SETTLED + 500)  # stalls too: joins the wait
    assert party.barrier.member_ids == ["g1", "g2"]
    send(party, "g1", "ready", SETTLED + 1_000)
    assert party.state == WAITING
    rev, now = party.rev, SETTLED + 2_000
    assert send(party, "g2", "ready", now, rtt=500).changed
    assert (party.state, party.position_ms, party.rev, party.barrier) == (PLAYING, 4_700, rev + 1, None)
    assert party.anchor_server_ms == now + state.lead_ms(500) > now


def test_the_barrier_deadline_releases_the_room_after_10_s():
    party = waiting()
    rev = party.rev
    state.tick(party, SETTLED + 9_999, {})
    assert party.state == WAITING
    assert state.tick(party, SETTLED + 10_000, {}).changed
    assert (party.state, party.position_ms, party.rev, party.barrier) == (PLAYING, 4_700, rev + 1, None)
    assert party.anchor_server_ms > SETTLED + 10_000
    assert party.members["g1"].status == BUFFERING  # catches up alone


def test_a_member_leaving_releases_the_room_waiting_for_it():
    party = waiting()
    assert state.leave(party, "g1", SETTLED + 1_000).changed
    assert (party.state, party.barrier, party.members["g1"].status) == (PLAYING, None, OFFLINE)
    assert send(party, "g1", "ready", SETTLED + 2_000).code == "forbidden"  # offline: join first


def test_a_late_joiner_does_not_touch_the_timeline():
    party = playing("g1")
    timeline = (party.state, party.rev, party.position_ms, party.anchor_server_ms)
    assert state.join(party, "g9", "Late", SETTLED).changed
    assert (party.state, party.rev, party.position_ms, party.anchor_server_ms) == timeline
    assert party.members["g9"].status == LOADING

"""The playback session's state machine (playsession/state.py) and its parsing (playsession/commands.py),
with an injected clock: times are integer ms, T0 an arbitrary server time."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediaserver.playsession import commands, state
from mediaserver.playsession.commands import Command
from mediaserver.playsession.state import PAUSED, PLAYING, STOPPED
from mediaserver.timeline import Rejected

T0 = 1_700_000_000_000
LEAD = state.START_LEAD_MS


def session_with(durations=(60_000, 90_000, 30_000), devices=("A", "B")) -> state.PlaySession:
    """A session of tracks 11, 12, 13 (the given durations, ms), paused at track 0, position 0, devices
    online, the first one active."""
    s = state.PlaySession(user_id=1)
    for device in devices:
        state.register(s, device, f"device {device}", T0)
    if durations:
        apply(s, "A", "set_queue", track_ids=tuple(range(11, 11 + len(durations))), durations_ms=tuple(durations))
    return s


def apply(s, device, action, at=T0, rev=None, **fields):
    """Apply `action` from `device` at `at` with the session's current rev unless given."""
    return state.apply(s, device, Command(action, s.rev if rev is None else rev, **fields), at)


def playing(s, at=T0):
    assert apply(s, "A", "play", at).changed
    return s


def test_a_new_session_is_stopped_and_its_first_device_is_the_active_one():
    s = session_with(durations=())
    view = state.view(s, T0)
    assert (view["state"], view["index"], view["queue"], view["rev"], view["active_device_id"]) == (
        STOPPED, None, [], 0, "A")
    assert [(d["id"], d["online"]) for d in view["devices"]] == [("A", True), ("B", True)]
    assert apply(s, "A", "play").rejected == "the queue is empty"


def test_set_queue_starts_paused_at_its_index_and_play_anchors_ahead():
    s = session_with()
    assert (s.state, s.index, s.position_ms, s.rev) == (PAUSED, 0, 0, 1)
    playing(s)
    assert (s.state, s.anchor_server_ms, s.rev) == (PLAYING, T0 + LEAD, 2)
    assert state.position_at(s, T0 + LEAD) == 0 and state.position_at(s, T0 + LEAD + 1_500) == 1_500
    assert not apply(s, "A", "play").changed  # already playing: nothing, no rev


def test_a_stale_rev_is_rejected_and_a_repeated_event_id_is_ignored():
    s = session_with()
    out = apply(s, "B", "pause", rev=0)
    assert (out.rejected, out.code) == ("stale revision 0: the session is at revision 1", "stale")
    assert apply(s, "B", "play", event_id="e1").changed and s.rev == 2
    assert apply(s, "B", "pause", event_id="e1").ignored and s.state == PLAYING  # a resend, any rev
    assert apply(s, "B", "pause", rev=0, event_id="e2").code == "stale"
    assert apply(s, "B", "pause", event_id="e2").changed  # a stale command's id is not remembered


def test_pause_keeps_the_active_devices_position_when_close_else_the_projection():
    s = playing(session_with())
    at = T0 + LEAD + 10_000
    apply(s, "A", "pause", at, position_ms=10_400)  # A is active: its player's position
    assert (s.state, s.position_ms, s.anchor_server_ms) == (PAUSED, 10_400, at)
    s = playing(session_with())
    apply(s, "B", "pause", at, position_ms=10_400)  # B is not: the projection
    assert s.position_ms == 10_000
    s = playing(session_with())
    apply(s, "A", "pause", at, position_ms=20_000)  # far off: the projection
    assert s.position_ms == 10_000


def test_seek_clamps_to_the_track_and_re_anchors_a_playing_session():
    s = playing(session_with())
    apply(s, "B", "seek", T0 + 5_000, position_ms=999_999)
    assert (s.position_ms, s.anchor_server_ms, s.state) == (60_000, T0 + 5_000 + LEAD, PLAYING)
    s = session_with()
    apply(s, "B", "seek", T0 + 5_000, position_ms=12_345)
    assert (s.position_ms, s.state) == (12_345, PAUSED)


def test_next_moves_on_and_at_the_last_track_stops_at_its_end():
    s = playing(session_with())
    apply(s, "B", "next", T0 + 1_000)
    assert (s.index, s.position_ms, s.anchor_server_ms, s.state) == (1, 0, T0 + 1_000 + LEAD, PLAYING)
    apply(s, "B", "next", T0 + 2_000)
    apply(s, "B", "next", T0 + 3_000)
    assert (s.index, s.state, s.position_ms) == (2, STOPPED, 30_000)
    assert not apply(s, "B", "next", T0 + 4_000).changed
    apply(s, "B", "play", T0 + 5_000)  # a stopped session plays its track again from the start
    assert (s.state, s.position_ms, s.index) == (PLAYING, 0, 2)


def test_previous_within_3_s_goes_back_a_track_else_restarts_the_current_one():
    s = playing(session_with())
    apply(s, "B", "next", T0)
    start = s.anchor_server_ms
    apply(s, "B", "previous", start + state.PREVIOUS_RESTART_MS + 1)  # 3.001 s in: restart track 1
    assert (s.index, s.position_ms) == (1, 0)
    apply(s, "B", "previous", s.anchor_server_ms + 2_999)  # 2.999 s in: back to track 0
    assert (s.index, s.position_ms, s.state) == (0, 0, PLAYING)
    apply(s, "B", "previous", s.anchor_server_ms + 1_000)  # the first track: restarts it
    assert (s.index, s.position_ms) == (0, 0)


def test_a_playing_session_moves_on_when_its_track_ends_and_stops_after_the_last():
    s = playing(session_with())
    start = T0 + LEAD
    assert state.track_end_ms(s) == start + 60_000
    view_at = start + 60_000 + 90_000 + 500  # past tracks 0 and 1: 0.5 s into track 2
    rev = s.rev
    assert state.settle(s, view_at) and s.rev == rev + 2
    assert (s.index, s.anchor_server_ms, state.position_at(s, view_at)) == (2, start + 150_000, 500)
    assert state.settle(s, view_at + 60_000)
    assert (s.state, s.index, s.position_ms, s.anchor_server_ms) == (STOPPED, 2, 30_000, start + 180_000)
    assert not state.settle(s, view_at + 120_000)


def test_a_command_after_a_track_ended_acts_on_the_next_track_and_needs_the_new_rev():
    s = playing(session_with())
    end = state.track_end_ms(s)
    old = s.rev
    out = apply(s, "B", "pause", end + 1_000, rev=old)
    assert out.code == "stale" and out.changed and s.index == 1  # the settled state goes out
    apply(s, "B", "pause", end + 1_000)
    assert (s.index, s.position_ms, s.state) == (1, 1_000, PAUSED)


def test_set_device_moves_the_sound_and_keeps_the_projected_position():
    s = playing(session_with())
    before = state.position_at(s, T0 + 7_000)
    apply(s, "B", "set_device", T0 + 7_000, device_id="B")
    assert s.active_device_id == "B" and s.state == PLAYING
    assert state.position_at(s, T0 + 7_000) == before and state.position_at(s, T0 + 8_000) == before + 1_000
    assert not apply(s, "A", "set_device", device_id="B").changed
    state.disconnect(s, "A", T0 + 9_000)
    assert apply(s, "B", "set_device", device_id="A").rejected == "no such device online"
    assert apply(s, "B", "set_device", device_id="Z").rejected == "no such device online"


def test_the_active_device_leaving_pauses_where_it_was_and_play_elsewhere_takes_over():
    s = playing(session_with())
    state.disconnect(s, "B", T0 + 1_000)  # not the active one: still playing, same rev
    assert s.state == PLAYING and s.devices["B"].last_seen_ms == T0 + 1_000
    rev = s.rev
    state.register(s, "B", "device B", T0 + 2_000)
    state.disconnect(s, "A", T0 + LEAD + 4_000)
    assert (s.state, s.position_ms, s.rev, s.active_device_id) == (PAUSED, 4_000, rev + 1, "A")
    apply(s, "B", "play", T0 + 10_000)
    assert (s.active_device_id, s.state, s.position_ms) == ("B", PLAYING, 4_000)  # resumed where it stopped
    assert apply(s, "A", "pause").code == "forbidden"  # offline: register first


def test_enqueue_appends_and_an_empty_or_finished_queue_starts_at_the_new_tracks():
    s = session_with(durations=())
    apply(s, "A", "enqueue", track_ids=(5, 6), durations_ms=(1_000, 2_000))
    assert (s.queue, s.index, s.state) == ([5, 6], 0, PAUSED)
    apply(s, "A", "enqueue", track_ids=(7,), durations_ms=(3_000,))
    assert (s.queue, s.index, s.durations_ms) == ([5, 6, 7], 0, [1_000, 2_000, 3_000])
    apply(s, "A", "set_queue", track_ids=(8,), durations_ms=(4_000,))
    apply(s, "A", "next")  # stopped at the end of 8
    apply(s, "A", "enqueue", track_ids=(9,), durations_ms=(None,))
    assert (s.queue, s.index, s.state, s.position_ms) == ([8, 9], 1, PAUSED, 0)


def test_set_queue_replaces_queue_and_index_and_an_empty_one_stops():
    s = playing(session_with())
    apply(s, "B", "set_queue", T0 + 1_000, track_ids=(21, 22), durations_ms=(5_000, 6_000), index=1,
          position_ms=2_000)
    assert (s.queue, s.index, s.position_ms, s.state, s.anchor_server_ms) == (
        [21, 22], 1, 2_000, PLAYING, T0 + 1_000 + LEAD)
    assert apply(s, "B", "set_queue", track_ids=(1,), index=1).code == "invalid"
    apply(s, "B", "set_queue", track_ids=())
    assert (s.queue, s.index, s.state) == ([], None, STOPPED)


def test_the_queue_and_the_devices_are_bounded():
    s = session_with(durations=())
    full = tuple(range(1, state.MAX_QUEUE + 1))
    for start in range(0, state.MAX_QUEUE, commands.MAX_TRACKS_PER_COMMAND):
        assert apply(s, "A", "enqueue", track_ids=full[start:start + commands.MAX_TRACKS_PER_COMMAND]).changed
    out = apply(s, "A", "enqueue", track_ids=(1,))
    assert out.code == "invalid" and len(s.queue) == state.MAX_QUEUE
    for n in range(state.MAX_DEVICES - 2):
        state.register(s, f"d{n}", "x", T0 + n)
    with pytest.raises(Rejected):
        state.register(s, "one-too-many", "x", T0)
    state.disconnect(s, "d3", T0 + 100)
    state.disconnect(s, "d2", T0 + 200)
    state.register(s, "new", "x", T0 + 300)  # replaces the offline device seen longest ago
    assert "d3" not in s.devices and "d2" in s.devices and len(s.devices) == state.MAX_DEVICES
    assert len(json.dumps(s.to_dict())) < 300_000


def test_the_session_round_trips_through_json():
    s = playing(session_with())
    again = state.PlaySession.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and again.devices["A"] is not s.devices["A"]


@pytest.mark.parametrize("data, message", [
    ({"action": "dance", "rev": 0}, "action must be one of"),
    ({"action": "play"}, "rev must be"),
    ({"action": "play", "rev": True}, "rev must be"),
    ({"action": "seek", "rev": 0}, "position_ms must be"),
    ({"action": "seek", "rev": 0, "position_ms": -1}, "position_ms must be"),
    ({"action": "seek", "rev": 0, "position_ms": float("nan")}, "position_ms must be"),
    ({"action": "set_device", "rev": 0, "device_id": "has space"}, "device_id must be"),
    ({"action": "enqueue", "rev": 0, "track_ids": []}, "track_ids must be a list of 1"),
    ({"action": "enqueue", "rev": 0, "track_ids": [1, "2"]}, "track_ids must be"),
    ({"action": "enqueue", "rev": 0, "track_ids": [0]}, "track_ids must be"),
    ({"action": "enqueue", "rev": 0, "track_ids": [2**31]}, "track_ids must be"),
    ({"action": "set_queue", "rev": 0, "track_ids": list(range(1, commands.MAX_TRACKS_PER_COMMAND + 2))},
     "track_ids must be a list of 0"),
    ({"action": "set_queue", "rev": 0, "track_ids": [1], "index": -1}, "index must be"),
    ({"action": "play", "rev": 0, "event_id": "x" * 65}, "event_id must be"),
])
def test_malformed_commands_are_refused_with_a_reason(data, message):
    with pytest.raises(Rejected, match=message) as exc:
        commands.parse_command(data)
    assert exc.value.code == "invalid"


def test_commands_keep_only_their_own_fields():
    assert commands.parse_command({"action": "play", "rev": 3, "event_id": "e", "position_ms": 5, "x": 1}) == \
        Command("play", 3, "e")
    assert commands.parse_command({"action": "pause", "rev": 3}) == Command("pause", 3)
    assert commands.parse_command({"action": "set_queue", "rev": 0, "track_ids": [4, 5], "index": 1}) == \
        Command("set_queue", 0, position_ms=0, track_ids=(4, 5), index=1)
    with pytest.raises(Rejected):
        commands.parse_command("play")


@pytest.mark.parametrize("data", [None, {}, {"device_id": "a"}, {"device_id": "a", "name": "  "},
                                  {"device_id": "a", "name": "n" * 41}, {"device_id": "", "name": "n"},
                                  {"device_id": 5, "name": "n"}])
def test_register_needs_a_device_id_and_a_name(data):
    with pytest.raises(Rejected):
        commands.parse_register(data)


def test_register_trims_the_name():
    assert commands.parse_register({"device_id": "kitchen-1", "name": " Kitchen laptop "}) == (
        "kitchen-1", "Kitchen laptop")


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=12)
_commands = st.fixed_dictionaries(
    {"action": st.sampled_from(commands.ACTIONS) | _json},
    optional={"rev": st.integers(-3, 8) | _json, "event_id": st.sampled_from(["e1", "e2"]) | _json,
              "position_ms": st.integers(-5, 200_000) | _json, "device_id": st.sampled_from(["A", "B", "Z"]) | _json,
              "track_ids": st.lists(st.integers(-1, 20), max_size=5) | _json, "index": st.integers(-1, 5) | _json})


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "Z"]), _commands, st.integers(0, 400_000)), max_size=12))
def test_any_command_data_is_parsed_or_refused_and_the_session_stays_sound(steps):
    s = session_with()
    at = T0
    for device, data, later in steps:
        at += later
        try:
            command = commands.parse_command(data)
        except Rejected as exc:
            assert exc.code == "invalid" and str(exc)
            continue
        out = state.apply(s, device, command, at)
        assert out.rejected is None or (out.code in ("stale", "forbidden", "invalid") and out.rejected)
        view = state.view(s, at)
        assert view["state"] in (STOPPED, PAUSED, PLAYING) and len(s.queue) == len(s.durations_ms)
        assert (view["index"] is None) == (s.queue == []) and (s.index is None or 0 <= s.index < len(s.queue))
        assert 0 <= state.position_at(s, at) and (s.duration_ms is None or state.position_at(s, at) <= s.duration_ms)
        json.dumps(s.to_dict())

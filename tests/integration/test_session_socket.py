"""The `/session` Socket.IO namespace over a real connection (web/session_socket.py, docs/SESSION.md):
a live threaded werkzeug server (the app in threading mode) for the module, python-socketio clients
signed in by their login cookies: two devices of alice's, one of bob's. Every test starts alice's
session afresh (`set_queue`), so the tests do not depend on each other's order."""
import time
from unittest.mock import ANY

import pytest
import requests
import socketio
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.playsession import commands, state
from tests.helpers import NO_RATE_LIMITS, PASSWORD, TEST_REDIS_URL, app_config, csrf_session, serving
from tests.party_peer import now_ms
from tests.session_world import NS, Device, add_tracks, login, play_and_move, position

LEAD = state.START_LEAD_MS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("session_socket")
    Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(app_config(base, **NO_RATE_LIMITS))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
        create_user("bob", PASSWORD)
    app.tracks = add_tracks(app, [60_000, 90_000, 30_000])
    app.short = add_tracks(app, [700, 60_000])  # a track that ends within the test
    with serving(app) as url:
        app.url = url
        yield app
    Redis.from_url(TEST_REDIS_URL).flushdb()


@pytest.fixture
def world(server):
    """alice's devices A (the laptop, active) and B (the phone), both registered, her session on the
    three tracks, paused at the first; bob's device C. Yields (A, B, C)."""
    devices = []

    def device(user: str, name: str) -> Device:
        devices.append(Device(server.url, login(server.url, user), name))
        return devices[-1]

    a, b, c = device("alice", "Laptop"), device("alice", "Phone"), device("bob", "Bob's")
    for action, fields in (("set_device", {"device_id": a.device_id}), ("set_queue", {"track_ids": server.tracks})):
        assert current(a, action, **fields)["ok"]
    b.state(lambda s: s["queue"] == server.tracks and s["state"] == "paused" and s["active_device_id"] == a.device_id)
    yield a, b, c
    for peer in devices:
        if peer.sio.connected:
            peer.close()


def current(device: Device, action: str, **fields) -> dict:
    """`action` at the session's current rev: the last state's, or a stale answer's (the devices of the
    test before may still be leaving, which pauses the session)."""
    rev = device.latest()["rev"]
    for _ in range(5):
        ack = device.command(action, rev, **fields)
        if ack.get("code") != "stale":
            return ack
        rev = ack["rev"]
    raise AssertionError(ack)


def test_a_connection_needs_a_login_and_a_party_token_is_none(server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        socketio.Client().connect(server.url, namespaces=[NS], transports=["websocket"])
    host = login(server.url, "alice")
    party = host.post(server.url + "/api/parties", json={"media_file_id": _media_file_of(server, server.tracks[0])})
    assert party.status_code == 201, party.text
    code = party.json()["code"]
    guest = csrf_session().post(f"{server.url}/api/parties/{code}/join", json={"name": "Sam"}).json()["token"]
    with pytest.raises(socketio.exceptions.ConnectionError):
        socketio.Client().connect(server.url, namespaces=[NS], transports=["websocket"], headers={
            "Authorization": f"Bearer {guest}", "Cookie": f"party_{code}={guest}"})


def _media_file_of(server, track_id: int) -> int:
    from mediaserver.db import get_db
    from mediaserver.models import Track

    with server.app_context():
        return get_db().get(Track, track_id).media_file_id


def test_a_pause_from_the_phone_reaches_the_laptop_within_300_ms(world, server):
    a, b, _ = world
    rev = a.latest()["rev"]
    mark = a.mark()
    rev = b.command("play", rev)["rev"]
    playing = a.state(lambda s: s["state"] == "playing", mark)
    assert playing["anchor_server_ms"] - playing["server_ms"] == LEAD and playing["active_device_id"] == a.device_id
    time.sleep(0.5)
    mark = a.mark()
    sent = now_ms()
    ack = b.command("pause", rev)
    paused, received = a.wait("session_state", lambda s: s["state"] == "paused", mark)
    assert ack == {"ok": True, "rev": rev + 1} and paused["rev"] == rev + 1
    assert received - sent < 300, received - sent
    assert abs(paused["position_ms"] - (paused["server_ms"] - playing["anchor_server_ms"])) <= 50


def test_every_device_gets_the_same_state_with_the_devices(world):
    a, b, _ = world
    mark_a, mark_b = a.mark(), b.mark()
    b.command("seek", a.latest()["rev"], position_ms=12_345)
    seen = [d.state(lambda s: s["position_ms"] == 12_345, m) for d, m in ((a, mark_a), (b, mark_b))]
    assert seen[0]["rev"] == seen[1]["rev"] and seen[0]["queue"] == seen[1]["queue"]
    devices = {d["id"]: (d["name"], d["online"]) for d in seen[0]["devices"]}
    assert (devices[a.device_id], devices[b.device_id]) == (("Laptop", True), ("Phone", True))
    assert seen[0]["devices"][:2] == [{"id": a.device_id, "name": "Laptop", "online": True, "last_seen_ms": ANY},
                                      {"id": b.device_id, "name": "Phone", "online": True, "last_seen_ms": ANY}]
    assert set(seen[0]) >= {"rev", "state", "position_ms", "anchor_server_ms", "index", "queue",
                            "active_device_id", "devices"}


def test_a_stale_rev_is_rejected_with_the_state_and_a_repeated_event_id_is_ignored(world):
    a, b, _ = world
    rev = a.latest()["rev"]
    mark = b.mark()
    ack = b.command("play", rev - 1, event_id="stale-1")
    rejected = b.wait("rejected", since=mark)[0]
    assert (ack["ok"], ack["code"], ack["rev"]) == (False, "stale", rev)
    assert (rejected["code"], rejected["event_id"], rejected["state"]["rev"]) == ("stale", "stale-1", rev)
    assert b.command("play", rev, event_id="once") == {"ok": True, "rev": rev + 1}
    mark = a.mark()
    assert b.command("pause", rev + 1, event_id="once") == {"ok": True, "rev": rev + 1}  # a resend
    a.none("session_state", since=mark, within=0.3)
    assert a.latest()["state"] == "playing"


def test_set_device_moves_the_sound_and_keeps_the_position(world):
    a, b, _ = world
    playing, moved = play_and_move(a, a, b, a.latest()["rev"])
    rev = playing["rev"]
    now = now_ms()
    assert moved["state"] == "playing" and moved["rev"] == rev + 1
    assert abs(position(moved, now) - position(playing, now)) <= 100
    assert abs(position(moved, now) - (now - playing["anchor_server_ms"])) <= 100
    ack = a.command("set_device", rev + 1, device_id="no-such-device")
    assert (ack["ok"], ack["code"], ack["message"]) == (False, "invalid", "no such device online")


def test_another_user_sees_nothing_of_it(world, server):
    a, b, c = world
    mark = c.mark()
    a.command("play", a.latest()["rev"])
    b.state(lambda s: s["state"] == "playing")
    c.none("session_state", since=mark, within=0.3)
    bobs = requests.get(server.url + "/api/session", cookies=c.http.cookies).json()
    assert bobs["queue"] == [] and [d["name"] for d in bobs["devices"] if d["online"]] == ["Bob's"]
    assert c.command("pause", bobs["rev"])["ok"]  # bob's own session, which is stopped: nothing changes
    ack = c.command("set_device", bobs["rev"], device_id=a.device_id)
    assert ack["message"] == "no such device online"  # alice's devices are not bob's


def test_unknown_track_ids_are_refused_and_the_queue_keeps_its_tracks(world, server):
    a, _, _ = world
    rev = a.latest()["rev"]
    mark = a.mark()
    ack = a.command("enqueue", rev, track_ids=[server.tracks[0], 999_999, 2**31 - 1])
    assert (ack["ok"], ack["code"]) == (False, "invalid") and ack["message"] == "no such track: 999999, 2147483647"
    assert a.wait("rejected", since=mark)[0]["state"]["queue"] == server.tracks
    assert a.command("enqueue", rev, track_ids=[2**31])["message"].startswith("track_ids must be")
    ack = a.command("enqueue", rev, track_ids=[server.tracks[1]])
    assert ack["ok"] and a.state(lambda s: s["rev"] == ack["rev"], mark)["queue"] == server.tracks + [server.tracks[1]]


def test_a_track_that_ends_moves_every_device_to_the_next(world, server):
    a, b, _ = world
    rev = a.command("set_queue", a.latest()["rev"], track_ids=server.short)["rev"]
    mark = b.mark()
    a.command("play", rev)
    moved = b.state(lambda s: s["index"] == 1, mark, timeout=3)
    assert moved["state"] == "playing" and moved["position_ms"] == 0 and moved["track_id"] == server.short[1]
    assert moved["anchor_server_ms"] == b.received("session_state", mark)[0]["anchor_server_ms"] + 700


def test_the_active_device_leaving_pauses_and_a_new_login_can_resume(world, server):
    a, b, _ = world
    rev = a.command("play", a.latest()["rev"])["rev"]
    time.sleep(0.5)
    mark = b.mark()
    a.close()
    paused = b.state(lambda s: s["state"] == "paused", mark)
    assert paused["rev"] == rev + 1 and paused["active_device_id"] == a.device_id
    assert [d["online"] for d in paused["devices"] if d["id"] == a.device_id] == [False]
    resume = requests.get(server.url + "/api/session", cookies=login(server.url, "alice").cookies)
    assert resume.status_code == 200 and resume.headers["Cache-Control"] == "no-store"
    assert {k: resume.json()[k] for k in ("state", "position_ms", "queue", "rev")} == {
        "state": "paused", "position_ms": paused["position_ms"], "queue": server.tracks, "rev": rev + 1}
    assert 250 <= paused["position_ms"] <= 1_500  # 0.5 s after a play anchored 0.2 s ahead
    assert requests.get(server.url + "/api/session").status_code == 401
    ack = b.command("play", rev + 1)  # the phone resumes it, and is now the one playing
    assert ack["ok"] and b.state(lambda s: s["rev"] == ack["rev"])["active_device_id"] == b.device_id


def test_a_connection_gets_the_state_and_time_ping_is_answered(world, server):
    fresh = Device(server.url, login(server.url, "alice"))  # connected, not registered
    try:
        assert fresh.state()["queue"] == server.tracks
        refused = fresh.command("play", fresh.latest()["rev"])
        assert refused == {"ok": False, "message": "command: register this device first", "rev": None}
        sent = now_ms()
        fresh.sio.emit("time_ping", {"client_ms": sent}, namespace=NS)
        pong, received = fresh.wait("time_pong")
        assert pong["client_ms"] == sent and sent <= pong["server_ms"] <= received
    finally:
        fresh.close()


def test_bad_data_gets_a_clear_answer_and_the_connection_stays(world):
    a, _, _ = world
    rev = a.latest()["rev"]
    for data, message in [({"action": "seek", "rev": rev, "position_ms": "soon"}, "position_ms must be"),
                          ({"action": "fly", "rev": rev}, "action must be one of"),
                          ("play", "action must be one of"),
                          ({"action": "set_queue", "rev": rev, "track_ids": [1] * 13_000}, "data over"),
                          ({"action": "set_queue", "rev": rev, "track_ids": [1] * 2_001}, "track_ids must be")]:
        ack = a.sio.call("command", data, namespace=NS, timeout=5)
        assert ack["ok"] is False and message in ack["message"], (data if len(str(data)) < 100 else "", ack)
        assert "internal" not in ack["message"]
    for data in (None, {"device_id": "x y", "name": "n"}, {"device_id": "ok", "name": "n" * 41}):
        assert a.sio.call("register", data, namespace=NS, timeout=5)["ok"] is False
    assert len(str(list(range(commands.MAX_TRACKS_PER_COMMAND)))) < commands.MAX_EVENT_CHARS
    assert a.command("pause", rev)["ok"] and a.sio.connected


def test_after_a_log_out_the_connection_can_do_nothing_more(world, server):
    _, b, _ = world
    assert b.http.post(server.url + "/api/auth/logout").status_code in (200, 204)
    ack = b.command("play", b.latest()["rev"])
    assert ack["ok"] is False and "sign in" in ack["message"]
    deadline = time.monotonic() + 3
    while b.sio.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not b.sio.connected

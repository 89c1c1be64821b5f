"""One user's playback session across two real web processes (`serve.py`, eventlet) sharing the
database, Redis and the Socket.IO message queue: the laptop on one, the phone on the other. A pause from
the phone reaches the laptop, `set_device` moves the sound keeping the position, and a device whose
process is killed is taken offline by the next command on the other."""
import os
import time
import uuid

import pytest
import requests
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.helpers import PASSWORD, TEST_REDIS_URL, app_config
from tests.party_peer import now_ms
from tests.processes import Cluster, free_port
from tests.session_world import Device, add_tracks, login, play_and_move, position

SECRET = "session-process-test-secret-0123456789"


@pytest.fixture
def cluster(tmp_path):
    (tmp_path / "lib").mkdir()  # an empty library: the tracks are put in the catalog directly
    channel = f"mediaserver-test-{uuid.uuid4().hex}"
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    # the schema, a user and the tracks, made here once: the two processes then never race on DDL
    app = create_app(app_config(tmp_path, SECRET_KEY=SECRET, SOCKETIO_CHANNEL=channel))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    env = {**os.environ, "MEDIASERVER_INSTANCE": str(tmp_path / "instance"), "DATABASE_URL": app.config["DATABASE_URL"],
           "SECRET_KEY": SECRET, "REDIS_URL": TEST_REDIS_URL, "MEDIASERVER_SOCKETIO_CHANNEL": channel,
           "MEDIASERVER_LIBRARY": str(tmp_path / "lib"), "MEDIASERVER_DATA_DIR": str(tmp_path / "data"),
           "MEDIASERVER_AUTO_TRANSCODE": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("MEDIASERVER_ASYNC_MODE", None)
    cluster = Cluster(tmp_path, env)
    cluster.tracks = add_tracks(app, [120_000, 120_000])
    try:
        yield cluster
    finally:
        cluster.stop()
        conn.flushdb()


def test_two_devices_on_two_processes_share_one_session(cluster):
    url_a, url_b = cluster.start("a", free_port()), cluster.start("b", free_port())
    cluster.wait_up("a", url_a)
    cluster.wait_up("b", url_b)
    laptop = Device(url_a, login(url_a, "alice"), "Laptop")
    phone = Device(url_b, login(url_b, "alice"), "Phone")
    try:
        rev = phone.state(lambda s: len(s["devices"]) == 2)["rev"]
        rev = laptop.command("set_device", rev, device_id=laptop.device_id)["rev"]
        rev = laptop.command("set_queue", rev, track_ids=cluster.tracks)["rev"]
        mark = laptop.mark()
        rev = phone.command("play", rev)["rev"]  # from B; the laptop (A) is the one playing
        playing = laptop.state(lambda s: s["state"] == "playing", mark)
        assert playing["active_device_id"] == laptop.device_id

        # a pause from the phone (B) reaches the laptop (A) within 300 ms
        time.sleep(0.5)
        mark = laptop.mark()
        sent = now_ms()
        rev = phone.command("pause", rev)["rev"]
        paused, received = laptop.wait("session_state", lambda s: s["state"] == "paused", mark)
        assert received - sent < 300, (received - sent, cluster.log("a"))

        # set_device from A to the phone on B keeps the position
        playing, moved = play_and_move(laptop, phone, phone, rev)
        rev = playing["rev"]
        now = now_ms()
        assert abs(position(moved, now) - position(playing, now)) <= 100 and moved["state"] == "playing"

        # the phone's process killed (no disconnect runs): once its liveness lapses, the next command
        # on A finds the phone offline, and the session, which it was playing, paused where it was
        cluster.kill("b")
        time.sleep(5.5)  # live.PROCESS_TTL_MS
        mark = laptop.mark()
        ack = laptop.command("seek", rev + 1, position_ms=1_000)
        assert ack["code"] == "stale" and ack["rev"] == rev + 2  # the pause came first
        gone = laptop.state(lambda s: s["rev"] == rev + 2, mark)
        assert gone["state"] == "paused" and [d["online"] for d in gone["devices"]
                                              if d["id"] == phone.device_id] == [False]
        assert requests.get(url_a + "/api/session", cookies=laptop.http.cookies).json()["rev"] == rev + 2
    finally:
        for device in (laptop, phone):
            if device.sio.connected:
                device.close()

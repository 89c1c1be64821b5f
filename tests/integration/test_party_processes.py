"""One party across two real web processes (`serve.py`, eventlet) sharing SQLite, Redis and the
Socket.IO message queue: events cross processes, and a process killed with SIGKILL and started again
takes its members back into the party with the timeline intact.
"""
import os
import shutil
import time
import uuid

import pytest
import requests
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.helpers import PASSWORD, TEST_REDIS_URL, app_config, clip, csrf_session, media_id
from tests.party_peer import NS, Peer, now_ms
from tests.processes import Cluster, free_port, position

BBB = "Movies/BBB (2008).mp4"
SECRET = "process-test-secret-0123456789"


@pytest.fixture
def cluster(tmp_path):
    library = tmp_path / "lib"
    (library / BBB).parent.mkdir(parents=True)
    shutil.copyfile(clip("video/bbb_h264_aac_720p_30s.mp4"), library / BBB)
    channel = f"mediaserver-test-{uuid.uuid4().hex}"
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    # the schema, a user and the catalog, made here once: the two processes then never race on DDL
    app = create_app(app_config(tmp_path, SECRET_KEY=SECRET, LIBRARY_ROOTS=[str(library)], SOCKETIO_CHANNEL=channel))
    database = app.config["DATABASE_URL"]  # SQLite, or PostgreSQL (tests/databases.py)
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    env = {**os.environ, "MEDIASERVER_INSTANCE": str(tmp_path / "instance"), "DATABASE_URL": database,
           "SECRET_KEY": SECRET, "REDIS_URL": TEST_REDIS_URL, "MEDIASERVER_SOCKETIO_CHANNEL": channel,
           "MEDIASERVER_LIBRARY": str(library), "MEDIASERVER_DATA_DIR": str(tmp_path / "data"),
           "MEDIASERVER_AUTO_TRANSCODE": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("MEDIASERVER_ASYNC_MODE", None)
    cluster = Cluster(tmp_path, env)
    cluster.bbb = media_id(app, BBB)
    try:
        yield cluster
    finally:
        cluster.stop()
        conn.flushdb()


class Rejoining(Peer):
    """A client that reconnects by itself and joins its party again on every new connection."""

    def __init__(self, url: str, cookie: str, code: str) -> None:
        super().__init__(url, cookie, reconnection=True, reconnection_delay=0.2, reconnection_delay_max=0.5,
                         randomization_factor=0)
        self.code, self.connects = code, 0
        self.sio.on("connect", self._rejoin, namespace=NS)

    def _rejoin(self) -> None:
        self.connects += 1
        self.sio.emit("join", {"code": self.code, "token": ""}, namespace=NS,
                      callback=self._recorder("join_ack"))


def test_a_party_spans_two_processes_and_survives_one_being_killed(cluster):
    port_a, port_b = free_port(), free_port()
    url_a, url_b = cluster.start("a", port_a), cluster.start("b", port_b)
    cluster.wait_up("a", url_a)
    cluster.wait_up("b", url_b)

    session = csrf_session()
    assert session.post(url_a + "/api/auth/login", json={"username": "alice", "password": PASSWORD}).ok
    created = session.post(url_a + "/api/parties", json={"media_file_id": cluster.bbb})
    assert created.status_code == 201
    code = created.json()["code"]
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    host = Rejoining(url_a, cookie, code)
    joined = csrf_session().post(f"{url_b}/api/parties/{code}/join", json={"name": "Sam"})  # joins through B
    assert joined.status_code == 200
    guest = Peer(url_b)
    try:
        assert host.join(code)["role"] == "host"
        assert guest.join(code, joined.json()["token"])["ok"]

        # events cross processes: the host's play and chat (A) reach the guest (B), and back
        marks = host.mark(), guest.mark()
        sent = host.send("play", {"rev": 0, "event_id": uuid.uuid4().hex})
        played, received = guest.wait("state", lambda s: s["state"] == "playing", marks[1])
        assert played["rev"] == 1 and played["anchor_server_ms"] - sent >= 300 and received < played["anchor_server_ms"]
        host.send("chat", {"text": "from A"})
        assert guest.wait("chat", since=marks[1])[0]["text"] == "from A"
        guest.send("chat", {"text": "from B"})
        assert host.wait("chat", lambda c: c["text"] == "from B", marks[0])[0]["name"] == "Sam"

        # SIGKILL A (no disconnect handler runs), start it again on the same port
        time.sleep(max(0, played["anchor_server_ms"] + 500 - now_ms()) / 1000)  # be well into playback
        cluster.kill("a")
        marks = host.mark(), guest.mark()
        connects = host.connects
        cluster.start("a", port_a)
        cluster.wait_up("a", url_a)  # (a process's start-up on a loaded 2-core machine took up to 5 s)
        serving = now_ms()
        ack, _ = host.wait("join_ack", since=marks[0], timeout=10)
        assert ack["ok"] and ack["role"] == "host" and host.connects == connects + 1, cluster.log("a")
        back, back_at = host.wait("state", lambda s: s["rev"] == 1, marks[0], timeout=5)
        # once A serves again, its member is back in the party at once (reconnect delay <= 0.5 s)
        assert back_at - serving <= 3_000, back_at - serving
        assert back["state"] == "playing" and back["host"] == "u1" and back["party"] == code
        assert next(m for m in back["members"] if m["id"] == "u1")["status"] != "offline"
        other = guest.wait("state", lambda s: s["server_ms"] >= back["server_ms"], marks[1], timeout=3)[0]
        now = now_ms()
        expected = now - played["anchor_server_ms"]  # it started at 0 and nothing has paused it
        assert abs(position(back, now) - position(other, now)) <= 100
        assert abs(position(back, now) - expected) <= 100 and abs(position(other, now) - expected) <= 100

        # the restarted A serves the party's commands again, and B hears them
        marks = host.mark(), guest.mark()
        host.send("pause", {"position_ms": position(back, now_ms()), "rev": 1, "event_id": uuid.uuid4().hex})
        paused = guest.wait("state", lambda s: s["state"] == "paused", marks[1])[0]
        assert paused["rev"] == 2 and abs(paused["position_ms"] - (now_ms() - played["anchor_server_ms"])) <= 1_000
    finally:
        host.sio.reconnection = False
        for peer in (host, guest):
            if peer.sio.connected:
                peer.close()

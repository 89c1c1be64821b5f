"""A live party server for the `/party` protocol tests (test_party_socket.py, test_party_bounds.py,
test_fuzz_party.py): a threaded werkzeug server (the app in threading mode) for the module with two
titles, and `Party`, a fresh party with its host connected (python-socketio clients: the host by its
session cookie, guests by the token of `POST /api/parties/<code>/join`). The party timers are shortened
(TIMINGS: configuration, as an operator sets them)."""
import shutil
import uuid

import pytest
import requests
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.helpers import NO_RATE_LIMITS, PASSWORD, TEST_REDIS_URL, app_config, clip, csrf_session, media_id, serving
from tests.party_peer import Peer

BBB, FLOWER = "Movies/BBB (2008).mp4", "Movies/Flower.mp4"
#: Shortened party timers (ms): the wait for a stalled member, the host's grace, the heartbeat.
REBUFFER_MS, GRACE_MS, HEARTBEAT_MS = 3_000, 3_000, 2_000
TIMINGS = {"PARTY_REBUFFER_WAIT_MS": REBUFFER_MS, "PARTY_HOST_GRACE_MS": GRACE_MS, "PARTY_HEARTBEAT_MS": HEARTBEAT_MS}


def member(state: dict, member_id: str) -> dict:
    return next(m for m in state["members"] if m["id"] == member_id)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("party_socket")
    for name, rel in {BBB: "video/bbb_h264_aac_720p_30s.mp4", FLOWER: "video/flower.mp4"}.items():
        (base / "lib" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip(rel), base / "lib" / name)
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    # every party of the module is alice's, every guest joins from 127.0.0.1: no rate limits (test_security)
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(base / "lib")], **NO_RATE_LIMITS, **TIMINGS))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    app.bbb, app.flower = media_id(app, BBB), media_id(app, FLOWER)
    with serving(app) as url:
        app.url = url
        yield app
    conn.flushdb()


class Party:
    """A fresh party on BBB with its host connected and joined; `guest(name)` adds a connected guest."""

    def __init__(self, app) -> None:
        self.url, self.peers = app.url, []
        self.session = csrf_session()
        assert self.session.post(self.url + "/api/auth/login",
                                 json={"username": "alice", "password": PASSWORD}).status_code == 200
        created = self.session.post(self.url + "/api/parties", json={"media_file_id": app.bbb})
        assert created.status_code == 201
        self.code, self.id = created.json()["code"], created.json()["id"]
        self.cookie = "; ".join(f"{k}={v}" for k, v in self.session.cookies.items())
        self.host = self.peer(self.cookie)
        ack = self.host.join(self.code)
        assert ack["ok"] and ack["role"] == "host" and ack["member_id"] == "u1", ack
        self.tokens = {}

    def peer(self, cookie: str = "") -> Peer:
        peer = Peer(self.url, cookie)
        self.peers.append(peer)
        return peer

    def guest(self, name: str) -> Peer:
        joined = csrf_session().post(f"{self.url}/api/parties/{self.code}/join", json={"name": name})
        assert joined.status_code == 200
        peer = self.peer()
        ack = peer.join(self.code, joined.json()["token"])
        assert ack["ok"] and ack["role"] == "guest" and ack["member_id"].startswith("g"), ack
        self.tokens[peer.member_id] = joined.json()["token"]
        return peer

    def state(self, peer: Peer, pred, since: int = 0, timeout: float = 3.0) -> dict:
        return peer.wait("state", pred, since, timeout)[0]

    def http_state(self) -> dict:
        return requests.get(f"{self.url}/api/parties/{self.code}", cookies=self.session.cookies).json()


@pytest.fixture
def party(server):
    p = Party(server)
    yield p
    for peer in p.peers:
        if peer.sio.connected:
            peer.close()


def eid() -> str:
    return uuid.uuid4().hex


def play(party: Party, peer: Peer, rev: int) -> dict:
    """`play` from `peer` at `rev`; the resulting playing state as `peer` receives it."""
    mark = peer.mark()
    peer.send("play", {"rev": rev, "event_id": eid()})
    return party.state(peer, lambda s: s["state"] == "playing" and s["rev"] == rev + 1, mark)

"""Redis stopped mid-run (issue 6, item 5): the library and what is already published keep serving;
job and party features answer 503 with a message and a Retry-After, never a 500 or a hang; all of it
recovers when Redis returns, with no restart of the app.

A private `redis-server` on a free port (no persistence) for the module, SIGKILLed and started again
on the same port by the tests; one app whose REDIS_URL and Socket.IO message queue point at it; a
library of three copied clips (the stream routes refuse symlinks that lead out of the library): one
played directly, one whose HLS ladder a real burst worker built, one with no ladder yet.
"""
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from urllib.parse import urlparse

import pytest
import socketio
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import func, select
from werkzeug.serving import make_server

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import Participant, ScanRun, TranscodeJob, WatchSession
from mediaserver.web import errors
from tests.helpers import PASSWORD, app_config, clip, csrf_session, media_id
from tests.party_peer import NS, Peer
from tests.session_world import NS as SESSION_NS
from tests.session_world import Device
from tests.session_world import login as login_over_http

#: Played directly; transcoded, its ladder built before Redis stops; transcoded, no ladder yet.
DIRECT, READY, BARE = ("Movies/Rabbit (2008)/rabbit320.mp4", "Movies/Frames (2010)/frames.mp4",
                       "Movies/Square (2012)/square.webm")
CLIPS = {DIRECT: "video/rabbit320.mp4", READY: "video/h265_bframes.mp4",
         BARE: "video/bbb_642x642_768kbps_30fps_vp9.webm"}
#: A request that needs Redis must fail at least this fast while it is down (s): no hang.
FAST_S = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private redis-server on `port`: `start()` (waits for PING), `kill()` (SIGKILL, no shutdown)."""

    def __init__(self, port: int) -> None:
        self.port, self.proc = port, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        probe = Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                probe.ping()
                return
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)
            finally:
                probe.close()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)

    def ensure_up(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(app, redis server): the library scanned, READY's ladder built, BARE's one job cancelled."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (scripts/ensure-tools.sh redis)")
    base = tmp_path_factory.mktemp("redis_down")
    for name, rel in CLIPS.items():
        (base / "lib" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip(rel), base / "lib" / name)
    server = RedisServer(free_port())
    server.start()
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(base / "lib")], REDIS_URL=server.url,
                                SOCKETIO_MESSAGE_QUEUE=server.url))
    try:
        with app.app_context():
            create_user("alice", PASSWORD, is_admin=True)
        assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
        app.direct, app.ready, app.bare = (media_id(app, p) for p in (DIRECT, READY, BARE))
        client = login(app)
        assert client.post(f"/api/media-files/{app.ready}/transcode").status_code == 202
        # The worker gets a connection of its own: RQ raises the socket timeout of the one it is
        # given (for its BLPOP), and the app's own client must keep its short one.
        conn = Redis.from_url(server.url)
        with app.app_context():
            SimpleWorker([Queue(app.config["RQ_QUEUE"], connection=conn)], connection=conn).work(burst=True)
        conn.close()
        assert client.get(f"/api/media-files/{app.ready}/playback").json["kind"] == "hls"
        assert client.post(f"/api/media-files/{app.bare}/transcode").status_code == 202
        (job,) = [j for j in client.get("/api/admin/transcodes").json["items"] if j["media_file_id"] == app.bare]
        assert client.post(f"/api/admin/transcodes/{job['id']}/cancel").json["status"] == "cancelled"
        app.cancelled_job = job["id"]
        yield app, server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()


def login(app):
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return client


def timed(call, *args, **kwargs):
    began = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - began


def assert_unavailable(response, elapsed: float) -> None:
    """503 JSON naming Redis, with a Retry-After, answered without hanging."""
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json and response.json["error"] == "Service Unavailable"
    assert "Redis" in response.json["message"] and "unavailable" in response.json["message"]
    assert "Traceback" not in response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert elapsed < FAST_S, elapsed


def counts(app) -> tuple[int, int, int, int]:
    """Rows of transcode jobs, scans, parties and participants."""
    with app.app_context():
        db = get_db()
        return tuple(db.scalar(select(func.count()).select_from(model))
                     for model in (TranscodeJob, ScanRun, WatchSession, Participant))


def test_redis_down_keeps_the_library_and_published_streams_and_refuses_the_rest_until_it_returns(env):
    app, server = env
    server.ensure_up()
    client = login(app)
    party = client.post("/api/parties", json={"media_file_id": app.ready})
    assert party.status_code == 201
    code = party.json["code"]
    before = counts(app)

    server.kill()

    # Browsing, signing in and out: the database and the signed session cookie only.
    other = app.test_client()
    assert other.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    assert other.get("/api/auth/me").status_code == 200
    assert other.post("/api/auth/logout").status_code == 200
    for url in ("/api/library/media-files", "/api/library/movies", f"/api/media-files/{app.direct}",
                "/api/admin/transcodes", "/", "/files", "/movies", f"/watch/{app.ready}", "/admin/settings",
                "/admin/transcodes", f"/p/{code}"):
        assert client.get(url).status_code == 200, url
    # The transcode progress stream reads the database, not Redis: it keeps streaming.
    events = client.get(f"/api/transcodes/events?media_file_id={app.ready}", buffered=False)
    assert events.status_code == 200 and next(iter(events.response)).startswith(b"data: {")
    events.close()

    # Direct play: the file with Range.
    direct = client.get(f"/api/media-files/{app.direct}/playback")
    assert direct.status_code == 200 and direct.json["kind"] == "file"
    part = client.get(urlparse(direct.json["url"]).path, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.data == clip(CLIPS[DIRECT]).read_bytes()[1000:2000]

    # The ready ladder: the playback answer, the master playlist, a variant playlist and a segment.
    ready = client.get(f"/api/media-files/{app.ready}/playback")
    assert ready.status_code == 200 and ready.json["kind"] == "hls" and ready.json["status"] == "ready"
    master_path = urlparse(ready.json["url"]).path
    master = client.get(master_path)
    assert master.status_code == 200
    base = master_path.rsplit("/", 1)[0]
    variant_uri = next(line for line in master.text.splitlines() if line and not line.startswith("#"))
    variant = client.get(f"{base}/{variant_uri}")
    assert variant.status_code == 200
    variant_base = f"{base}/{variant_uri}".rsplit("/", 1)[0]
    segment_uri = next(line for line in variant.text.splitlines() if line and not line.startswith("#"))
    segment = client.get(f"{variant_base}/{segment_uri}")
    assert segment.status_code == 200 and len(segment.data) > 0
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', variant.text)
    if init:
        assert client.get(f"{variant_base}/{init.group(1)}").status_code == 200
    party_playback = client.get(f"/api/parties/{code}/playback")
    assert party_playback.status_code == 200 and party_playback.json["kind"] == "hls"

    # What needs Redis answers 503 JSON with a message, quickly.
    assert_unavailable(*timed(client.get, f"/api/media-files/{app.bare}/playback"))  # would queue a job
    assert_unavailable(*timed(client.post, f"/api/media-files/{app.bare}/transcode"))
    assert_unavailable(*timed(client.post, f"/api/admin/transcodes/{app.cancelled_job}/retry"))
    assert_unavailable(*timed(client.post, "/api/admin/scans"))
    assert_unavailable(*timed(client.post, "/api/parties", json={"media_file_id": app.ready}))
    assert_unavailable(*timed(client.get, f"/api/parties/{code}"))
    assert_unavailable(*timed(app.test_client().post, f"/api/parties/{code}/join", json={"name": "Sam"}))
    assert_unavailable(*timed(client.post, f"/api/parties/{code}/end"))
    with app.test_request_context("/admin/settings"):  # a page would get the HTML error page
        page = errors.unavailable(errors.REDIS_UNAVAILABLE)
        assert (page.status_code, page.mimetype, page.headers["Retry-After"]) == (503, "text/html", "5")
        assert "unavailable" in page.get_data(as_text=True)
    # ... and leaves nothing half-written behind: no job, scan, party or guest row.
    assert counts(app) == before
    with app.app_context():
        assert get_db().get(WatchSession, party.json["id"]).ended_at is None

    server.start()  # the same port, an empty Redis: no restart of the app

    retried = client.post(f"/api/admin/transcodes/{app.cancelled_job}/retry")
    assert retried.status_code == 201 and retried.json["status"] == "queued"
    queued = client.post(f"/api/media-files/{app.bare}/transcode")
    assert queued.status_code == 202 and queued.json["status"] == "queued"
    waiting = client.get(f"/api/media-files/{app.bare}/playback")
    assert waiting.status_code == 409 and waiting.json["status"] == "queued"
    assert client.post("/api/admin/scans").status_code == 202
    assert client.post("/api/parties", json={"media_file_id": app.ready}).status_code == 201
    state = client.get(f"/api/parties/{code}")  # refilled from the row's snapshot
    assert state.status_code == 200 and state.json["code"] == code
    joined = app.test_client().post(f"/api/parties/{code}/join", json={"name": "Sam"})
    assert joined.status_code == 200 and joined.json["token"]


@pytest.fixture
def live(env):
    """The app served by a threaded werkzeug server (Socket.IO in threading mode): its base URL."""
    app, server = env
    server.ensure_up()
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(5)


def test_party_socket_events_answer_an_error_while_redis_is_down_and_work_again_after(env, live):
    app, server = env
    http = csrf_session()  # sends the session's CSRF token on POST
    assert http.post(live + "/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    created = http.post(live + "/api/parties", json={"media_file_id": app.ready}).json()
    code = created["code"]
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    host, late = Peer(live, cookie), None
    try:
        assert host.join(code)["ok"]

        server.kill()

        late = Peer(live, cookie)  # connecting needs no Redis

        mark = host.mark()
        began = time.monotonic()
        ack = host.sio.call("play", {"rev": 0, "event_id": "down-1"}, namespace=NS, timeout=5)
        assert time.monotonic() - began < FAST_S
        assert ack["ok"] is False and "Redis" in ack["message"] and ack["retry_after_s"] > 0
        assert "unavailable" in host.wait("error", since=mark)[0]["message"]
        began = time.monotonic()
        refused = late.join(code)
        assert time.monotonic() - began < FAST_S
        assert refused["ok"] is False and "Redis" in refused["message"]
        mark = host.mark()
        host.sio.emit("time_ping", {"client_ms": 1}, namespace=NS)  # needs no Redis
        assert host.wait("time_pong", since=mark)[0]["client_ms"] == 1

        server.start()

        assert late.join(code)["ok"]
        mark = host.mark()
        host.sio.call("play", {"rev": 0, "event_id": "up-1"}, namespace=NS, timeout=5)
        playing = host.wait("state", lambda s: s["state"] == "playing", mark)[0]
        assert playing["rev"] == 1
        # Other web processes reach this one's rooms again: the message queue's listener thread has
        # resubscribed by itself (python-socketio retries after 1, 2, 4 ... s), so an emit published
        # from outside (a write-only manager, as another process would) arrives.
        other_process = socketio.RedisManager(server.url, channel=app.config["SOCKETIO_CHANNEL"], write_only=True)
        deadline = time.monotonic() + 15
        while True:
            mark = host.mark()
            other_process.emit("chat", {"text": "from another process"}, room=f"party:{created['id']}", namespace=NS)
            try:
                host.wait("chat", since=mark, timeout=0.5)
                break
            except AssertionError:
                assert time.monotonic() < deadline, "the Socket.IO message queue listener did not reconnect"
    finally:
        for peer in (host, late):
            if peer is not None and peer.sio.connected:
                peer.close()
        server.ensure_up()


def test_session_socket_events_answer_an_error_while_redis_is_down_and_work_again_after(env, live):
    app, server = env
    http = login_over_http(live, "alice")
    laptop, late = Device(live, http, "Laptop"), None
    try:
        rev = laptop.latest()["rev"]

        server.kill()

        late = Device(live, login_over_http(live, "alice"))  # connecting needs no Redis: an error instead of a state
        assert "unavailable" in late.wait("error")[0]["message"]
        mark = laptop.mark()
        began = time.monotonic()
        ack = laptop.command("play", rev)
        assert time.monotonic() - began < FAST_S
        assert ack["ok"] is False and "Redis" in ack["message"] and ack["retry_after_s"] > 0
        assert "unavailable" in laptop.wait("error", since=mark)[0]["message"]
        assert "Redis" in late.register("Phone")["message"]
        response, elapsed = timed(http.get, live + "/api/session")
        assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0 and elapsed < FAST_S
        mark = laptop.mark()
        laptop.sio.emit("time_ping", {"client_ms": 1}, namespace=SESSION_NS)  # needs no Redis
        assert laptop.wait("time_pong", since=mark)[0]["client_ms"] == 1

        server.start()

        assert late.register("Phone")["ok"]
        # this Redis keeps nothing (no persistence): the session starts afresh, the laptop registers again
        ack = laptop.command("set_queue", 0, track_ids=[])
        assert (ack["ok"], ack["code"]) == (False, "forbidden")
        assert laptop.register("Laptop")["ok"] and laptop.command("set_queue", 0, track_ids=[])["ok"]
        assert [d["name"] for d in http.get(live + "/api/session").json()["devices"]] == ["Laptop", "Phone"]
    finally:
        for device in (laptop, late):
            if device is not None and device.sio.connected:
                device.close()
        server.ensure_up()

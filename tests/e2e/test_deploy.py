"""The deployment of deploy/ end to end on loopback: nginx with the shipped site in front of two
gunicorn eventlet web processes (A and B) and one `worker.py` (tests/deploy_stack.py).

Set-up, once for the module, the way deploy/README.md installs: a library holding the HEVC clip
(it needs a ladder: the worker transcodes it) and the H.264 clip under a name with spaces and
parentheses (direct play); `flask db upgrade`, `flask users create`, `flask scan` on one database
(SQLite, or PostgreSQL in that pass of the suite); then A, B and the worker on it, the test Redis database and a Socket.IO channel of their
own; then nginx: deploy/nginx/mediaserver.conf rendered by deploy/nginx_site.py with free ports
(plain HTTP on loopback, upstream A and B, its internal locations on this test's data and library
folders), its access log noting each request's upstream and the X-Accel-Redirect the app answered.
The processes run with MEDIASERVER_PROXY_FIX=1 and MEDIASERVER_X_ACCEL_PREFIX=/_protected.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from redis import Redis

from tests.databases import database_url
from tests.deploy_stack import NGINX, PYTHON, Stack, app_env, free_port
from tests.e2e.test_player import FAST, PLAYING_PAST, log_in
from tests.helpers import NO_RATE_LIMITS_ENV, PASSWORD, PROJECT, TEST_REDIS_URL, clip, csrf_session
from tests.integration.test_party_processes import position
from tests.party_peer import Peer, now_ms

HEVC = "Movies/Big Buck Bunny HEVC (2008).mp4"
BBB = "Movies/Big Buck Bunny (2008).mp4"
SECRET = "deploy-test-secret-0123456789"


def flask(env: dict, *args: str) -> str:
    done = subprocess.run([PYTHON, "-m", "flask", "--app", "mediaserver", *args], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    base = tmp_path_factory.mktemp("deploy")
    library = base / "library"
    (library / "Movies").mkdir(parents=True)
    # copies, not links: the app serves only files whose real path is inside the library folder
    shutil.copyfile(clip("video/bbb_hevc_720p_10s.mp4"), library / HEVC)
    shutil.copyfile(clip("video/bbb_h264_aac_720p_30s.mp4"), library / BBB)
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    env = app_env({"SECRET_KEY": SECRET, "DATABASE_URL": database_url(base),  # SQLite unless the tests use PostgreSQL
                   "REDIS_URL": TEST_REDIS_URL, "MEDIASERVER_INSTANCE": str(base / "instance"),
                   "MEDIASERVER_DATA_DIR": str(base / "data"), "MEDIASERVER_LIBRARY": str(library),
                   "MEDIASERVER_SOCKETIO_CHANNEL": f"mediaserver-test-{uuid.uuid4().hex}",
                   "MEDIASERVER_AUTO_TRANSCODE": "0", "TMDB_API_KEY": "", **NO_RATE_LIMITS_ENV})
    flask(env, "db", "upgrade")
    flask(env, "users", "create", "alice", "--password", PASSWORD, "--admin")
    flask(env, "scan")
    stack = Stack(base)
    try:
        ports = {"a": free_port(), "b": free_port()}
        stack.web = {name: stack.gunicorn(f"web-{name}", port, env) for name, port in ports.items()}
        stack.worker("worker", env)
        stack.url = stack.nginx("nginx", free_port(), list(ports.values()), str(base / "data"), [str(library)])
        stack.data, stack.library = base / "data", library
        yield stack
    finally:
        stack.stop()
        conn.flushdb()


def logged_in(url: str) -> requests.Session:
    session = csrf_session()
    assert session.post(url + "/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return session


def media_id(session: requests.Session, url: str, name: str) -> int:
    items = session.get(url + "/api/library/media-files", params={"per_page": 100}).json()["items"]
    return next(item["id"] for item in items if item["path"] == name)


def ready_hls(session: requests.Session, url: str, media: int, timeout_s: float = 240) -> dict:
    """The title's /playback answer once its ladder is finished (the worker transcodes it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = session.get(f"{url}/api/media-files/{media}/playback").json()
        if info.get("status") == "ready":
            return info
        time.sleep(0.5)
    raise AssertionError(f"no finished ladder within {timeout_s} s: {info}")


def nginx_lines(stack: Stack, pattern: str) -> list[str]:
    return [line for line in stack.access_log("nginx") if re.search(pattern, line)]


def test_a_transcoded_title_plays_in_chromium_through_nginx_and_its_segments_come_by_x_accel(deployed, browser):
    """The HEVC clip has no playable form until the worker makes its ladder: the player page (through
    nginx) waits, then hls.js plays it past 80 %. Every segment hls.js fetched went to a web
    process, whose answer named the file in X-Accel-Redirect, and nginx sent the bytes: nginx's log
    has the upstream, the redirect and the bytes; the web processes' access logs have 0 body bytes."""
    context = browser.new_context()
    try:
        page = context.new_page()
        log_in(page, deployed.url)
        session = logged_in(deployed.url)
        hevc = media_id(session, deployed.url, HEVC)
        title = session.get(f"{deployed.url}/api/media-files/{hevc}").json()
        assert title["transcode"]["status"] == "none"  # the worker makes the ladder once the player asks
        duration_s = title["duration_ms"] / 1000
        page.goto(f"{deployed.url}/watch/{hevc}")
        page.wait_for_function(PLAYING_PAST, arg=0.05, timeout=240_000)
        page.evaluate(f"document.querySelector('video').playbackRate = {FAST}")
        # the title's duration, not the video element's: a ladder still being encoded is a growing
        # EVENT playlist whose duration is only what is encoded so far
        page.wait_for_function(PLAYING_PAST, arg=0.8 * duration_s, timeout=120_000)
        assert page.evaluate("document.querySelector('video').error") is None
        assert page.evaluate("window.mediaserverHls !== undefined && window.mediaserverHls !== null")
        assert session.get(f"{deployed.url}/api/media-files/{hevc}/playback").json()["method"] == "transcode"
    finally:
        context.close()
    segments = nginx_lines(deployed, rf'"GET /hls/{hevc}/[^ ]+\.m4s ')
    assert len(segments) >= 5, deployed.access_log("nginx")[-20:]
    for line in segments:
        status, sent = re.search(r'" (\d+) (\d+) ', line).groups()
        assert status in ("200", "206") and int(sent) > 0, line
        assert re.search(r"upstream=127\.0\.0\.1:\d+ accel=/_protected/data/hls/\S+\.m4s$", line), line
    app_lines = [line for name in ("web-a", "web-b") for line in deployed.log(name).splitlines()
                 if re.search(rf'"GET /hls/{hevc}/\S+\.m4s ', line)]
    assert app_lines and all(re.search(r'" 200 0 \d+ms$', line) for line in app_lines), app_lines[:5]


def test_nginx_sends_ranges_after_the_apps_checks(deployed):
    """Segments and a direct-play file (a name to percent-encode) through nginx: Range (206 with the
    file's bytes), If-None-Match (304), the app's Content-Type and Cache-Control; a bad token is the
    app's 403 and never a file; the internal locations are not reachable from outside (404)."""
    url = deployed.url
    session = logged_in(url)
    info = ready_hls(session, url, media_id(session, url, HEVC))
    assert urlsplit(info["url"]).netloc == urlsplit(url).netloc  # url_for(_external) names nginx, not A or B
    master = session.get(info["url"])
    assert master.status_code == 200 and master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert master.headers["Cache-Control"] == "private, no-cache"
    variant = next(line for line in master.text.splitlines() if line.endswith(".m3u8") and not line.startswith("#"))
    base = info["url"].rsplit("/", 1)[0] + "/" + variant.rsplit("/", 1)[0]
    playlist = requests.get(f"{base}/{variant.rsplit('/', 1)[-1]}").text
    segment = next(line for line in playlist.splitlines() if line.endswith(".m4s"))
    seg_url = f"{base}/{segment}"

    # what a web process answers by itself: no body, the file named for nginx
    direct = requests.get(deployed.web["a"] + urlsplit(seg_url).path)
    assert direct.status_code == 200 and direct.content == b""
    accel = direct.headers["X-Accel-Redirect"]
    assert accel.startswith("/_protected/data/hls/") and accel.endswith(f"/{segment}")
    on_disk = (deployed.data / accel.removeprefix("/_protected/data/")).read_bytes()

    whole = requests.get(seg_url)
    assert whole.status_code == 200 and whole.content == on_disk
    assert whole.headers["Content-Type"] == "video/iso.segment" and whole.headers["Cache-Control"] == "private, max-age=3600"
    part = requests.get(seg_url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == on_disk[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(on_disk)}"
    assert requests.get(seg_url, headers={"Range": f"bytes={len(on_disk)}-"}).status_code == 416
    assert requests.get(seg_url, headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304
    for name in ("X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy"):  # the app's, put back
        # (the policy names the host it was asked on: nginx's, whose Host nginx passes on)
        expected = direct.headers.get(name, "").replace(urlsplit(deployed.web["a"]).netloc, urlsplit(url).netloc)
        assert whole.headers.get(name, "") == expected, name

    bad = requests.get(seg_url.replace(urlsplit(seg_url).path.split("/")[3], "not-a-token"))
    assert bad.status_code == 403 and bad.json()["error"] and bad.headers["Content-Type"] == "application/json"
    assert requests.get(url + accel).status_code == 404  # internal

    played = session.get(f"{url}/api/media-files/{media_id(session, url, BBB)}/playback").json()
    assert played["kind"] == "file" and "Big%20Buck%20Bunny%20(2008).mp4" in played["url"]
    source = (deployed.library / BBB).read_bytes()
    part = requests.get(played["url"], headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == source[1000:2000]
    assert part.headers["Content-Type"] == "video/mp4" and part.headers["Cache-Control"] == "private, no-cache"
    tail = requests.get(played["url"], headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == source[-500:]
    assert nginx_lines(deployed, r'"GET /media/\S+ HTTP/1.1" 206 1000 .* accel=/_protected/files/\S+'
                                 r'/Big%20Buck%20Bunny%20%282008%29\.mp4$')


def test_a_party_with_one_member_on_each_web_process_stays_in_sync(deployed):
    """The host joins through nginx and the guest straight on the other web process.

    ip_hash keys on the first three octets of the client's IPv4 address, so every request from this
    machine (127.0.0.1) goes through nginx to the same web process; which one is in nginx's access
    log (the upstream of the host's Socket.IO requests, which all went to one: the upstream is
    sticky). The guest then talks to the other process directly, so the party's events cross
    processes through the Redis message queue. The host's connection is a WebSocket through nginx
    (101 in its log) whose Origin (websocket-client sends the URL's) passes engine.io's same-origin
    check only because nginx passes the Host with its port; a foreign Origin is refused.
    """
    url = deployed.url
    session = logged_in(url)
    bbb = media_id(session, url, BBB)
    created = session.post(url + "/api/parties", json={"media_file_id": bbb})
    assert created.status_code == 201
    code = created.json()["code"]
    cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    handshake = f"{url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": url}).status_code == 200
    assert requests.get(handshake, headers={"Origin": "http://elsewhere.example"}).status_code == 400

    host = Peer(url, cookie)
    peers = [host]
    try:
        # every request of this machine through nginx, in this module, went to one web process
        chosen = {m.group(1) for m in map(re.compile(r"upstream=(127\S+)").search, deployed.access_log("nginx")) if m}
        assert len(chosen) == 1, chosen
        chosen = chosen.pop()
        other = next(web for web in deployed.web.values() if urlsplit(web).port != int(chosen.rsplit(":", 1)[1]))

        joined = csrf_session().post(f"{other}/api/parties/{code}/join", json={"name": "Sam"})
        assert joined.status_code == 200
        guest = Peer(other)
        peers.append(guest)
        assert host.join(code)["role"] == "host"
        assert guest.join(code, joined.json()["token"])["ok"]

        marks = host.mark(), guest.mark()
        host.send("play", {"rev": 0, "event_id": uuid.uuid4().hex})
        played = guest.wait("state", lambda s: s["state"] == "playing", marks[1])[0]
        assert host.wait("state", lambda s: s["rev"] == played["rev"], marks[0])[0] == played

        # steady play: the newest state each member holds after a heartbeat (every 5 s)
        def in_sync(since: tuple[int, int], after_ms: int, expected) -> dict:
            states = [peer.wait("state", lambda s: s["server_ms"] >= after_ms, mark, timeout=12)[0]
                      for peer, mark in zip((host, guest), since)]
            now = now_ms()
            positions = [position(s, now) for s in states]
            assert abs(positions[0] - positions[1]) <= 5, (positions, states)
            assert abs(positions[0] - expected(now)) <= 5, (positions, expected(now))
            return states[0]

        later = in_sync(marks, played["server_ms"] + 5000, lambda now: now - played["anchor_server_ms"])
        assert later["state"] == "playing" and later["rev"] == played["rev"]

        marks = host.mark(), guest.mark()
        host.send("seek", {"position_ms": 20_000, "rev": later["rev"], "event_id": uuid.uuid4().hex})
        sought = guest.wait("state", lambda s: s["rev"] == later["rev"] + 1, marks[1])[0]
        assert sought["position_ms"] == 20_000 and sought["state"] == "playing"
        in_sync(marks, sought["server_ms"] + 1000, lambda now: 20_000 + max(0, now - sought["anchor_server_ms"]))
    finally:
        for peer in peers:
            if peer.sio.connected:
                peer.close()
    # nginx logs the host's WebSocket once it is closed: upgraded (101), on the chosen process
    deadline = time.monotonic() + 5
    while not nginx_lines(deployed, r'/socket\.io/\?\S*transport=websocket\S* HTTP/1.1" 101 .* upstream=' + re.escape(chosen) + " "):
        assert time.monotonic() < deadline, nginx_lines(deployed, r'"GET /socket\.io/')
        time.sleep(0.1)


def test_the_tls_site_is_valid_for_nginx(tmp_path):
    """The site as installed (deploy/README.md): TLS on 443 with a certificate, the port-80 redirect,
    two web processes: `nginx -t` accepts it (a throwaway self-signed certificate stands in)."""
    from deploy.nginx_site import TEMPLATE, render, standalone_conf

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=media.test",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    site = tmp_path / "site.conf"
    site.write_text(render(TEMPLATE.read_text(), web=["127.0.0.1:8001", "127.0.0.1:8002"], server_name="media.test",
                           data_dir=str(tmp_path), library=[str(tmp_path)], cert=str(cert), key=str(key)))
    assert "listen 443 ssl http2;" in site.read_text() and "return 301 https://" in site.read_text()
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(standalone_conf(site, tmp_path))
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr

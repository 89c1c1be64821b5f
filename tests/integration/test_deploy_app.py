"""The app's side of the deployment behind nginx (deploy/): stream files answered with
X-Accel-Redirect after the usual checks (MEDIASERVER_X_ACCEL_PREFIX), ProxyFix for X-Forwarded-*
(MEDIASERVER_PROXY_FIX), their settings, and the shipped web processes listening on loopback only
while ProxyFix is on. nginx itself is in tests/e2e/test_deploy.py."""
import os
import re
import runpy
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlparse

import m3u8
import pytest

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.config import check_proxied_bind, from_environment, is_loopback_bind, proxy_fix_hops
from mediaserver.exceptions import ConfigError
from tests.helpers import MEDIA, PASSWORD, PROJECT, app_config, make_library, media_id

WEBM = "video/big_buck_bunny_0_30.webm"  # VP8/Vorbis: an HLS ladder
RABBIT = "video/rabbit320.mp4"  # direct play
PREFIX = "/_protected"


@pytest.fixture
def accel(titles_app):
    """The session's transcoded library with X-Accel on; a logged-in client."""
    titles_app.config["X_ACCEL_PREFIX"] = PREFIX
    client = titles_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    try:
        yield titles_app, client
    finally:
        titles_app.config["X_ACCEL_PREFIX"] = None


def test_every_hls_file_is_named_for_nginx_with_its_type_and_cache_headers(accel):
    app, client = accel
    path = urlparse(client.get(f"/api/media-files/{media_id(app, WEBM)}/playback").json["url"]).path
    anonymous = app.test_client()  # the token alone, as VLC
    data = os.path.realpath(app.config["DATA_DIR"])

    def named(url: str, content_type: str, cache: str) -> str:
        response = anonymous.get(url, headers={"Range": "bytes=0-99"})  # nginx answers the range, not the app
        assert response.status_code == 200 and response.data == b"", url
        assert response.mimetype == content_type and response.headers["Cache-Control"] == cache, url
        target = response.headers["X-Accel-Redirect"]
        assert target.startswith(f"{PREFIX}/data/hls/"), target
        assert os.path.isfile(os.path.join(data, target.removeprefix(f"{PREFIX}/data/")))
        return target

    master = named(path, "application/vnd.apple.mpegurl", "private, no-cache")
    base = path.rsplit("/", 1)[0]
    folder = os.path.join(data, os.path.dirname(master.removeprefix(f"{PREFIX}/data/")))
    variant = m3u8.loads(open(os.path.join(folder, "master.m3u8")).read()).playlists[0].uri
    named(f"{base}/{variant}", "application/vnd.apple.mpegurl", "private, no-cache")
    playlist = m3u8.loads(open(os.path.join(folder, variant)).read())
    rung = f"{base}/{os.path.dirname(variant)}"
    named(f"{rung}/{playlist.segment_map[0].uri}", "video/mp4", "private, max-age=3600")
    target = named(f"{rung}/{playlist.segments[0].uri}", "video/iso.segment", "private, max-age=3600")
    assert target == f"{master.rsplit('/', 1)[0]}/{os.path.dirname(variant)}/{playlist.segments[0].uri}"


@pytest.mark.parametrize("suffix", ["../../../../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
                                    "720p/../../1-1/master.m3u8", "no-such-file.m4s"])
def test_the_checks_come_first_nothing_outside_the_folder_is_named(accel, suffix):
    app, client = accel
    path = urlparse(client.get(f"/api/media-files/{media_id(app, WEBM)}/playback").json["url"]).path
    response = app.test_client().get(path.rsplit("/", 1)[0] + "/" + suffix)
    assert response.status_code in (403, 404) and "X-Accel-Redirect" not in response.headers


def test_a_bad_token_gets_403_and_no_file(accel):
    app, client = accel
    path = urlparse(client.get(f"/api/media-files/{media_id(app, WEBM)}/playback").json["url"]).path
    _, _, mid, token, rest = path.split("/", 4)
    response = app.test_client().get(f"/hls/{mid}/{token[:-2]}xx/{rest}")
    assert response.status_code == 403 and response.is_json and "X-Accel-Redirect" not in response.headers


def test_a_direct_play_file_is_named_by_its_real_path(accel):
    app, client = accel
    path = urlparse(client.get(f"/api/media-files/{media_id(app, RABBIT)}/playback").json["url"]).path
    response = app.test_client().get(path, headers={"Range": "bytes=0-9"})
    assert response.status_code == 200 and response.data == b"" and response.mimetype == "video/mp4"
    real = os.path.realpath(os.path.join(app.config["LIBRARY_ROOTS"][0], RABBIT))
    assert response.headers["X-Accel-Redirect"] == f"{PREFIX}/files{quote(real)}"
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_without_a_prefix_the_app_sends_the_bytes(titles_app):
    client = titles_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    path = urlparse(client.get(f"/api/media-files/{media_id(titles_app, RABBIT)}/playback").json["url"]).path
    response = titles_app.test_client().get(path, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and len(response.data) == 10 and "X-Accel-Redirect" not in response.headers


@pytest.mark.parametrize("hops,expected", [(1, "https://media.example.org/media/"), (0, "http://localhost/media/")])
def test_proxy_fix_takes_scheme_and_host_from_the_proxy_only_when_asked(tmp_path, redis_db, hops, expected):
    library = make_library(tmp_path / "lib", {"Movies/Rabbit.mp4": RABBIT})
    app = create_app(app_config(tmp_path, PROXY_FIX=hops, LIBRARY_ROOTS=[str(library)]))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "media.example.org",
                 "X-Forwarded-For": "203.0.113.7"}
    body = client.get(f"/api/media-files/{media_id(app, 'Movies/Rabbit.mp4')}/playback", headers=forwarded).json
    assert body["url"].startswith(expected)


@pytest.fixture
def clean_env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("MEDIASERVER_") or name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("raw,prefix", [(None, None), ("/_protected", "/_protected"), ("/_protected/", "/_protected"),
                                        ("/internal/files", "/internal/files")])
def test_the_x_accel_prefix_setting(tmp_path, clean_env, raw, prefix):
    if raw is not None:
        clean_env.setenv("MEDIASERVER_X_ACCEL_PREFIX", raw)
    assert from_environment(str(tmp_path))["X_ACCEL_PREFIX"] == prefix


@pytest.mark.parametrize("raw", ["_protected", "/with space", "/a?b", "/a/../b", "/%2e"])
def test_a_bad_x_accel_prefix_names_its_variable(tmp_path, clean_env, raw):
    clean_env.setenv("MEDIASERVER_X_ACCEL_PREFIX", raw)
    with pytest.raises(ConfigError, match="MEDIASERVER_X_ACCEL_PREFIX"):
        from_environment(str(tmp_path))


@pytest.mark.parametrize("raw,hops", [(None, 0), ("0", 0), ("1", 1), ("2", 2), ("true", 1), ("off", 0)])
def test_the_proxy_fix_setting(tmp_path, clean_env, raw, hops):
    if raw is not None:
        clean_env.setenv("MEDIASERVER_PROXY_FIX", raw)
    assert from_environment(str(tmp_path))["PROXY_FIX"] == hops


def test_a_bad_proxy_fix_names_its_variable(tmp_path, clean_env):
    clean_env.setenv("MEDIASERVER_PROXY_FIX", "nginx")
    with pytest.raises(ConfigError, match="MEDIASERVER_PROXY_FIX"):
        from_environment(str(tmp_path))


# --- where the web processes listen (deploy/) ---------------------------------------------------

DEPLOY = PROJECT / "deploy"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def _env_file(path: Path) -> dict:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if re.match(r"[A-Z_]+=", line))


def test_the_shipped_web_processes_listen_on_loopback_while_proxy_fix_is_set(clean_env):
    """The env file turns ProxyFix on; the unit, the gunicorn default and the nginx upstream all name
    loopback, so nginx is the only way in (a client reaching the app could claim any X-Forwarded-For)."""
    settings = _env_file(DEPLOY / "mediaserver.env.example")
    assert "MEDIASERVER_BIND" not in settings
    clean_env.setenv("MEDIASERVER_PROXY_FIX", settings["MEDIASERVER_PROXY_FIX"])
    hops = proxy_fix_hops()
    assert hops == 1
    unit = (DEPLOY / "systemd" / "mediaserver-web@.service").read_text()
    (exec_start,) = re.findall(r"^ExecStart=(.*)$", unit, re.M)
    (unit_bind,) = re.findall(r"--bind (\S+)", exec_start)
    assert unit_bind == "127.0.0.1:%i"  # the command line's: no MEDIASERVER_BIND in the env file widens it
    assert not re.search(r"^Environment=.*MEDIASERVER_BIND", unit, re.M)
    default = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))["bind"]  # MEDIASERVER_BIND unset
    upstream = re.findall(r"^\s*server (\S+);", (DEPLOY / "nginx" / "mediaserver.conf").read_text(), re.M)
    addresses = [unit_bind.replace("%i", "8001"), *default, *upstream]
    assert len(addresses) == 4 and all(is_loopback_bind(a) for a in addresses), addresses
    check_proxied_bind(addresses, hops)  # raises nothing


@pytest.mark.parametrize("how", ["--bind", "MEDIASERVER_BIND"])
def test_gunicorn_refuses_a_public_address_while_proxy_fix_is_set(tmp_path, how):
    """`--bind 0.0.0.0:...` on the command line, or MEDIASERVER_BIND in the env file: gunicorn exits
    with a sentence before it listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MEDIASERVER_PROXY_FIX": "1",
           "MEDIASERVER_INSTANCE": str(tmp_path / "instance")}
    argv = [GUNICORN, "-c", str(DEPLOY / "gunicorn.conf.py")]
    if how == "--bind":
        argv += ["--bind", f"0.0.0.0:{port}"]
    else:
        env["MEDIASERVER_BIND"] = f"0.0.0.0:{port}"
    try:
        done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"gunicorn served on 0.0.0.0:{port} with MEDIASERVER_PROXY_FIX=1") from exc
    assert done.returncode != 0 and "MEDIASERVER_PROXY_FIX is set" in done.stderr, done.stderr
    assert f"0.0.0.0:{port}" in done.stderr and "Listening at" not in done.stderr
    assert not (tmp_path / "instance").exists()  # no app was built


def test_serve_py_refuses_a_public_host_while_proxy_fix_is_set(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MEDIASERVER_")},
           "MEDIASERVER_PROXY_FIX": "1", "MEDIASERVER_INSTANCE": str(tmp_path / "instance")}
    try:
        done = subprocess.run([sys.executable, "serve.py", "--host", "0.0.0.0", "--port", "0"], cwd=PROJECT,
                              env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("serve.py served on 0.0.0.0 with MEDIASERVER_PROXY_FIX=1") from exc
    assert done.returncode == 2 and "serve.py: configuration: MEDIASERVER_PROXY_FIX is set" in done.stderr
    assert not (tmp_path / "instance").exists()


@pytest.mark.parametrize("address,loopback", [
    ("127.0.0.1:8001", True), ("127.0.0.1", True), ("127.8.0.1:80", True), ("[::1]:8001", True), ("::1", True),
    ("localhost:8001", True), ("unix:/run/mediaserver/web.sock", True),
    ("0.0.0.0:8000", False), (":8000", False), ("[::]:8000", False), ("::", False), ("192.0.2.10:8001", False),
    ("media.example.org:8001", False), ("fd://3", False)])
def test_which_addresses_only_this_machine_reaches(address, loopback):
    assert is_loopback_bind(address) is loopback
    if loopback:
        check_proxied_bind([address], 1)
    else:
        with pytest.raises(ConfigError, match="MEDIASERVER_PROXY_FIX"):
            check_proxied_bind([address], 1)
    check_proxied_bind([address], 0)  # without ProxyFix any address will do

"""The app's side of the deployment behind nginx (deploy/): stream files answered with
X-Accel-Redirect after the usual checks (MEDIASERVER_X_ACCEL_PREFIX), ProxyFix for X-Forwarded-*
(MEDIASERVER_PROXY_FIX), and their settings. nginx itself is in tests/e2e/test_deploy.py."""
import os
from urllib.parse import quote, urlparse

import m3u8
import pytest

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.config import from_environment
from mediaserver.exceptions import ConfigError
from tests.helpers import MEDIA, PASSWORD, app_config, make_library, media_id

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

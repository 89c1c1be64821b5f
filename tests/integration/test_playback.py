"""Tokenized HLS serving: the token alone opens the title's files, and nothing else."""
import os
import time
from datetime import datetime
from urllib.parse import urlparse

import m3u8
import pytest

from mediaserver import tokens
from tests.helpers import PASSWORD, media_id

BBB = "video/big_buck_bunny_0_30.webm"  # VP8/Vorbis: an HLS ladder
RABBIT = "video/rabbit320.mp4"


@pytest.fixture(scope="module")
def master_path(titles_app):
    client = titles_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    body = client.get(f"/api/media-files/{media_id(titles_app, BBB)}/playback").json
    return body, urlparse(body["url"]).path


def test_playback_answers_a_signed_master_url_and_its_expiry(titles_app, master_path):
    body, path = master_path
    assert body["url"].startswith("http://") and path.endswith("/master.m3u8")
    assert path.startswith(f"/hls/{media_id(titles_app, BBB)}/")
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    ttl = titles_app.config["TOKEN_TTL_S"]
    assert abs(expires.timestamp() - (time.time() + ttl)) < 5


def test_the_token_alone_reaches_every_playlist_and_segment(titles_app, master_path):
    _, path = master_path
    anonymous = titles_app.test_client()  # no cookie, like VLC or a TV
    master = anonymous.get(path)
    assert master.status_code == 200 and master.mimetype == "application/vnd.apple.mpegurl"
    base = path.rsplit("/", 1)[0]
    parsed = m3u8.loads(master.text)
    for uri in [p.uri for p in parsed.playlists] + [m.uri for m in parsed.media]:
        media = anonymous.get(f"{base}/{uri}")
        assert media.status_code == 200
        folder = f"{base}/{os.path.dirname(uri)}"
        playlist = m3u8.loads(media.text)
        init = anonymous.get(f"{folder}/{playlist.segment_map[0].uri}")
        assert init.status_code == 200 and init.data[4:8] == b"ftyp"
        segment = anonymous.get(f"{folder}/{playlist.segments[0].uri}")
        assert segment.status_code == 200 and len(segment.data) > 1000


def test_segments_are_kept_privately_for_an_hour_and_playlists_are_asked_again(titles_app, master_path):
    """A stream URL carries one viewer's token: `private`, never `public` (a shared cache must not keep
    it). Segments never change (`max-age=3600`); playlists grow while live (`no-cache`)."""
    _, path = master_path
    anonymous = titles_app.test_client()
    master = anonymous.get(path)
    base = path.rsplit("/", 1)[0]
    variant = m3u8.loads(master.text).playlists[0].uri
    playlist = anonymous.get(f"{base}/{variant}")
    folder = f"{base}/{os.path.dirname(variant)}"
    parsed = m3u8.loads(playlist.text)
    init, segment = (anonymous.get(f"{folder}/{uri}") for uri in (parsed.segment_map[0].uri, parsed.segments[0].uri))
    for response in (master, playlist):
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-cache, max-age=0"
    for response in (init, segment):
        assert response.status_code == 200 and response.headers["Cache-Control"] == "private, max-age=3600"
        assert not response.cache_control.public


def test_tampered_expired_missing_and_other_title_tokens_get_403(titles_app, master_path):
    _, path = master_path
    client = titles_app.test_client()
    _, _, mid, token, _ = path.split("/")
    secret = titles_app.config["SECRET_KEY"]
    expired, _ = tokens.issue(secret, 1, int(mid), ttl_s=10, now_s=time.time() - 60)
    other_id = media_id(titles_app, RABBIT)
    other, _ = tokens.issue(secret, 1, other_id, ttl_s=600, now_s=time.time())
    cases = {
        "tampered": f"/hls/{mid}/{token[:-2]}xx/master.m3u8",
        "expired": f"/hls/{mid}/{expired}/master.m3u8",
        "other title's token": f"/hls/{mid}/{other}/master.m3u8",
        "token moved to another title": f"/hls/{other_id}/{token}/master.m3u8",
        "missing": f"/hls/{mid}/master.m3u8",
    }
    for name, url in cases.items():
        response = client.get(url)
        assert response.status_code == 403, name
        assert response.is_json and response.json["message"], name


@pytest.mark.parametrize("suffix", [
    "../../../../../../etc/passwd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "..%2f..%2f..%2f..%2fetc%2fpasswd",
    "720p/../../1-1/master.m3u8",
    "/etc/passwd",
    "%2fetc%2fpasswd",
    "....//....//etc/passwd",
])
def test_traversal_never_leaves_the_titles_folder(titles_app, master_path, suffix):
    _, path = master_path
    base = path.rsplit("/", 1)[0]
    response = titles_app.test_client().get(f"{base}/{suffix}")
    assert response.status_code in (403, 404)
    assert b"root:" not in response.data and b"#EXTM3U" not in response.data


def test_symlinks_out_of_the_folder_are_not_followed(titles_app, master_path, tmp_path):
    _, path = master_path
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    out = os.path.join(titles_app.config["DATA_DIR"], "hls")
    folder = next(d for d in os.listdir(out) if d.startswith(f"{path.split('/')[2]}-"))
    link = os.path.join(out, folder, "leak.m4s")
    os.symlink(secret, link)
    try:
        response = titles_app.test_client().get(path.rsplit("/", 1)[0] + "/leak.m4s")
        assert response.status_code == 404 and b"top secret" not in response.data
    finally:
        os.remove(link)

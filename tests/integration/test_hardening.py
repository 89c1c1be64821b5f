"""Path traversal and token forgery against the file-serving routes, beyond test_playback.py's (which
covers a real ladder's playlists: `..`, encoded `..`, absolute paths, a symlink in the ladder folder,
tampered, expired and other-title tokens): here the direct-play file and its subtitles, the stored
images, a library symlink that leads out of the library, and every kind of forged or misused token
(another party's, another user's, another secret's, a party token as a stream token and back).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from mediaserver import tokens
from tests.integration.security_world import ANONYMOUS, GUEST, IMAGE, VIEWER, world_fixture

TRAVERSALS = [
    "..", "../..", "../../../../../../etc/passwd", "%2e%2e", "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fsecret_key", "/etc/passwd", "%2fetc%2fpasswd",
    "....//....//etc/passwd", "..\\..\\etc\\passwd", "%252e%252e%252fetc%252fpasswd", "v0/../../../secret_key",
    "%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", "master.m3u8%00.png", "~/.ssh/id_rsa",
]
SECRETS = (b"root:", b"top secret", b"test-secret-key")


world = world_fixture("hardening")


@pytest.fixture(scope="module", autouse=True)
def secret_on_disk(world):
    """The instance's secret key file, beside the data folder: a prize for a traversal."""
    (Path(world.app.instance_path) / "secret_key").write_text("test-secret-key-on-disk-0123456789\n")


@pytest.fixture(scope="module")
def urls(world):
    return {p: world.stream_urls(p) for p in (GUEST, VIEWER)}


def assert_no_leak(response, allowed=(403, 404)):
    assert response.status_code in allowed, (response.status_code, response.get_data()[:200])
    assert not any(s in response.get_data() for s in SECRETS)
    if response.status_code >= 400 and response.request.path.startswith(("/api/", "/hls/", "/media/")):
        assert response.is_json and response.json["message"]


# --- path traversal -----------------------------------------------------------------------------

@pytest.mark.parametrize("principal", [GUEST, VIEWER])
@pytest.mark.parametrize("suffix", TRAVERSALS)
def test_hls_traversal_stays_in_the_ladder_folder(world, urls, principal, suffix):
    base = urls[principal]["hls"].rsplit("/", 1)[0]
    assert_no_leak(world.client(ANONYMOUS).get(f"{base}/{suffix}"))


@pytest.mark.parametrize("suffix", TRAVERSALS)
def test_direct_play_serves_its_own_file_whatever_the_name_says(world, urls, suffix):
    """The name in a direct-play URL is decoration: the title's file is served, or nothing."""
    base = urls[VIEWER]["direct"].rsplit("/", 1)[0]
    response = world.client(ANONYMOUS).get(f"{base}/{suffix}", headers={"Range": "bytes=0-63"})
    if response.status_code == 206:
        with open(world.app.config["LIBRARY_ROOTS"][0] + "/Movies/Friday (2012)/Friday (2012).mp4", "rb") as fh:
            assert response.data == fh.read(64)
    else:
        assert_no_leak(response)


@pytest.mark.parametrize("suffix", TRAVERSALS)
def test_subtitle_keys_cannot_name_a_path(world, urls, suffix):
    base = urls[VIEWER]["subtitle"].rsplit("/", 1)[0]
    assert_no_leak(world.client(ANONYMOUS).get(f"{base}/{suffix}.vtt"))
    assert_no_leak(world.client(ANONYMOUS).get(f"{base}/{suffix}"))


@pytest.mark.parametrize("suffix", TRAVERSALS + ["secret_key", "..%2finstance%2fsecret_key"])
def test_images_never_leave_the_images_folder(world, suffix):
    assert_no_leak(world.client(VIEWER).get(f"/images/{suffix}"))


def test_a_symlinked_image_that_leads_out_is_not_followed(world):
    images = Path(world.app.config["DATA_DIR"]) / "images"
    link = images / "leak.jpg"
    link.symlink_to(world.outside)
    try:
        assert world.client(VIEWER).get("/images/leak.jpg").status_code == 404
        assert world.client(VIEWER).get(f"/images/{IMAGE}").status_code == 200  # a real one still is
    finally:
        link.unlink()


def test_a_library_symlink_that_leads_out_of_the_library_is_never_served(world):
    viewer = world.client(VIEWER)
    answer = viewer.get(f"/api/media-files/{world.ids['leak']}/playback")  # the scan failed it unread
    assert answer.status_code == 409 and answer.json["error"] == "links outside the library folder"
    leak, token = world.ids["leak"], _stream(world, 2, world.ids["leak"])  # a valid token all the same
    for path in (f"/media/{leak}/{token}/Leak (2001).mp4", f"/hls/{leak}/{token}/master.m3u8"):
        response = world.client(ANONYMOUS).get(path)
        assert_no_leak(response, (404,))  # the file outside the library is not sent
        assert b"ftyp" not in response.data[:16]


def test_a_sidecar_subtitle_that_leads_out_of_the_library_is_not_converted(world, urls, tmp_path):
    """A subtitle symlinked out of the library is refused like the video: 404, nothing converted."""
    from mediaserver.db import get_db
    from mediaserver.models import MediaFile, Subtitle

    outside = tmp_path / "private.srt"
    outside.write_text("1\n00:00:00,000 --> 00:00:01,000\ntop secret\n")
    root = world.app.config["LIBRARY_ROOTS"][0]
    link = Path(root) / "Movies" / "Friday (2012)" / "Friday (2012).fr.srt"
    link.symlink_to(outside)
    with world.app.app_context():
        media = get_db().get(MediaFile, world.ids["direct"])
        sub = Subtitle(media_file_id=media.id, path=os.path.relpath(link, root), language="fr", format="srt",
                       forced=False, sdh=False)
        get_db().add(sub)
        get_db().commit()
        key = f"x{sub.id}"
    try:
        base = urls[VIEWER]["subtitle"].rsplit("/", 1)[0]
        assert_no_leak(world.client(ANONYMOUS).get(f"{base}/{key}.vtt"), (404,))
    finally:
        link.unlink()
        with world.app.app_context():
            get_db().delete(get_db().get(Subtitle, int(key[1:])))
            get_db().commit()


# --- token forgery ------------------------------------------------------------------------------

def _stream(world, user_id, media_id, ttl=600, now=None, party_id=None, secret=None):
    return tokens.issue(secret or world.app.config["SECRET_KEY"], user_id, media_id, ttl, now or time.time(),
                        party_id)[0]


def forged_cases(world, urls) -> dict[str, str]:
    direct, hls = world.ids["direct"], world.ids["hls"]
    token = urls[VIEWER]["direct"].split("/")[3]
    payload, signature = token.rsplit(".", 1)
    party_a, party_b = world.party_ids[world.code], world.party_ids[world.hls_code]
    tampered_user = URLSafeSerializer("x", salt=tokens.SALT).dumps([1, direct, int(time.time()) + 600])
    return {
        "tampered signature": f"/media/{direct}/{payload}.{signature[:-3]}abc/x.mp4",
        "payload edited, signature kept": f"/media/{direct}/{tampered_user.rsplit('.', 1)[0]}.{signature}/x.mp4",
        "another title's token": f"/media/{direct}/{_stream(world, 2, hls)}/x.mp4",
        "token moved to another title": f"/hls/{hls}/{token}/master.m3u8",
        "another user (who does not exist)": f"/media/{direct}/{_stream(world, 999, direct)}/x.mp4",
        "expired": f"/media/{direct}/{_stream(world, 2, direct, ttl=10, now=time.time() - 60)}/x.mp4",
        "another secret": f"/media/{direct}/{_stream(world, 2, direct, secret='another-secret-0123456789')}/x.mp4",
        "another party's guest grant": f"/media/{direct}/{_stream(world, 0, direct, party_id=party_b)}/x.mp4",
        "a party that does not exist": f"/media/{direct}/{_stream(world, 0, direct, party_id=10**6)}/x.mp4",
        "a party token as a stream token": f"/media/{direct}/{world.guest_token}/x.mp4",
        "a party token as an HLS token": f"/hls/{hls}/{world.hls_guest_token}/master.m3u8",
        "an unsigned token": f"/media/{direct}/{payload}/x.mp4",
        "empty-ish token": f"/media/{direct}/./x.mp4",
        "guest grant of party A on B's title": f"/hls/{hls}/{_stream(world, 0, hls, party_id=party_a)}/master.m3u8",
    }


def test_forged_and_misused_stream_tokens_get_403_json(world, urls):
    for name, url in forged_cases(world, urls).items():
        response = world.client(ANONYMOUS).get(url)
        assert response.status_code == 403, (name, response.status_code)
        assert response.is_json and response.json["message"], name


def test_a_stream_token_is_no_party_token_and_another_partys_token_opens_nothing(world, urls):
    stream_token = urls[GUEST]["direct"].split("/")[3]
    for token in (stream_token, world.hls_guest_token, world.guest_token + "x",
                  tokens.issue_party("another-secret-0123456789", world.party_ids[world.code], 1)):
        bearer = {"Authorization": f"Bearer {token}"}
        for path in (f"/api/parties/{world.code}", f"/api/parties/{world.code}/playback",
                     f"/api/parties/{world.code}/titles"):
            response = world.client(ANONYMOUS).get(path, headers=bearer)
            assert response.status_code == 403 and response.is_json and response.json["message"], (token, path)
    cookie = world.app.test_client()
    cookie.set_cookie(f"party_{world.code}", stream_token)
    assert cookie.get(f"/api/parties/{world.code}").status_code == 403


def test_a_guest_grant_ends_with_its_party(world):
    code = world.new_party()
    guest = world.app.test_client()
    token = guest.post(f"/api/parties/{code}/join", json={"name": "Lee"}).json["token"]
    url = urlsplit(guest.get(f"/api/parties/{code}/playback").json["url"]).path
    assert world.client(ANONYMOUS).get(url, headers={"Range": "bytes=0-1"}).status_code == 206
    assert world.login("alice").post(f"/api/parties/{code}/end").status_code == 200
    ended = world.client(ANONYMOUS).get(url)
    assert ended.status_code == 403 and ended.json["message"] == "stream token's party has ended"
    bearer = world.client(ANONYMOUS).get(f"/api/parties/{code}", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 404

"""Direct play: the file itself with Range (werkzeug), tokens with a session fallback, and WebVTT
subtitles converted on demand for the <track> elements."""
import shutil
import time
from urllib.parse import urlparse, urlsplit

import pytest

from mediaserver import tokens
from tests.helpers import MEDIA, PASSWORD, media_id

RABBIT = "video/rabbit320.mp4"


@pytest.fixture(scope="module")
def direct(titles_app):
    client = titles_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    body = client.get(f"/api/media-files/{media_id(titles_app, RABBIT)}/playback").json
    return client, body, urlparse(body["url"]).path


def test_an_h264_aac_mp4_is_played_directly(direct):
    _, body, path = direct
    assert (body["method"], body["kind"], body["status"]) == ("direct", "file", "ready")
    assert path.endswith("/rabbit320.mp4") and [a["language"] for a in body["audio"]] == ["en"]


def test_range_requests_get_206_with_the_right_bytes_and_416_past_the_end(titles_app, direct):
    _, _, path = direct
    anonymous = titles_app.test_client()
    data = (MEDIA / RABBIT).read_bytes()
    whole = anonymous.get(path)
    assert whole.status_code == 200 and whole.data == data
    part = anonymous.get(path, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.data == data[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    tail = anonymous.get(path, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.data == data[-500:]
    beyond = anonymous.get(path, headers={"Range": f"bytes={len(data) + 10}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"


def test_the_file_is_kept_privately_and_checked_again(titles_app, direct):
    """The URL carries one viewer's token: `private` (no shared cache), `no-cache` (asked again)."""
    _, _, path = direct
    response = titles_app.test_client().get(path, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and response.headers["Cache-Control"] == "private, no-cache, max-age=0"


@pytest.mark.parametrize("name", ["anything.txt", "RABBIT320.mp4", "rabbit320.mp4.txt", "rabbit320", "x.mp4"])
def test_the_name_in_the_url_must_be_the_files_own(titles_app, direct, name):
    """`/media/<id>/<token>/<name>`: a valid token with any other name than the one /playback gives is 404."""
    _, _, path = direct
    anonymous = titles_app.test_client()
    assert anonymous.get(path, headers={"Range": "bytes=0-9"}).status_code == 206  # the name /playback gave
    response = anonymous.get(path.rsplit("/", 1)[0] + "/" + name)
    assert response.status_code == 404 and response.is_json and response.json["error"] == "Not Found"
    assert name in response.json["message"] and response.data[4:8] != b"ftyp"


def test_the_name_playback_gives_works_for_any_file_name(app, tmp_path, runner, auth_client):
    """Spaces, accents, `+`, `%`, `#`, `?` and brackets survive url_for and the route's decoding: the
    URL /playback gives is served, and the raw unquoted name is not."""
    odd = "Amélie + 100% #1? [x] ;.mp4"
    (tmp_path / "lib" / "Films").mkdir(parents=True)
    shutil.copyfile(MEDIA / RABBIT, tmp_path / "lib" / "Films" / odd)
    assert runner.invoke(args=["scan", str(tmp_path / "lib")]).exit_code == 0
    body = auth_client.get("/api/media-files/1/playback").json
    assert body["kind"] == "file"
    path = urlsplit(body["url"]).path  # urlparse would take `;...` for parameters
    assert path.endswith(";.mp4")
    assert app.test_client().get(path, headers={"Range": "bytes=0-9"}).status_code == 206
    assert app.test_client().get(path.rsplit("/", 1)[0] + "/Amelie.mp4").status_code == 404


def test_an_expired_token_still_serves_the_logged_in_browser_only(titles_app, direct):
    client, _, path = direct
    mid = int(path.split("/")[2])
    expired, _ = tokens.issue(titles_app.config["SECRET_KEY"], 1, mid, ttl_s=10, now_s=time.time() - 60)
    url = f"/media/{mid}/{expired}/rabbit320.mp4"
    assert client.get(url, headers={"Range": "bytes=0-9"}).status_code == 206  # session cookie
    refused = titles_app.test_client().get(url)
    assert refused.status_code == 403 and refused.json["message"] == "stream token has expired"


def test_a_transcoded_title_is_not_served_as_a_file(titles_app, direct):
    client, _, _ = direct
    webm = media_id(titles_app, "video/big_buck_bunny_0_30.webm")
    token, _ = tokens.issue(titles_app.config["SECRET_KEY"], 1, webm, ttl_s=60, now_s=time.time())
    response = client.get(f"/media/{webm}/{token}/big_buck_bunny_0_30.webm")
    assert response.status_code == 404 and response.is_json


def test_sidecar_subtitles_of_a_direct_play_file_are_served_as_webvtt(app, tmp_path, runner, auth_client):
    library = tmp_path / "lib"
    for name, rel in {"Friday/friday.mp4": "video/friday.mp4", "Friday/friday.en.srt": "subtitles/typical.srt"}.items():
        (library / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(MEDIA / rel, library / name)  # copies: direct play reads nothing that leads out of the library
    assert runner.invoke(args=["scan", str(library)]).exit_code == 0
    body = auth_client.get("/api/media-files/1/playback").json
    assert body["method"] == "direct"
    (sub,) = body["subtitles"]
    assert (sub["language"], sub["convertible"]) == ("en", True) and sub["key"].startswith("x")
    vtt = auth_client.get(urlparse(sub["url"]).path)
    assert vtt.status_code == 200 and vtt.mimetype == "text/vtt" and vtt.text.startswith("WEBVTT")
    assert vtt.headers["Cache-Control"] == "private, no-cache, max-age=0"  # as the file: one viewer's URL
    assert "-->" in vtt.text

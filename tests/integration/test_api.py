"""Library API shapes, pagination, enqueueing through Redis, JSON errors."""
import os

import pytest
from rq import Queue
from sqlalchemy import select

from tests.helpers import MUSIC_TAGS, link_file, make_library, run_worker


@pytest.fixture
def scanned(app, tmp_path, runner):
    library = make_library(tmp_path / "lib", {
        "a/rabbit320.mp4": "video/rabbit320.mp4",
        "c/broken.mp4": "broken/sample_malformed_free_box.mp4",
    })
    (library / "b").mkdir()
    link_file(MUSIC_TAGS / "silence-44-s.wv", library / "b" / "silence.wv")  # WavPack: no browser plays it
    assert runner.invoke(args=["scan", str(library)]).exit_code == 0
    return app


def test_media_files_are_listed_with_pagination(scanned, auth_client):
    page = auth_client.get("/api/library/media-files?per_page=2").json
    assert (page["total"], page["page"], page["per_page"]) == (3, 1, 2)
    assert [i["path"] for i in page["items"]] == ["a/rabbit320.mp4", "b/silence.wv"]
    assert [i["path"] for i in auth_client.get("/api/library/media-files?per_page=2&page=2").json["items"]] == \
           ["c/broken.mp4"]


def test_media_file_shape(scanned, auth_client):
    item = auth_client.get("/api/library/media-files").json["items"][0]
    assert {"id", "path", "size", "status", "error", "container", "duration_ms", "streams", "transcode"} <= set(item)
    assert (item["status"], item["container"], item["duration_ms"]) == ("ok", "mov,mp4,m4a,3gp,3g2,mj2", 7800)
    video = item["streams"][0]
    assert (video["index"], video["type"], video["codec"], video["width"], video["height"]) == (0, "video", "h264", 320, 240)
    assert item["streams"][1]["type"] == "audio" and item["streams"][1]["channels"] == 2
    assert item["transcode"] == {"status": "none", "progress": 0.0, "error": None, "playable": False}
    assert auth_client.get(f"/api/media-files/{item['id']}").json == item


def test_failed_file_carries_ffprobes_reason(scanned, auth_client):
    broken = auth_client.get("/api/library/media-files").json["items"][2]
    assert broken["status"] == "failed" and "Invalid data" in broken["error"] and broken["streams"] == []


def test_transcode_is_queued_in_redis_once(scanned, auth_client):
    response = auth_client.post("/api/media-files/1/transcode")
    assert response.status_code == 202
    job_id = response.json["job_id"]
    queue = Queue(scanned.config["RQ_QUEUE"], connection=scanned.redis)
    assert queue.job_ids == [job_id]
    assert queue.fetch_job(job_id).args == (1,)
    again = auth_client.post("/api/media-files/1/transcode")  # already queued: same job
    assert again.json["job_id"] == job_id and queue.count == 1
    assert auth_client.get("/api/media-files/1").json["transcode"]["status"] == "queued"


def test_transcode_command_queues_every_readable_file(scanned, runner):
    result = runner.invoke(args=["transcode", "--all"])
    assert result.exit_code == 0 and "queued 2 transcode job(s)" in result.output
    assert Queue(scanned.config["RQ_QUEUE"], connection=scanned.redis).count == 2
    assert runner.invoke(args=["transcode"]).exit_code != 0


def test_unreadable_file_cannot_be_transcoded(scanned, auth_client):
    response = auth_client.post("/api/media-files/3/transcode")
    assert response.status_code == 409 and "could not be read" in response.json["message"]


def test_playback_decides_direct_play_or_queues_a_ladder(scanned, auth_client):
    ids = {i["path"]: i["id"] for i in auth_client.get("/api/library/media-files").json["items"]}
    direct = auth_client.get(f"/api/media-files/{ids['a/rabbit320.mp4']}/playback")  # H.264/AAC MP4: the file itself
    assert direct.status_code == 200 and (direct.json["method"], direct.json["kind"]) == ("direct", "file")
    assert direct.json["url"].endswith("/rabbit320.mp4") and direct.json["reasons"] == []
    wavpack = auth_client.get(f"/api/media-files/{ids['b/silence.wv']}/playback")  # an HLS ladder, queued on first ask
    assert wavpack.status_code == 409 and wavpack.json["method"] == "transcode" and wavpack.json["status"] == "queued"
    assert wavpack.json["reasons"] == ["audio codec wavpack in container wv is not one a browser plays"]
    assert Queue(scanned.config["RQ_QUEUE"], connection=scanned.redis).count == 1
    again = auth_client.get(f"/api/media-files/{ids['b/silence.wv']}/playback")
    assert again.json["transcode"]["id"] == wavpack.json["transcode"]["id"]  # the same job, not a second one
    broken = auth_client.get(f"/api/media-files/{ids['c/broken.mp4']}/playback")
    assert broken.status_code == 409 and broken.json["status"] == "unreadable" and broken.json["error"]


@pytest.mark.parametrize("url,status", [
    ("/api/media-files/999", 404),
    ("/api/media-files/999/playback", 404),
    ("/api/library/media-files?page=0", 400),
    ("/api/library/media-files?per_page=abc", 400),
    ("/api/library/media-files?per_page=100000", 400),
    ("/api/no-such-route", 404),
])
def test_bad_requests_get_json_errors(scanned, auth_client, url, status):
    response = auth_client.get(url)
    assert response.status_code == status
    assert response.is_json and response.json["message"]


def test_wrong_method_is_a_json_error(auth_client):
    response = auth_client.get("/api/media-files/1/transcode")
    assert response.status_code == 405 and response.is_json


def test_redis_down_is_503_not_500(tmp_path, runner, user, client):
    from mediaserver import create_app
    from tests.helpers import PASSWORD, app_config

    app = create_app(app_config(tmp_path / "other", REDIS_URL="redis://127.0.0.1:1/0"))
    make_library(tmp_path / "l2", {"x.mp4": "video/rabbit320.mp4"})
    app.test_cli_runner().invoke(args=["scan", str(tmp_path / "l2")])
    app.test_cli_runner().invoke(args=["users", "create", "bob", "--password", PASSWORD])
    app.test_cli_runner().invoke(args=["users", "set", "bob", "--transcode"])  # may queue without being an admin
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    response = c.post("/api/media-files/1/transcode")
    assert response.status_code == 503 and "Redis" in response.json["message"]
    assert c.get("/api/media-files/1").json["transcode"]["status"] == "none"


def test_a_job_whose_worker_died_does_not_block_a_new_one(scanned, auth_client):
    from mediaserver.db import get_db
    from mediaserver.models import TranscodeJob

    with scanned.app_context():
        db = get_db()
        db.add(TranscodeJob(media_file_id=1, rq_job_id="transcode-lost", status="running", progress=42.0))
        db.commit()
    hls = os.path.join(scanned.config["DATA_DIR"], "hls", ".tmp-1-killed")
    os.makedirs(hls)
    response = auth_client.post("/api/media-files/1/transcode")
    assert response.status_code == 202 and response.json["job_id"] != "transcode-lost"
    with scanned.app_context():  # the dead job itself is re-queued as its next attempt, under a new RQ job
        (lost,) = get_db().scalars(select(TranscodeJob)).all()
        assert (lost.status, lost.rq_job_id) == ("queued", response.json["job_id"])
        assert "worker died mid-job" in lost.error
    run_worker(scanned)
    item = auth_client.get("/api/media-files/1").json
    assert item["transcode"]["status"] == "succeeded" and item["transcode"]["playable"]
    assert not os.path.exists(hls)

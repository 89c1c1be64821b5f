"""Rescans that change the catalog: changed sources, vanished folders, odd names, Redis down."""
import os
import shutil

import pytest
from rq import Queue
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.db import get_db
from mediaserver.models import MediaFile
from tests.helpers import PASSWORD, app_config, clip, link_clip, make_library, media_id, run_worker


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    (root / "Films").mkdir(parents=True)
    shutil.copy(clip("video/rabbit320.mp4"), root / "Films" / "rabbit320.mp4")
    shutil.copy(clip("audio/bear.opus"), root / "Films" / "bear.opus")
    return root


@pytest.fixture
def lib_app(tmp_path, library, redis_db):
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], AUTO_TRANSCODE_DEFAULT=True))
    app.test_cli_runner().invoke(args=["users", "create", "alice", "--password", PASSWORD, "--admin"])
    return app


def last_line(result):
    return result.output.strip().splitlines()[-1]


def test_a_changed_source_drops_its_old_ladder_and_is_queued_again(lib_app, library):
    runner = lib_app.test_cli_runner()
    runner.invoke(args=["scan"])
    run_worker(lib_app)
    client = lib_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    rabbit = f"/api/media-files/{media_id(lib_app, 'Films/rabbit320.mp4')}"
    item = client.get(rabbit).json
    assert item["transcode"]["playable"]
    hls = os.path.join(lib_app.config["DATA_DIR"], "hls")
    assert len(os.listdir(hls)) == 1  # rabbit320's: bear.opus is played as it is, so it gets no ladder
    shutil.copy(clip("video/friday.mp4"), library / "Films" / "rabbit320.mp4")  # replaced by another film
    result = runner.invoke(args=["scan"])
    assert last_line(result) == "added 0, updated 1, unchanged 1, removed 0, failed 0"
    item = client.get(rabbit).json
    assert not item["transcode"]["playable"] and item["transcode"]["status"] == "queued"
    video = next(s for s in item["streams"] if s["type"] == "video")
    assert item["duration_ms"] == 6166 and (video["width"], video["height"]) == (640, 480)  # friday.mp4 now
    assert not os.listdir(hls)  # the old ladder of the changed file is gone
    assert client.get(rabbit + "/playback").json["method"] == "direct"  # friday.mp4 plays as it is meanwhile
    run_worker(lib_app)
    assert client.get(rabbit).json["transcode"]["playable"]


def test_an_emptied_root_keeps_the_catalog(lib_app, library, tmp_path):
    runner = lib_app.test_cli_runner()
    runner.invoke(args=["scan"])
    shutil.move(library / "Films", tmp_path / "elsewhere")  # e.g. the disk was unmounted
    result = runner.invoke(args=["scan"])
    assert result.exit_code == 0
    assert last_line(result) == "added 0, updated 0, unchanged 0, removed 0, failed 0"
    assert "holds no media file any more" in result.output
    with lib_app.app_context():
        assert len(get_db().scalars(select(MediaFile)).all()) == 2


def test_one_vanished_file_is_removed(lib_app, library):
    runner = lib_app.test_cli_runner()
    runner.invoke(args=["scan"])
    (library / "Films" / "bear.opus").unlink()
    assert last_line(runner.invoke(args=["scan"])) == "added 0, updated 0, unchanged 1, removed 1, failed 0"


def test_a_name_that_is_not_utf8_is_skipped_with_a_warning(lib_app, library):
    link_clip("audio/bear.flac", os.fsencode(library) + b"/caf\xe9.flac")
    result = lib_app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0
    assert "warning: cannot read" in result.output and "caf" in result.output
    assert last_line(result) == "added 2, updated 0, unchanged 0, removed 0, failed 0"


def test_scan_with_redis_down_still_reports_and_exits_0(tmp_path, library):
    app = create_app(app_config(tmp_path / "x", LIBRARY_ROOTS=[str(library)], AUTO_TRANSCODE_DEFAULT=True,
                                REDIS_URL="redis://127.0.0.1:1/0"))
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0
    assert "warning: nothing more queued for transcoding: the job queue (Redis) is unreachable" in result.output
    assert last_line(result) == "added 2, updated 0, unchanged 0, removed 0, failed 0"


def test_auto_transcode_off_queues_nothing(lib_app):
    client = lib_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    client.post("/admin/settings", data={"settings_form": "1"})  # unchecked box: off
    lib_app.test_cli_runner().invoke(args=["scan"])
    assert Queue(lib_app.config["RQ_QUEUE"], connection=lib_app.redis).count == 0
    client.post("/admin/settings", data={"settings_form": "1", "auto_transcode": "on"})
    for name in ("bear.opus", "rabbit320.mp4"):  # both changed: rescanned
        os.utime(os.path.join(lib_app.config["LIBRARY_ROOTS"][0], "Films", name), (1_000_000, 1_000_000))
    result = lib_app.test_cli_runner().invoke(args=["scan"])
    assert "updated 2" in last_line(result) and "queued 1 transcode job(s)" in result.output
    queue = Queue(lib_app.config["RQ_QUEUE"], connection=lib_app.redis)
    assert [job.description for job in queue.jobs] == ["HLS ladder for Films/rabbit320.mp4"]  # not the Opus file


def test_a_moved_and_renamed_file_keeps_its_id_and_ladder_without_a_probe(lib_app, library):
    runner = lib_app.test_cli_runner()
    runner.invoke(args=["scan"])
    run_worker(lib_app)
    rabbit_id = media_id(lib_app, "Films/rabbit320.mp4")
    with lib_app.app_context():
        ladder = get_db().get(MediaFile, rabbit_id).ready_job.output_dir
    (library / "Archive" / "2008").mkdir(parents=True)
    os.rename(library / "Films" / "rabbit320.mp4", library / "Archive" / "2008" / "Big Buck Bunny.mp4")
    result = runner.invoke(args=["scan"])
    assert last_line(result) == "added 0, updated 1, unchanged 1, removed 0, failed 0"
    assert "moved or renamed: 1" in result.output
    assert media_id(lib_app, "Archive/2008/Big Buck Bunny.mp4") == rabbit_id
    with lib_app.app_context():
        media = get_db().get(MediaFile, rabbit_id)
        assert media.ready_job.output_dir == ladder and media.streams
    assert os.path.isdir(os.path.join(lib_app.config["DATA_DIR"], "hls", ladder))
    assert last_line(runner.invoke(args=["scan"])) == "added 0, updated 0, unchanged 2, removed 0, failed 0"


def test_admin_starts_a_scan_and_follows_its_progress(lib_app):
    client = lib_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    response = client.post("/api/admin/scans")
    assert response.status_code == 202 and response.json["status"] == "queued"
    scan_id = response.json["scan_id"]
    assert client.post("/api/admin/scans").json["scan_id"] == scan_id  # one at a time
    assert client.get(f"/api/admin/scans/{scan_id}").json["status"] == "queued"
    from rq import SimpleWorker

    with lib_app.app_context():
        SimpleWorker([lib_app.scan_queue], connection=lib_app.redis).work(burst=True)
    assert client.post("/api/admin/scans").json["scan_id"] != scan_id  # the finished one is not reused
    run = client.get(f"/api/admin/scans/{scan_id}").json
    assert (run["status"], run["done"], run["total"]) == ("done", 2, 2)
    assert run["summary"] == "added 2, updated 0, unchanged 0, removed 0, failed 0"
    assert any(m.startswith("catalog:") for m in run["messages"])
    assert client.get("/api/library/media-files").json["total"] == 2
    assert client.get("/api/admin/scans/999").status_code == 404


def test_settings_store_library_folders_and_the_tmdb_key(lib_app, library, tmp_path):
    client = lib_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    other = tmp_path / "other"
    other.mkdir()
    client.post("/admin/settings", data={"library_roots": f"{library}\n{other}\n", "auto_transcode": "on"})
    page = client.get("/admin/settings").data.decode()
    assert str(other) in page and "none yet" in page
    response = client.post("/admin/settings", data={"library_roots": "/no/such/folder"}, follow_redirects=True)
    assert b"Not saved: /no/such/folder is not a folder" in response.data
    assert str(other) in client.get("/admin/settings").data.decode()  # nothing lost
    client.post("/admin/settings", data={"library_roots": str(library), "tmdb_api_key": "0123456789abcdef0123456789abcdef"})
    assert b"a key is set" in client.get("/admin/settings").data
    response = client.post("/admin/settings", data={"library_roots": str(other), "tmdb_api_key": "nonsense"},
                           follow_redirects=True)
    assert b"Not saved" in response.data and b"a key is set" in response.data
    assert f">{library}</textarea>" in client.get("/admin/settings").data.decode()  # the folders were not saved
    client.post("/admin/settings", data={"settings_form": "1", "library_roots": ""})
    assert f">{library}</textarea>" in client.get("/admin/settings").data.decode()  # MEDIASERVER_LIBRARY again


def test_a_scan_row_whose_job_is_gone_does_not_block_new_scans(lib_app):
    client = lib_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    first = client.post("/api/admin/scans").json["scan_id"]
    lib_app.redis.flushdb()  # the job is lost (Redis restarted without persistence)
    second = client.post("/api/admin/scans").json["scan_id"]
    assert second != first
    assert client.get(f"/api/admin/scans/{first}").json["status"] == "failed"


def test_removing_a_library_folder_in_settings_removes_its_files_and_ladders(lib_app, library, tmp_path):
    other = make_library(tmp_path / "other", {"Films/crystal.mp4": "video/crystal.mp4"})
    client = lib_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    client.post("/admin/settings", data={"settings_form": "1", "library_roots": f"{library}\n{other}",
                                         "auto_transcode": "on"})
    lib_app.test_cli_runner().invoke(args=["scan"])
    run_worker(lib_app)
    assert client.get("/api/library/media-files").json["total"] == 3
    hls = os.path.join(lib_app.config["DATA_DIR"], "hls")
    assert len(os.listdir(hls)) == 2  # the films' (bear.opus is played as it is)
    response = client.post("/admin/settings", data={"settings_form": "1", "library_roots": str(library),
                                                    "auto_transcode": "on"}, follow_redirects=True)
    assert b"1 file(s) of the removed folder(s) left the catalog" in response.data
    assert [i["path"] for i in client.get("/api/library/media-files").json["items"]] == [
        "Films/bear.opus", "Films/rabbit320.mp4"]
    assert len(os.listdir(hls)) == 1 and (other / "Films" / "crystal.mp4").exists()
    assert client.get("/api/library/movies?q=crystal").json["total"] == 0

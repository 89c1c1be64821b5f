"""Files outside the library (issue 13): a symlink in a library folder that leads out of it is recorded
as failed with the reason and never read (no probe, no transcode, no HLS, no frame, no subtitle); a
file that becomes such a link later loses its ladder; a symlink that stays inside still plays; `/`,
system folders and relative paths are refused as library folders (CLI, Settings); ffprobe's reasons
carry no memory addresses. Real ffprobe and ffmpeg, a real RQ worker."""
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from mediaserver import create_app, tokens
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import MediaFile, Setting, Subtitle, TranscodeJob
from mediaserver.web import playback as playback_routes
from tests.helpers import PASSWORD, app_config, clip, link_clip, logging_ffprobe, media_id, run_worker

LEAK = "Movies/Leak (2001).mp4"  # H.264/AAC MP4 outside: it would be played directly
LEAK_HLS = "Movies/Leak Two (2002).mp4"  # HEVC outside: it would get an HLS ladder
ALIAS = "Movies/Alias (2003).mp4"  # a symlink to a file inside the library
CLIP = "Movies/Clip (2004).mp4"  # HEVC inside (an HLS ladder), with a sidecar subtitle that leads out
FRIDAY = "Movies/Friday (2012)/Friday (2012).mp4"  # inside, direct play, with a sidecar that leads out
SECRET = b"top secret"
OUTSIDE_LIBRARY = "links outside the library folder"  # the reason recorded (issue 13)


@pytest.fixture
def counting_ffprobe(tmp_path):
    """An `ffprobe` that logs the arguments of every run, then runs the real one."""
    return logging_ffprobe(tmp_path)


@pytest.fixture
def world(tmp_path, counting_ffprobe, redis_db):
    """A library of real files and symlinks, an outside folder they lead to, an app, an admin."""
    lib, outside = tmp_path / "lib", tmp_path / "outside"
    (lib / "Movies" / "Friday (2012)").mkdir(parents=True)
    (lib / "Extras").mkdir()
    outside.mkdir()
    shutil.copyfile(clip("video/rabbit320.mp4"), outside / "rabbit.mp4")
    shutil.copyfile(clip("video/h265_bframes.mp4"), outside / "hevc.mp4")
    (outside / "private.srt").write_text("1\n00:00:00,000 --> 00:00:01,000\ntop secret\n")
    os.symlink(outside / "rabbit.mp4", lib / LEAK)
    os.symlink(outside / "hevc.mp4", lib / LEAK_HLS)
    link_clip("video/flower.mp4", lib / "Extras" / "flower.mp4")
    os.symlink("../Extras/flower.mp4", lib / ALIAS)  # relative, and it stays inside
    link_clip("video/h265_bframes.mp4", lib / CLIP)
    os.symlink(outside / "private.srt", lib / CLIP.replace(".mp4", ".en.srt"))
    link_clip("video/friday.mp4", lib / FRIDAY)
    os.symlink(outside / "private.srt", lib / FRIDAY.replace(".mp4", ".en.srt"))
    link_clip("subtitles/friday.vtt", lib / FRIDAY.replace(".mp4", ".fr.vtt"))
    shim, ffprobe_log = counting_ffprobe
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(lib)], FFPROBE=str(shim)))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return {"app": app, "lib": lib, "outside": outside, "client": client, "ffprobe_log": ffprobe_log}


def scan(app, *paths):
    return app.test_cli_runner().invoke(args=["scan", *paths])


def stream_token(app, media):
    """A valid stream token of alice's for `media`, as /playback would hand out."""
    return tokens.issue(app.config["SECRET_KEY"], 1, media, 600, time.time())[0]


def row(app, rel):
    with app.app_context():
        media = get_db().scalar(select(MediaFile).where(MediaFile.path == rel))
        return {"status": media.status, "error": media.error, "subtitles": [s.path for s in media.subtitles],
                "streams": len(media.streams)}


def ladder_files(app) -> dict[str, bytes]:
    """Every file under the data dir's HLS root and subtitle cache: {path: bytes}."""
    found = {}
    for folder in ("hls", "subtitles"):
        for path in (Path(app.config["DATA_DIR"]) / folder).rglob("*"):
            if path.is_file():
                found[str(path)] = path.read_bytes()
    return found


def test_a_symlink_leading_out_is_recorded_failed_never_probed_and_the_scan_goes_on(world):
    app = world["app"]
    result = scan(app)
    assert result.exit_code == 0, result.output
    assert f"failed: {LEAK}: {OUTSIDE_LIBRARY}" in result.output
    assert f"failed: {LEAK_HLS}: {OUTSIDE_LIBRARY}" in result.output
    assert result.output.strip().splitlines()[-1] == "added 4, updated 0, unchanged 0, removed 0, failed 2"
    for rel in (LEAK, LEAK_HLS):
        assert row(app, rel) == {"status": "failed", "error": OUTSIDE_LIBRARY, "subtitles": [],
                                 "streams": 0}
    assert row(app, ALIAS)["status"] == row(app, CLIP)["status"] == "ok"
    probed = world["ffprobe_log"]()
    assert "Leak" not in probed and str(world["outside"]) not in probed and "Clip (2004).mp4" in probed
    again = scan(app)
    assert again.output.strip().splitlines()[-1] == "added 0, updated 0, unchanged 6, removed 0, failed 0"
    assert "Leak" not in world["ffprobe_log"]() and row(app, LEAK)["error"] == OUTSIDE_LIBRARY


def test_a_file_leading_out_is_not_transcoded_served_or_pictured(world):
    app, client = world["app"], world["client"]
    scan(app)
    for rel in (LEAK, LEAK_HLS):
        mid = media_id(app, rel)
        playback = client.get(f"/api/media-files/{mid}/playback")
        assert playback.status_code == 409 and playback.json["status"] == "unreadable"
        assert playback.json["error"] == OUTSIDE_LIBRARY and OUTSIDE_LIBRARY in playback.json["message"]
        client.post(f"/api/media-files/{mid}/transcode")  # refused (409): nothing to queue
        run_worker(app)
        token = stream_token(app, mid)
        for url in (f"/hls/{mid}/{token}/master.m3u8", f"/media/{mid}/{token}/{os.path.basename(rel)}",
                    f"/api/media-files/{mid}/frame.jpg"):
            response = client.get(url)
            assert response.status_code == 404 and response.is_json and response.json["message"], url
    with app.app_context():
        assert get_db().scalars(select(TranscodeJob)).all() == []
    assert not any(SECRET in data for data in ladder_files(app).values())


def test_a_file_that_becomes_a_link_leading_out_loses_its_ladder_and_is_failed_by_the_next_scan(world, monkeypatch):
    app, client, lib = world["app"], world["client"], world["lib"]
    monkeypatch.setattr(playback_routes, "SERVED_FOLDER_TTL_S", 0.0)  # each request looks the ladder up afresh
    scan(app)
    mid = media_id(app, CLIP)
    assert client.post(f"/api/media-files/{mid}/transcode").status_code == 202
    run_worker(app)
    playback = client.get(f"/api/media-files/{mid}/playback").json
    master = urlsplit(playback["url"]).path
    assert playback["kind"] == "hls" and client.get(master).status_code == 200
    assert client.get(f"/api/media-files/{mid}/frame.jpg").status_code == 200
    hls = Path(app.config["DATA_DIR"]) / "hls"
    assert len(list(hls.iterdir())) == 1
    (lib / CLIP).unlink()
    os.symlink(world["outside"] / "hevc.mp4", lib / CLIP)  # swapped for a link leading out, before a rescan
    assert client.get(master).status_code == 404  # the old ladder is no longer served
    refused = client.get(f"/api/media-files/{mid}/playback")
    assert refused.status_code == 409 and refused.json["error"] == OUTSIDE_LIBRARY
    assert client.get(f"/api/media-files/{mid}/frame.jpg").status_code == 404  # the frame made earlier neither
    assert client.post(f"/api/media-files/{mid}/transcode").status_code == 202  # the row says ok until a rescan
    run_worker(app)
    with app.app_context():
        job = get_db().scalars(select(TranscodeJob).order_by(TranscodeJob.id.desc())).first()
        assert (job.status, job.error, job.output_dir) == ("failed", OUTSIDE_LIBRARY, None)

    result = scan(app)
    assert f"failed: {CLIP}: {OUTSIDE_LIBRARY}" in result.output
    assert row(app, CLIP)["status"] == "failed" and row(app, CLIP)["error"] == OUTSIDE_LIBRARY
    assert list(hls.iterdir()) == []  # its ladder is deleted


def test_a_sidecar_subtitle_leading_out_is_neither_linked_nor_served(world):
    app, client = world["app"], world["client"]
    scan(app)
    assert row(app, CLIP)["subtitles"] == []
    assert row(app, FRIDAY)["subtitles"] == [FRIDAY.replace(".mp4", ".fr.vtt")]
    mid = media_id(app, CLIP)
    client.post(f"/api/media-files/{mid}/transcode")
    run_worker(app)
    playback = client.get(f"/api/media-files/{mid}/playback").json
    base = urlsplit(playback["url"]).path.rsplit("/", 1)[0]
    assert playback["kind"] == "hls" and playback["subtitles"] == []
    assert "SUBTITLES" not in client.get(f"{base}/master.m3u8").text
    assert not any(SECRET in data for data in ladder_files(app).values())

    # A sidecar that was inside at the scan and became a link leading out: left out from then on.
    friday = media_id(app, FRIDAY)
    body = client.get(f"/api/media-files/{friday}/playback").json
    (subtitle,) = body["subtitles"]
    vtt = urlsplit(subtitle["url"]).path
    assert client.get(vtt).status_code == 200
    sidecar = world["lib"] / FRIDAY.replace(".mp4", ".fr.vtt")
    sidecar.unlink()
    os.symlink(world["outside"] / "private.srt", sidecar)
    assert client.get(f"/api/media-files/{friday}/playback").json["subtitles"] == []
    response = client.get(vtt)
    assert response.status_code == 404 and SECRET not in response.data


def test_a_sidecar_row_leading_out_is_left_out_of_a_new_ladder(world):
    """A subtitle row whose file has become a link leading out (made after the scan): the transcode
    converts the title without it, and nothing of the file outside reaches the ladder."""
    app, client = world["app"], world["client"]
    scan(app)
    mid = media_id(app, CLIP)
    with app.app_context():
        db = get_db()
        db.add(Subtitle(media_file_id=mid, path=CLIP.replace(".mp4", ".en.srt"), language="eng", format="srt",
                        forced=False, sdh=False))
        db.commit()
    client.post(f"/api/media-files/{mid}/transcode")
    run_worker(app)
    playback = client.get(f"/api/media-files/{mid}/playback").json
    assert playback["kind"] == "hls" and playback["subtitles"] == []
    base = urlsplit(playback["url"]).path.rsplit("/", 1)[0]
    assert "SUBTITLES" not in client.get(f"{base}/master.m3u8").text
    assert not any(SECRET in data for data in ladder_files(app).values())


def test_a_symlink_that_stays_inside_the_library_still_plays(world):
    app, client = world["app"], world["client"]
    scan(app)
    mid = media_id(app, ALIAS)
    assert row(app, ALIAS)["status"] == "ok"
    body = client.get(f"/api/media-files/{mid}/playback").json
    assert (body["method"], body["kind"]) == ("direct", "file")
    part = world["app"].test_client().get(urlsplit(body["url"]).path, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == clip("video/flower.mp4").read_bytes()[:100]
    frame = client.get(f"/api/media-files/{mid}/frame.jpg")
    assert frame.status_code == 200 and frame.data[:2] == b"\xff\xd8"


def test_a_path_given_to_scan_that_leads_out_of_its_library_folder_is_refused(world):
    os.symlink(world["outside"], world["lib"] / "Elsewhere")
    result = scan(world["app"], str(world["lib"] / "Elsewhere"))
    assert result.exit_code == 1
    assert f"{world['lib'] / 'Elsewhere'} leads outside the library folder {world['lib']}" in result.output
    with world["app"].app_context():
        assert get_db().scalars(select(MediaFile)).all() == []


@pytest.mark.parametrize("path,words", [
    ("/", "/ cannot be a library folder"),
    ("/etc", "/etc cannot be a library folder: /etc is a system folder"),
    ("/proc/self/fdinfo", "/proc is a system folder"),
    ("Movies", "'Movies' is a relative path: give it as an absolute path"),
])
def test_scan_refuses_system_folders_and_relative_paths_with_a_sentence(world, monkeypatch, path, words):
    monkeypatch.chdir(world["lib"])
    result = scan(world["app"], path)
    assert result.exit_code == 1 and result.output.startswith("Error: ") and words in result.output
    assert "Traceback" not in result.output
    with world["app"].app_context():
        assert get_db().scalars(select(MediaFile)).all() == []


def test_a_stored_library_folder_that_is_now_refused_stops_the_scan_with_a_sentence(world):
    with world["app"].app_context():
        db = get_db()
        db.add(Setting(key="library_roots", value='["/etc"]'))  # stored before such folders were refused
        db.commit()
    result = scan(world["app"])
    assert result.exit_code == 1 and "/etc cannot be a library folder" in result.output


@pytest.mark.parametrize("folder,words", [
    ("/", "Not saved: / cannot be a library folder"),
    ("/etc", "Not saved: /etc cannot be a library folder: /etc is a system folder"),
    ("/sys/kernel", "/sys is a system folder"),
    ("lib", "Not saved: &#39;lib&#39; is a relative path"),
])
def test_settings_refuse_system_folders_and_relative_paths_and_keep_the_folders(world, folder, words):
    client, lib = world["client"], world["lib"]
    response = client.post("/admin/settings", data={"settings_form": "1", "library_roots": f"{lib}\n{folder}"},
                           follow_redirects=True)
    assert response.status_code == 200 and words in response.data.decode()
    assert f">{lib}</textarea>" in client.get("/admin/settings").data.decode()  # nothing saved
    with world["app"].app_context():
        assert get_db().get(Setting, "library_roots") is None


def test_ffprobes_reasons_carry_no_memory_address(world, tmp_path):
    app, client = world["app"], world["client"]
    link_clip("broken/sample_malformed_free_box.mp4", world["lib"] / "broken.mp4")
    result = scan(app)
    assert "failed: broken.mp4: [mov,mp4,m4a,3gp,3g2,mj2] moov atom not found" in result.output
    assert " @ 0x" not in result.output
    mid = media_id(app, "broken.mp4")
    error = client.get(f"/api/media-files/{mid}").json["error"]
    assert error.startswith("[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found\n")
    assert "Invalid data found when processing input" in error and " @ 0x" not in error
    message = client.get(f"/api/media-files/{mid}/playback").json["message"]
    assert "moov atom not found" in message and " @ 0x" not in message

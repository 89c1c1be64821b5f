"""`flask scan` on the real clips in ../shared/media, with real ffprobe processes (counted)."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mediaserver import create_app
from mediaserver.db import get_db
from mediaserver.models import MediaFile
from tests.helpers import MEDIA, app_config, clip, logging_ffprobe


@pytest.fixture
def counting_ffprobe(tmp_path):
    """An `ffprobe` that appends one line to a log per process, then runs the real one: (its path, the
    number of runs so far)."""
    shim, calls = logging_ffprobe(tmp_path)
    return shim, lambda: len(calls().splitlines())


@pytest.fixture
def scan_app(tmp_path, counting_ffprobe, redis_db):
    shim, _ = counting_ffprobe
    return create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(MEDIA)], FFPROBE=str(shim)))


def media_files(app):
    with app.app_context():
        return {m.path: m for m in get_db().scalars(select(MediaFile).options(selectinload(MediaFile.streams)))}


def independent_probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, check=True).stdout
    return json.loads(out)


def test_scan_catalogs_every_clip_with_ffprobes_facts(scan_app, counting_ffprobe):
    _, calls = counting_ffprobe
    result = scan_app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    files = media_files(scan_app)
    media_on_disk = [p for p in MEDIA.rglob("*") if p.is_file() and p.suffix not in (".md", ".srt", ".vtt")]
    assert len(files) == len(media_on_disk) == calls()
    assert result.output.strip().splitlines()[-1] == f"added {len(files) - 1}, updated 0, unchanged 0, removed 0, failed 1"
    for rel, media in files.items():
        assert media.root == str(MEDIA) and media.size == os.path.getsize(MEDIA / rel)
        if media.status == "failed":
            continue
        truth = independent_probe(MEDIA / rel)
        assert media.container == truth["format"]["format_name"]
        assert media.duration_ms == round(float(truth["format"]["duration"]) * 1000)
        assert [(s.index, s.type, s.codec) for s in media.streams] == \
               [(s["index"], s["codec_type"], s.get("codec_name")) for s in truth["streams"]]
        for stored, real in zip(media.streams, truth["streams"]):
            assert (stored.width, stored.height) == (real.get("width"), real.get("height"))
            assert stored.channels == real.get("channels")
            tags = {k.lower(): v for k, v in (real.get("tags") or {}).items()}  # MKV writes LANGUAGE
            assert stored.language == tags.get("language")


def test_multitrack_mkv_keeps_languages_and_titles(scan_app):
    scan_app.test_cli_runner().invoke(args=["scan", str(clip("video/friday_multitrack.mkv"))])
    media = media_files(scan_app)["video/friday_multitrack.mkv"]
    audio = [(s.codec, s.language) for s in media.streams if s.type == "audio"]
    assert audio == [("aac", "eng"), ("mp3", "fra")]
    assert [s.codec for s in media.streams if s.type == "subtitle"] == ["subrip", "ass"]


def test_unreadable_file_is_recorded_with_ffprobes_reason_and_the_scan_goes_on(scan_app):
    result = scan_app.test_cli_runner().invoke(args=["scan", str(MEDIA / "broken"), str(MEDIA / "audio")])
    assert result.exit_code == 0
    assert "failed: broken/sample_malformed_free_box.mp4: " in result.output
    assert "Invalid data found when processing input" in result.output
    files = media_files(scan_app)
    broken = files["broken/sample_malformed_free_box.mp4"]
    assert broken.status == "failed"
    assert "Invalid data found when processing input" in broken.error
    assert files["audio/bear.flac"].status == "ok"
    assert files["broken/flower_truncated.mp4"].status == "ok"  # probes fine; decoding fails later


def test_rescan_starts_no_ffprobe(scan_app, counting_ffprobe):
    _, calls = counting_ffprobe
    runner = scan_app.test_cli_runner()
    runner.invoke(args=["scan"])
    first = calls()
    result = runner.invoke(args=["scan"])
    assert result.exit_code == 0
    assert calls() == first
    assert result.output.strip().splitlines()[-1] == f"added 0, updated 0, unchanged {first}, removed 0, failed 0"


def test_changed_and_vanished_files(tmp_path, counting_ffprobe, redis_db):
    shim, calls = counting_ffprobe
    library = tmp_path / "library"
    library.mkdir()
    for name in ("flower.mp4", "friday.mp4"):
        shutil.copy(clip(f"video/{name}"), library / name)
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], FFPROBE=str(shim)))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["scan"]).output.strip().endswith("added 2, updated 0, unchanged 0, removed 0, failed 0")
    os.utime(library / "flower.mp4", (1_000_000, 1_000_000))
    (library / "friday.mp4").unlink()
    before = calls()
    result = runner.invoke(args=["scan"])
    assert result.output.strip().endswith("added 0, updated 1, unchanged 0, removed 1, failed 0")
    assert calls() == before + 1
    assert list(media_files(app)) == ["flower.mp4"]


def test_missing_root_fails_with_a_message(scan_app):
    result = scan_app.test_cli_runner().invoke(args=["scan", "/no/such/folder"])
    assert result.exit_code != 0
    assert "/no/such/folder" in result.output


def test_library_variable_naming_a_missing_folder_is_a_clear_error(tmp_path):
    env = dict(os.environ, MEDIASERVER_LIBRARY="/no/such/library", MEDIASERVER_INSTANCE=str(tmp_path))
    proc = subprocess.run([sys.executable, "-m", "flask", "--app", "mediaserver", "scan"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0
    assert "MEDIASERVER_LIBRARY" in proc.stderr and "/no/such/library" in proc.stderr


def _children(pid: int) -> set[int]:
    """The pids of `pid`'s child processes (Linux /proc)."""
    found = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as fh:
            found.update(int(p) for p in fh.read().split())
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][0] != "Z"
    except FileNotFoundError:
        return False


def _scan_with_hanging_probes(tmp_path):
    """A `flask scan` subprocess (stderr piped) whose ffprobe hangs, once both of its probe processes
    run one: (the scan's Popen, the pool's pids, the hanging probes' pids)."""
    library = tmp_path / "library"
    library.mkdir()
    for i in range(4):
        os.link(clip("video/bbb_h264_aac_720p_30s.mp4"), library / f"film {i}.mp4")
    slow = tmp_path / "ffprobe-slow"
    slow.write_text("#!/bin/sh\nexec sleep 60\n")
    slow.chmod(0o755)
    env = dict(os.environ, MEDIASERVER_LIBRARY=str(library), MEDIASERVER_INSTANCE=str(tmp_path / "instance"),
               MEDIASERVER_FFPROBE=str(slow), MEDIASERVER_PROBE_WORKERS="2",
               DATABASE_URL=f"sqlite:///{tmp_path / 'scan.db'}", MEDIASERVER_AUTO_TRANSCODE="0")
    scan = subprocess.Popen([sys.executable, "-m", "flask", "--app", "mediaserver", "scan"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    pool, probes = set(), set()
    while (len(pool) < 2 or len(probes) < 2) and time.monotonic() < deadline:
        time.sleep(0.1)
        pool = _children(scan.pid)
        probes = set().union(set(), *(_children(p) for p in pool))
    if len(pool) < 2 or len(probes) < 2:
        scan.kill()
        pytest.fail(f"the scan never had two probe processes each running ffprobe ({pool}, {probes})")
    return scan, pool, probes


def _kill_all(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_scan_killed_outright_leaves_no_probe_process_behind(tmp_path):
    """The probe pool's processes die with the scan (PR_SET_PDEATHSIG), even when it is SIGKILLed."""
    scan, pool, probes = _scan_with_hanging_probes(tmp_path)
    scan.kill()
    scan.communicate()
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pool) and time.monotonic() < deadline:
        time.sleep(0.1)
    survivors = [p for p in pool if _alive(p)]
    _kill_all([*probes, *survivors])  # the hanging probes (and any survivor) are not left for a minute
    assert not survivors


def test_a_probe_process_killed_stops_the_scan_with_a_message(tmp_path):
    """A probe process that dies (killed, out of memory) ends the scan with exit status 1 and a
    sentence, not a traceback; the other probe process is not left behind."""
    scan, pool, probes = _scan_with_hanging_probes(tmp_path)
    try:
        os.kill(min(pool), signal.SIGKILL)
        _, stderr = scan.communicate(timeout=30)
    finally:
        scan.kill()
        _kill_all(probes)
    assert scan.returncode == 1
    assert "a probe process died" in stderr and "Traceback" not in stderr
    assert not [p for p in pool if _alive(p)]

"""Observability (issue 6): `/metrics` after real scans, jobs, requests, player reports and parties;
`/healthz` with each of its checks failing for real; JSON log lines with their structured fields.

Metrics are per process (tests build many apps in one), so counters are compared before and after;
the gauges read from the test's own database and Redis database are absolute.
"""
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
import socketio
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.serving import make_server

from mediaserver import create_app, logs
from mediaserver.db import get_db
from mediaserver.library.scan import run_library_scan
from mediaserver.models import MediaFile, TranscodeJob, utcnow
from mediaserver.transcode import jobs
from tests.helpers import (
    PASSWORD,
    PROJECT,
    TEST_REDIS_URL,
    app_config,
    csrf_session,
    make_library,
    media_id,
    run_worker,
)

FLOWER, BROKEN = "Movies/Flower.mp4", "Broken/bad.mp4"
HTTP_COUNT = "mediaserver_http_request_duration_seconds_count"


def parse(text: str) -> dict:
    """{(sample name, frozenset of labels): value} of an exposition."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    return parse(response.get_data(as_text=True))


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def grew(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def scan(app, library) -> None:
    result = app.test_cli_runner().invoke(args=["scan", str(library)])
    assert result.exit_code == 0, result.output


@pytest.fixture
def library(tmp_path):
    return make_library(tmp_path / "lib", {FLOWER: "video/flower.mp4", BROKEN: "broken/sample_malformed_free_box.mp4"})


@pytest.fixture
def party(app, auth_client, library):
    """A party on Flower made through the HTTP API (its host, alice, its one member): (code, id)."""
    scan(app, library)
    created = auth_client.post("/api/parties", json={"media_file_id": media_id(app, FLOWER)})
    assert created.status_code == 201
    return created.json["code"], created.json["id"]


def test_a_scan_counts_its_files_its_ffprobe_failures_and_its_duration(app, client, library):
    before = scrape(client)
    scan(app, library)
    after = scrape(client)
    assert grew(before, after, "mediaserver_scan_files_total", outcome="added") == 1
    assert grew(before, after, "mediaserver_scan_files_total", outcome="failed") == 1
    assert grew(before, after, "mediaserver_ffprobe_failures_total") == 1
    assert grew(before, after, "mediaserver_scan_duration_seconds_count") == 1
    assert grew(before, after, "mediaserver_scan_duration_seconds_sum") > 0
    (library / FLOWER).unlink()
    scan(app, library)
    again = scrape(client)
    assert grew(after, again, "mediaserver_scan_files_total", outcome="removed") == 1
    assert grew(after, again, "mediaserver_scan_files_total", outcome="unchanged") == 1
    assert grew(after, again, "mediaserver_ffprobe_failures_total") == 0  # an unchanged file is not probed again
    assert grew(after, again, "mediaserver_scan_duration_seconds_count") == 1


def test_request_latency_is_labelled_by_route_template_method_and_status_class(auth_client):
    before = scrape(auth_client)
    assert auth_client.get("/api/media-files/424242/playback").status_code == 404
    assert auth_client.get("/no/such/page/424242").status_code == 404
    assert auth_client.post("/api/auth/logout").status_code < 500
    after = scrape(auth_client)
    assert grew(before, after, HTTP_COUNT, route="/api/media-files/<int:media_id>/playback", method="GET",
                status="4xx") == 1
    assert grew(before, after, HTTP_COUNT, route="<unmatched>", method="GET", status="4xx") == 1
    assert grew(before, after, HTTP_COUNT, route="/metrics", method="GET", status="2xx") == 1  # the first scrape
    routes = {dict(labels).get("route") for name, labels in after if name == HTTP_COUNT}
    assert not any("424242" in route for route in routes)  # never a raw path


def test_player_errors_are_counted_by_kind_for_users_and_party_guests(app, auth_client, party):
    code, _ = party
    flower = media_id(app, FLOWER)
    before = scrape(auth_client)
    sent = auth_client.post("/api/playback-errors", json={"media_file_id": flower, "kind": "decode",
                                                          "message": "PIPELINE_ERROR_DECODE"})
    assert sent.status_code == 204
    bad = auth_client.post("/api/playback-errors", json={"media_file_id": flower, "kind": "spaceship"})
    assert bad.status_code == 400 and "network, media, decode, other" in bad.json["message"]
    assert auth_client.post("/api/playback-errors", json={"media_file_id": "1", "kind": "other"}).status_code == 400

    guest = app.test_client()
    assert guest.post("/api/playback-errors", json={"media_file_id": flower, "kind": "network"}).status_code == 401
    assert guest.post(f"/api/parties/{code}/join", json={"name": "Sam"}).status_code == 200  # its cookie
    report = {"media_file_id": flower, "kind": "network", "message": "manifestLoadError", "party": code}
    assert guest.post("/api/playback-errors", json=report).status_code == 204
    stranger = app.test_client()
    assert stranger.post("/api/playback-errors", json=report).status_code == 401  # the code alone is not enough
    assert stranger.post("/api/playback-errors", json={**report, "party": "nosuchcode"}).status_code == 404

    after = scrape(auth_client)
    assert grew(before, after, "mediaserver_playback_errors_total", kind="decode") == 1
    assert grew(before, after, "mediaserver_playback_errors_total", kind="network") == 1
    assert not any(dict(labels).get("kind") == "spaceship" for _name, labels in after)


def test_a_party_made_over_http_counts_as_active_with_its_member(app, auth_client, party):
    code, _ = party
    samples = scrape(auth_client)
    assert value(samples, "mediaserver_parties_active") == 1
    assert value(samples, "mediaserver_party_members", status="offline") == 1  # the host, not connected yet
    assert value(samples, "mediaserver_party_members", status="ready") == 0
    assert value(samples, "mediaserver_metrics_source_up", source="redis") == 1
    assert auth_client.post(f"/api/parties/{code}/end").status_code == 200
    samples = scrape(auth_client)
    assert value(samples, "mediaserver_parties_active") == 0
    assert value(samples, "mediaserver_party_members", status="offline") == 0


def test_drift_reports_over_socketio_fill_the_drift_histogram(app, party):
    code, _ = party
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{httpd.server_port}"
    sio = socketio.Client()
    try:
        http = csrf_session()
        assert http.post(url + "/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
        before = parse(http.get(url + "/metrics").text)
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
        sio.connect(url, namespaces=["/party"], transports=["websocket"], headers={"Cookie": cookie})
        assert sio.call("join", {"code": code}, namespace="/party", timeout=5)["ok"]
        for drift_ms in (120, 0, -3000):  # 0: the player measured nothing (paused): not an observation
            sio.call("report", {"drift_ms": drift_ms, "rtt_ms": 40}, namespace="/party", timeout=5)
        after = parse(http.get(url + "/metrics").text)
    finally:
        if sio.connected:
            ws = sio.eio.ws  # see test_party_socket.Peer.close: do not wait 3 s for a close frame
            if ws is not None:
                ws.close = functools.partial(ws.close, timeout=0.2)
            sio.disconnect()
        httpd.shutdown()
        thread.join(5)
    assert grew(before, after, "mediaserver_party_drift_seconds_count") == 2
    assert grew(before, after, "mediaserver_party_drift_seconds_sum") == pytest.approx(3.12)
    assert grew(before, after, "mediaserver_party_drift_seconds_bucket", le="0.1") == 0
    assert grew(before, after, "mediaserver_party_drift_seconds_bucket", le="0.25") == 1
    assert grew(before, after, "mediaserver_party_drift_seconds_bucket", le="5.0") == 2
    assert value(after, "mediaserver_party_members", status="loading") == 1  # the host, connected


def test_transcode_jobs_count_queue_depth_durations_and_failures_by_reason(app, auth_client, tmp_path):
    library = make_library(tmp_path / "lib", {"a/bear.flac": "audio/bear.flac",
                                              "b/truncated.mp4": "broken/flower_truncated.mp4"})
    marker, shim = tmp_path / "killed-once", tmp_path / "ffmpeg-killed-once"  # killed by a signal once
    shim.write_text(f'#!/bin/sh\nif [ ! -e "{marker}" ]; then touch "{marker}"; kill -9 $$; fi\n'
                    f'exec "{shutil.which("ffmpeg")}" "$@"\n')
    shim.chmod(0o755)
    app.config.update(FFMPEG=str(shim), TRANSCODE_RETRY_INTERVALS_S=(0, 0))
    scan(app, library)
    flac = media_id(app, "a/bear.flac")
    before = scrape(auth_client)
    for path in ("a/bear.flac", "b/truncated.mp4"):
        assert auth_client.post(f"/api/media-files/{media_id(app, path)}/transcode").status_code in (200, 202)
    queued = scrape(auth_client)
    assert value(queued, "mediaserver_transcode_queue_depth", status="queued") == 2
    assert value(queued, "mediaserver_transcode_queue_depth", status="running") == 0
    run_worker(app)
    after = scrape(auth_client)
    assert value(after, "mediaserver_transcode_queue_depth", status="queued") == 0
    duration = "mediaserver_transcode_job_duration_seconds_count"
    assert grew(before, after, duration, outcome="succeeded") == 1  # bear.flac, on its second attempt
    assert grew(before, after, duration, outcome="error") == 1  # its first: ffmpeg killed
    assert grew(before, after, duration, outcome="failed") == 1  # the truncated file
    failures = "mediaserver_transcode_failures_total"
    assert grew(before, after, failures, reason="transient") == 1
    assert grew(before, after, failures, reason="permanent") == 1
    assert grew(before, after, failures, reason="worker_died") == 0

    # A running job whose heartbeat went stale an hour ago: its worker died; recovery re-queues it.
    with app.app_context():
        db = get_db()
        stale = utcnow() - timedelta(hours=1)
        db.add(TranscodeJob(media_file_id=flac, rq_job_id="transcode-dead-worker", status="running", attempts=1,
                            started_at=stale, heartbeat_at=stale))
        db.commit()
        assert [j.status for j in jobs.recover_dead_jobs(db)] == ["queued"]
    recovered = scrape(auth_client)
    assert grew(after, recovered, failures, reason="worker_died") == 1
    assert value(recovered, "mediaserver_transcode_queue_depth", status="queued") == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_200_with_every_check(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"
    checks = response.json["checks"]
    assert set(checks) == {"database", "redis", "ffmpeg", "data_dir"}
    assert all(check["ok"] and isinstance(check["ms"], float) and "error" not in check for check in checks.values())
    assert client.get("/healthz").json["checks"]["ffmpeg"] == checks["ffmpeg"]  # cached for a few seconds
    assert not [n for n in os.listdir(client.application.config["DATA_DIR"]) if n.startswith(".healthz")]  # deleted


def test_healthz_is_503_when_the_data_dir_cannot_be_written(app, client):
    data_dir = app.config["DATA_DIR"]
    shutil.rmtree(data_dir)
    with open(data_dir, "w"):  # a file where the folder was
        pass
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "fail"
    check = response.json["checks"]["data_dir"]
    assert check["ok"] is False and f"cannot write to the data dir {data_dir}" in check["error"]
    assert all(c["ok"] for name, c in response.json["checks"].items() if name != "data_dir")


def test_healthz_is_503_when_ffmpeg_is_missing(tmp_path, redis_db):
    app = create_app(app_config(tmp_path, FFMPEG="/no/such/ffmpeg"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "fail"
    check = response.json["checks"]["ffmpeg"]
    assert check["ok"] is False and "MEDIASERVER_FFMPEG: '/no/such/ffmpeg' is not an executable" in check["error"]


def test_healthz_is_503_and_metrics_still_answer_when_redis_is_unreachable(tmp_path):
    app = create_app(app_config(tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"))
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "fail"
    check = response.json["checks"]["redis"]
    assert check["ok"] is False and "refused" in check["error"].lower()
    assert response.json["checks"]["database"]["ok"] is True
    samples = scrape(client)  # what can be read still is
    assert value(samples, "mediaserver_metrics_source_up", source="redis") == 0
    assert value(samples, "mediaserver_metrics_source_up", source="database") == 1
    assert ("mediaserver_parties_active", frozenset()) not in samples
    assert value(samples, "mediaserver_transcode_queue_depth", status="queued") == 0


def test_json_log_lines_carry_the_scan_and_job_fields(tmp_path, redis_db, capsys):
    library = make_library(tmp_path / "lib", {"bear.flac": "audio/bear.flac"})
    app = create_app(app_config(tmp_path, LOG_FORMAT="json"))
    try:
        capsys.readouterr()
        with app.app_context():
            db = get_db()
            run_library_scan(db, [str(library)])
            (bear,) = db.query(MediaFile).all()
            jobs.enqueue(db, bear)
        run_worker(app)
        err = capsys.readouterr().err
    finally:
        logs.setup("text")
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is one JSON object
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    (scanned,) = [line for line in lines if line["logger"] == "mediaserver.scan"]
    assert scanned["message"] == "scan finished: added 1, updated 0, unchanged 0, removed 0, failed 0"
    assert (scanned["scan_id"], scanned["added"], scanned["failed"]) == (None, 1, 0)
    assert isinstance(scanned["duration_s"], float) and scanned["level"] == "INFO"
    (done,) = [line for line in lines if line.get("outcome") == "succeeded"]
    assert done["logger"] == "mediaserver.transcode"
    assert (done["media_id"], done["attempt"]) == (1, 1) and isinstance(done["job_id"], int)
    assert done["duration_s"] > 0


def test_multiprocess_mode_sums_every_process_including_forked_ones(tmp_path):
    """PROMETHEUS_MULTIPROC_DIR: a process and its forked child (a work horse) count; another process serves."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "MEDIASERVER_TEST_REDIS_URL": TEST_REDIS_URL}
    worker = ("import os\n"
              "from mediaserver import metrics\n"
              "pid = os.fork()\n"
              "if pid == 0:\n"
              "    metrics.PLAYBACK_ERRORS.labels('network').inc(); os._exit(0)\n"
              "os.waitpid(pid, 0)\n"
              "metrics.PLAYBACK_ERRORS.labels('network').inc()\n"
              "metrics.SCAN_DURATION.observe(2.0)\n")
    subprocess.run([sys.executable, "-c", worker], cwd=PROJECT, env=env, check=True, timeout=60)
    web = ("import pathlib, sys\n"
           "from mediaserver import create_app\n"
           "from tests.helpers import app_config\n"
           f"app = create_app(app_config(pathlib.Path({str(tmp_path / 'web')!r})))\n"
           "sys.stdout.write(app.test_client().get('/metrics').get_data(as_text=True))\n")
    out = subprocess.run([sys.executable, "-c", web], cwd=PROJECT, env=env, check=True, timeout=60,
                         capture_output=True, text=True).stdout
    samples = parse(out)
    assert value(samples, "mediaserver_playback_errors_total", kind="network") == 2
    assert value(samples, "mediaserver_scan_duration_seconds_count") == 1
    assert value(samples, "mediaserver_metrics_source_up", source="database") == 1
    assert not any(name.startswith("process_") for name, _ in samples)  # per-process collectors are left out

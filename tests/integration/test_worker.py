"""The real worker processes: `python worker.py --burst` and plain `rq worker`, forking a
work-horse per job, configured only through the environment like in production."""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.db import get_db
from mediaserver.models import TranscodeJob, utcnow
from tests.helpers import PROJECT, TEST_REDIS_URL, app_config, make_library

BIN = Path(sys.executable).parent


@pytest.fixture
def queued_app(tmp_path, redis_db):
    library = make_library(tmp_path / "lib", {"rabbit320.mp4": "video/rabbit320.mp4"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], AUTO_TRANSCODE_DEFAULT=True))
    assert "queued 1 transcode job" in app.test_cli_runner().invoke(args=["scan"]).output
    return app


def environment(app):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIASERVER_", "DATABASE_URL", "REDIS_URL"))}
    env.update(MEDIASERVER_INSTANCE=app.instance_path, DATABASE_URL=app.config["DATABASE_URL"],
               REDIS_URL=TEST_REDIS_URL, MEDIASERVER_DATA_DIR=app.config["DATA_DIR"],
               SECRET_KEY=app.config["SECRET_KEY"], PYTHONPATH=str(PROJECT))
    return env


@pytest.mark.parametrize("command", [
    [sys.executable, "worker.py", "--burst"],
    [str(BIN / "rq"), "worker", "--burst", "--url", TEST_REDIS_URL, "transcode"],
], ids=["worker.py", "rq worker"])
def test_a_forking_worker_publishes_the_ladder(queued_app, command):
    proc = subprocess.run(command, cwd=PROJECT, env=environment(queued_app), capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with queued_app.app_context():
        job = get_db().scalar(select(TranscodeJob))
        assert (job.status, job.progress, job.error) == ("succeeded", 100.0, None)
        assert os.path.isfile(os.path.join(queued_app.config["DATA_DIR"], "hls", job.output_dir, "master.m3u8"))


def test_a_running_job_without_heartbeat_is_requeued(queued_app):
    with queued_app.app_context():
        db = get_db()
        job = db.scalar(select(TranscodeJob))
        job.status, job.started_at, job.attempts = "running", utcnow() - timedelta(minutes=10), 1
        job.heartbeat_at = utcnow() - timedelta(minutes=5)  # its worker was SIGKILLed long ago
        db.commit()
        lost = job.rq_job_id
    client = queued_app.test_client()
    client.post("/setup", data={"username": "root", "password": "p4ssw0rd!", "password2": "p4ssw0rd!"})
    response = client.post(f"/api/media-files/{job.media_file_id}/transcode")
    assert response.status_code == 202 and response.json["job_id"] != lost
    with queued_app.app_context():
        rows = get_db().scalars(select(TranscodeJob).order_by(TranscodeJob.id)).all()
        assert [(r.status, r.error, r.attempts) for r in rows] == [
            ("queued", "worker died mid-job (attempt 1 of 3); retrying", 1)]  # the same row, its next attempt
        assert queued_app.task_queue.job_ids == [response.json["job_id"]]  # under a new RQ job; the old one dropped


def test_a_worker_with_a_bad_setting_says_which(tmp_path):
    env = dict(os.environ, MEDIASERVER_INSTANCE=str(tmp_path), REDIS_URL="http://nope")
    proc = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=PROJECT, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "REDIS_URL" in proc.stderr and "Traceback" not in proc.stderr

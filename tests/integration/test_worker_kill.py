"""A worker killed with SIGKILL mid-job (issue 4, "Jobs"; issue 6): its live folder stops being served
within LIVE_STALE_S and is deleted, the job is re-queued as its next attempt (by the next `enqueue`, here
the playback API's, or by the next `worker.py` to start), a new worker completes it, and nothing of the
killed attempt is left. Real `worker.py` processes, forking work horses, configured through the
environment like in production, with MEDIASERVER_LIVE_STALE_S=2 so that death is noticed in seconds."""
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import m3u8
import pytest
from rq import Retry
from rq.exceptions import AbandonedJobError
from rq.job import Job
from sqlalchemy import select, update

from mediaserver import create_app, tasks
from mediaserver.accounts import create_user
from mediaserver.db import get_db, new_session
from mediaserver.models import TranscodeJob, utcnow
from mediaserver.transcode import execute, jobs, recovery
from tests.helpers import PASSWORD, PROJECT, TEST_REDIS_URL, app_config, make_library, run_worker

CLIP = "video/bbb_hevc_720p_10s.mp4"  # slow enough (HEVC decode, the whole ladder) to be killed mid-job
STALE_S = 2


@pytest.fixture
def kill_app(tmp_path, redis_db):
    library = make_library(tmp_path / "lib", {"bbb.mp4": CLIP})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], AUTO_TRANSCODE_DEFAULT=True,
                                LIVE_STALE_S=STALE_S, TRANSCODE_RETRY_INTERVALS_S=(0, 0)))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    assert "queued 1 transcode job" in app.test_cli_runner().invoke(args=["scan"]).output
    return app


@pytest.fixture
def login(kill_app):
    client = kill_app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return client


def environment(app) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIASERVER_", "DATABASE_URL", "REDIS_URL"))}
    env.update(MEDIASERVER_INSTANCE=app.instance_path, DATABASE_URL=app.config["DATABASE_URL"],
               REDIS_URL=TEST_REDIS_URL, MEDIASERVER_DATA_DIR=app.config["DATA_DIR"],
               SECRET_KEY=app.config["SECRET_KEY"], PYTHONPATH=str(PROJECT),
               MEDIASERVER_LIVE_STALE_S=str(STALE_S), MEDIASERVER_TRANSCODE_RETRY_INTERVALS_S="0,0")
    return env


def job_row(app) -> TranscodeJob:
    """The one job row, read afresh (a new app context, a new session)."""
    with app.app_context():
        job = get_db().scalar(select(TranscodeJob))
        get_db().expunge(job)
        return job


def hls_dir(app) -> Path:
    return Path(app.config["DATA_DIR"]) / "hls"


def descendants(pid: int) -> dict[int, str]:
    """{pid: command name} of every living process below `pid` (whatever its process group: RQ puts
    each work horse in a group of its own)."""
    parent, name = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            comm_end = stat.rindex(")")
            fields = stat[comm_end + 2:].split()
            if fields[0] != "Z":
                parent[int(entry)], name[int(entry)] = int(fields[1]), stat[stat.index("(") + 1:comm_end]
    found, todo = {}, [pid]
    while todo:
        current = todo.pop()
        for child, ppid in parent.items():
            if ppid == current and child not in found:
                found[child] = name[child]
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def start_worker(app, log: Path, *args: str) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "worker.py", *args], cwd=PROJECT, env=environment(app),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def kill_mid_job(app, tmp_path, while_live=lambda: None) -> tuple[TranscodeJob, float]:
    """Start `worker.py`, wait until the job is live (running, folder published), call `while_live()`,
    SIGKILL the worker's process group, and check that its work horse and ffmpeg died with it. Returns
    the row as it was just before the kill, and the kill's time (time.monotonic())."""
    worker = start_worker(app, tmp_path / "worker-killed.log")
    deadline = time.monotonic() + 60
    try:
        while True:
            job = job_row(app)
            if job.status == "running" and job.output_dir and "ffmpeg" in descendants(worker.pid).values():
                break
            assert worker.poll() is None, (tmp_path / "worker-killed.log").read_text()[-3000:]
            assert job.status in ("queued", "running") and time.monotonic() < deadline, job.status
            time.sleep(0.05)
        assert (hls_dir(app) / job.output_dir / "master.m3u8").is_file()
        while_live()
        job, tree = job_row(app), descendants(worker.pid)
        os.killpg(worker.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
    deadline = time.monotonic() + 3
    while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [f"{pid} {name}" for pid, name in tree.items() if alive(pid)], "outlived the worker"
    assert job.progress < 100 and job_row(app).status == "running"  # killed mid-job, nobody noticed yet
    return job, killed_at


def assert_complete_ladder(app, job: TranscodeJob) -> None:
    """The published folder is a finished ladder: VOD playlists ending in #EXT-X-ENDLIST, every
    init segment and media segment present, and nothing else (no killed attempt) under hls/."""
    assert (job.status, job.attempts, job.error, job.progress) == ("succeeded", 2, None, 100.0)
    assert job.output_dir == f"{job.media_file_id}-{job.id}-2"
    assert sorted(os.listdir(hls_dir(app))) == [job.output_dir]
    folder = hls_dir(app) / job.output_dir
    master = m3u8.load(str(folder / "master.m3u8"))
    assert master.is_variant and len(master.playlists) >= 2
    uris = [p.uri for p in master.playlists] + [m.uri for m in master.media if m.uri]
    for uri in uris:
        path = folder / uri
        text = path.read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST"), uri
        playlist = m3u8.loads(text)
        assert playlist.is_endlist and playlist.segments, uri
        for segment in playlist.segments:
            assert (path.parent / segment.uri).is_file(), f"{uri}: {segment.uri} missing"
        for init in playlist.segment_map:
            assert (path.parent / init.uri).is_file(), f"{uri}: {init.uri} missing"


def test_a_killed_worker_serves_no_half_output_and_its_job_completes_on_a_new_worker(kill_app, login, tmp_path):
    app = kill_app
    live = {}

    def while_live():  # the live folder is served while its worker lives: a master, a variant, segments
        live.update(login.get("/api/media-files/1/playback").json)
        assert (live["kind"], live["status"]) == ("hls", "live")
        variant = m3u8.loads(login.get(live["url"]).text).playlists[0].uri
        base = live["url"].rsplit("/", 1)[0]
        segments = [segment.uri for segment in m3u8.loads(login.get(f"{base}/{variant}").text).segments]
        rendition = variant.rsplit("/", 1)[0]
        live["urls"] = [live["url"], f"{base}/{variant}", f"{base}/{rendition}/init.mp4",
                        f"{base}/{rendition}/{segments[0]}"]
        assert all(login.get(url).status_code == 200 for url in live_urls())

    def live_urls():
        return live["urls"]

    started = app.task_queue.started_job_registry
    job, killed_at = kill_mid_job(app, tmp_path, while_live)
    with app.app_context():
        rq_entries = [e for e in started.get_job_and_execution_ids(cleanup=False) if e[0] == job.rq_job_id]
        rq_hash = app.redis.dump(Job.key_for(job.rq_job_id))
    assert rq_entries and rq_hash  # RQ still has the killed job as started
    folder = hls_dir(app) / job.output_dir

    # Within LIVE_STALE_S (+ a poll) of the kill the playback API stops handing out the live folder: it
    # finds the job dead, deletes the folder, and re-queues the job under a new RQ job.
    while True:
        response = login.get("/api/media-files/1/playback")
        if response.json["status"] != "live":
            break
        assert time.monotonic() - killed_at < STALE_S + 1, "still served as live after LIVE_STALE_S"
        time.sleep(0.1)
    assert time.monotonic() - killed_at < STALE_S + 1
    body = response.json
    assert response.status_code == 409 and (body["kind"], body["url"], body["status"]) == (None, None, "queued")
    assert body["transcode"]["attempts"] == 1
    assert all(login.get(url).status_code == 404 for url in live_urls())
    assert not folder.exists()
    requeued = job_row(app)
    assert (requeued.status, requeued.output_dir, requeued.attempts) == ("queued", None, 1)
    assert requeued.error == "worker died mid-job (attempt 1 of 3); retrying"
    assert requeued.rq_job_id != job.rq_job_id and app.task_queue.job_ids == [requeued.rq_job_id]
    with app.app_context():
        assert not started.get_job_and_execution_ids(cleanup=False)  # the killed RQ job is gone
        assert not app.redis.exists(Job.key_for(job.rq_job_id))

    # RQ's own handling of the abandoned RQ job, had it found it (its started registry cleanup: the
    # failure callback with AbandonedJobError, then a retry of that same RQ job) changes nothing.
    with app.app_context():
        app.redis.restore(Job.key_for(job.rq_job_id), 0, rq_hash)
        app.redis.zadd(started.key, {f"{rq_id}:{execution}": time.time() - 1 for rq_id, execution in rq_entries})
        started.cleanup()
    after = job_row(app)
    assert (after.status, after.rq_job_id, after.error) == ("queued", requeued.rq_job_id, requeued.error)
    assert app.task_queue.job_ids == [requeued.rq_job_id, job.rq_job_id]  # RQ retried the old one too

    worker = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=PROJECT, env=environment(app),
                            capture_output=True, text=True, timeout=120, start_new_session=True)
    assert worker.returncode == 0, worker.stderr[-3000:]
    done = job_row(app)
    assert_complete_ladder(app, done)
    assert done.rq_job_id == requeued.rq_job_id
    assert Job.fetch(job.rq_job_id, connection=app.redis).return_value() is None  # the old RQ job did nothing
    assert app.task_queue.count == 0
    ready = login.get("/api/media-files/1/playback").json
    assert (ready["kind"], ready["status"], ready["transcode"]["attempts"]) == ("hls", "ready", 2)
    assert login.get(ready["url"]).status_code == 200


def test_a_starting_worker_recovers_a_job_its_predecessor_died_in(kill_app, tmp_path):
    app = kill_app
    job, _ = kill_mid_job(app, tmp_path)
    while utcnow() - recovery.aware(job_row(app).heartbeat_at) <= timedelta(seconds=STALE_S):
        time.sleep(0.1)
    assert (hls_dir(app) / job.output_dir).is_dir()  # nobody noticed: no request came
    worker = subprocess.run([sys.executable, "worker.py", "--burst"], cwd=PROJECT, env=environment(app),
                            capture_output=True, text=True, timeout=120, start_new_session=True)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert f"recovered transcode job(s) whose worker died mid-job: {job.id} (queued)" in worker.stderr
    assert_complete_ladder(app, job_row(app))


def test_a_job_with_a_fresh_heartbeat_is_left_to_its_worker(kill_app, login):
    """No double run: a running job whose heartbeat is fresh is untouched by `enqueue`, by a worker's
    start-up recovery and by RQ calling its RQ job abandoned; once stale it is recovered exactly once;
    an RQ job the row no longer names does nothing; out of retries the job fails."""
    app = kill_app
    with app.app_context():
        db = get_db()
        job = db.scalar(select(TranscodeJob))
        job.status, job.attempts, job.started_at, job.heartbeat_at = "running", 1, utcnow(), utcnow()
        job.output_dir = live_folder = f"{job.media_file_id}-{job.id}-1"
        db.commit()
        (hls_dir(app) / live_folder).mkdir(parents=True)
        first_rq_id = job.rq_job_id
        assert jobs.enqueue(db, job.media_file) is job and jobs.recover_dead_jobs(db) == []
        tasks.on_transcode_failure(Job.fetch(first_rq_id, connection=app.redis), app.redis, AbandonedJobError,
                                   AbandonedJobError(), None)
    fresh = job_row(app)
    assert (fresh.status, fresh.rq_job_id, fresh.output_dir) == ("running", first_rq_id, live_folder)
    assert login.get("/api/media-files/1/playback").json["status"] == "live"

    with app.app_context():  # its heartbeat goes stale: recovered once, however many look at it
        db = get_db()
        job = db.get(TranscodeJob, job.id)
        job.heartbeat_at = utcnow() - timedelta(seconds=STALE_S + 1)
        db.commit()
        with new_session() as elsewhere:  # another process's view of the same dead row
            other = elsewhere.get(TranscodeJob, job.id)
            assert recovery.is_dead(other, STALE_S)
            assert [j.id for j in jobs.recover_dead_jobs(db)] == [job.id]
            assert recovery.recover(elsewhere, other, app.task_queue, execute.settings()) is False
            assert other.status == "queued"
        assert jobs.recover_dead_jobs(db) == []
    requeued = job_row(app)
    assert (requeued.status, requeued.attempts, requeued.output_dir) == ("queued", 1, None)
    assert not (hls_dir(app) / live_folder).exists()
    assert app.task_queue.job_ids == [requeued.rq_job_id]

    # The killed attempt's RQ job, run again by anyone, finds its row gone from under it: it does nothing.
    app.task_queue.enqueue(tasks.run_transcode, job.id, job_id=first_rq_id, retry=Retry(max=1))
    app.task_queue.remove(requeued.rq_job_id)
    run_worker(app)
    assert (job_row(app).status, job_row(app).attempts) == ("queued", 1)
    assert Job.fetch(first_rq_id, connection=app.redis).return_value() is None

    with app.app_context():  # the last attempt dies too: failed, with the reason
        db = get_db()
        job = db.get(TranscodeJob, job.id)
        job.status, job.attempts, job.heartbeat_at = "running", 3, utcnow() - timedelta(seconds=STALE_S + 1)
        db.commit()
        assert jobs.enqueue(db, job.media_file) is job
    failed = job_row(app)
    assert (failed.status, failed.error) == ("failed", "worker died mid-job (attempt 3 of 3)")
    body = login.get("/api/media-files/1/playback").json
    assert body["status"] == "failed" and "worker died mid-job" in body["error"]


def test_a_job_busy_without_progress_is_not_taken_for_dead(kill_app, monkeypatch):
    """The heartbeat comes from a thread of the run's own, not from ffmpeg's progress: a run that goes
    longer than LIVE_STALE_S without any (a long keyframe scan, the final measurement) stays its own."""
    app = kill_app

    def quiet_ladder(session, job, config, out):
        time.sleep(2.5 * STALE_S)

    monkeypatch.setattr(execute, "build_ladder", quiet_ladder)
    recovered, stop = [], threading.Event()

    def look_for_dead_jobs():  # what `enqueue` and every starting worker do
        while not stop.is_set():
            with app.app_context():
                recovered.extend(j.id for j in jobs.recover_dead_jobs(get_db()))
            time.sleep(0.1)

    watcher = threading.Thread(target=look_for_dead_jobs)
    watcher.start()
    try:
        run_worker(app)
    finally:
        stop.set()
        watcher.join()
    assert recovered == []
    assert (job_row(app).status, job_row(app).attempts) == ("succeeded", 1)


def test_a_run_whose_job_was_taken_over_writes_nothing_and_deletes_its_folder(kill_app, monkeypatch):
    """A run that was taken for dead (frozen longer than LIVE_STALE_S, say) and whose row was re-queued
    meanwhile stops at its next write: its progress never lands on the row, its folder is deleted."""
    app = kill_app

    def taken_over(session, job, config, out):
        with app.app_context():  # another process recovers the row meanwhile
            get_db().execute(update(TranscodeJob).where(TranscodeJob.id == job.id).values(
                status="queued", rq_job_id="transcode-successor", heartbeat_at=None))
            get_db().commit()
        (Path(out) / "seg_00000.m4s").write_bytes(b"half")
        job.progress = 50.0
        session.commit()  # run.py's next progress write
        raise AssertionError("the run went on writing after it lost its row")

    monkeypatch.setattr(execute, "build_ladder", taken_over)
    run_worker(app)
    row = job_row(app)
    assert (row.status, row.rq_job_id, row.progress, row.output_dir) == ("queued", "transcode-successor", 0.0, None)
    assert os.listdir(hls_dir(app)) == []

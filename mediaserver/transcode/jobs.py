"""RQ job functions: turn one media file into a published HLS ladder (microblog's task pattern).

Output is written to `<DATA_DIR>/hls/.tmp-*`, and only when ffmpeg succeeded and every rendition
covers the source is it renamed to `<DATA_DIR>/hls/<media id>-<job id>/` (one `rename`, atomic on one
file system) and recorded in `transcode_jobs.output_dir`. A failed job stores ffmpeg's last error
lines and removes its temporary folder: nothing playable is left behind.
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid

from flask import current_app, has_app_context
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import new_session
from ..exceptions import TranscodeError
from ..models import MediaFile, TranscodeJob, utcnow
from .command import AUDIO_DIR, INTERLACED_FIELD_ORDERS, LadderJob, build_command
from .ladder import SourceVideo, plan_ladder
from .playlist import measure_rendition, render_master

log = logging.getLogger("mediaserver.transcode")

ACTIVE = ("queued", "running")
#: A rendition shorter than this share of the probed duration means decoding stopped early.
MIN_COVERAGE = 0.95
#: Progress is written to the database at most this often (s).
PROGRESS_INTERVAL_S = 1.0


def hls_root() -> str:
    """`<DATA_DIR>/hls`, where published ladders live."""
    return os.path.join(current_app.config["DATA_DIR"], "hls")


def job_timeout_s(duration_ms: int | None) -> int:
    """RQ timeout for a title (s): 10 s per second of media plus 5 min, at least 10 min."""
    return max(600, 300 + 10 * (duration_ms or 0) // 1000)


def enqueue(session: Session, media: MediaFile) -> TranscodeJob:
    """Queue a ladder job for `media`, or return the one already queued or running.

    Raises ValueError when the file failed to probe (nothing to transcode). Needs an app context
    (`current_app.task_queue`); raises redis.exceptions.ConnectionError when Redis is down.
    """
    if media.status != "ok":
        raise ValueError(f"media file {media.id} could not be read: {media.error}")
    active = session.scalar(select(TranscodeJob).where(
        TranscodeJob.media_file_id == media.id, TranscodeJob.status.in_(ACTIVE)))
    if active is not None and _still_in_rq(active):
        return active
    if active is not None:  # its worker died (SIGKILL, machine restart) or Redis lost it
        active.status, active.finished_at = "failed", utcnow()
        active.error = "the worker stopped before finishing this job"
        session.commit()
    job = TranscodeJob(media_file_id=media.id, rq_job_id=f"transcode-{uuid.uuid4().hex}", status="queued")
    session.add(job)
    session.commit()  # the worker must find the row
    try:
        current_app.task_queue.enqueue(
            run_transcode, job.id, job_id=job.rq_job_id, job_timeout=job_timeout_s(media.duration_ms),
            on_failure=Callback(on_rq_failure), description=f"HLS ladder for {media.path}")
    except Exception:
        session.delete(job)
        session.commit()
        raise
    return job


def _still_in_rq(job: TranscodeJob) -> bool:
    """Whether RQ still has `job` waiting or running (not failed, stopped, finished or forgotten)."""
    try:
        status = Job.fetch(job.rq_job_id, connection=current_app.redis).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def run_transcode(job_id: int) -> str:
    """RQ entry point: run TranscodeJob `job_id`. Returns the published folder name.

    Works under `python worker.py` (app context already pushed) and under plain `rq worker`
    (builds the app from the environment). Raises TranscodeError after recording it.
    """
    if not has_app_context():
        from .. import create_app

        with create_app().app_context():
            return run_transcode(job_id)
    with new_session() as session:
        return _run(session, job_id)


def on_rq_failure(rq_job, connection, exc_type, exc_value, tb) -> None:
    """RQ failure callback (e.g. job timeout): make sure the row says failed."""
    def mark() -> None:
        with new_session() as session:
            row = session.scalar(select(TranscodeJob).where(TranscodeJob.rq_job_id == rq_job.id))
            if row is not None and row.status in ACTIVE:
                row.status, row.error, row.finished_at = "failed", f"{exc_type.__name__}: {exc_value}", utcnow()
                session.commit()

    if has_app_context():
        mark()
    else:
        from .. import create_app

        with create_app().app_context():
            mark()


def _run(session: Session, job_id: int) -> str:
    job = session.get(TranscodeJob, job_id)
    if job is None:
        raise TranscodeError(f"transcode job {job_id} does not exist")
    media = job.media_file
    job.status, job.started_at, job.progress, job.error = "running", utcnow(), 0.0, None
    session.commit()
    root = hls_root()
    os.makedirs(root, exist_ok=True)
    for leftover in glob.glob(os.path.join(root, f".tmp-{media.id}-*")):  # from a killed run
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{media.id}-{job.id}-", dir=root)
    try:
        ladder = ladder_job_for(media, current_app.config["FFMPEG"])
        ffmpeg_log = _encode(session, job, ladder, tmp, media.duration_ms)
        _write_master(tmp, ladder, _stream_durations_ms(media, ladder), current_app.config["FFPROBE"], ffmpeg_log)
        final = f"{media.id}-{job.id}"
        os.rename(tmp, os.path.join(root, final))
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        job.status, job.error, job.finished_at = "failed", str(exc) or type(exc).__name__, utcnow()
        session.commit()
        log.warning("transcode job %s (%s) failed: %s", job.id, media.path, job.error)
        raise
    old = [j for j in media.jobs if j.output_dir and j.id != job.id]
    job.status, job.output_dir, job.progress, job.finished_at = "succeeded", final, 100.0, utcnow()
    for previous in old:
        shutil.rmtree(os.path.join(root, previous.output_dir), ignore_errors=True)
        previous.output_dir = None
    session.commit()
    log.info("transcode job %s published %s", job.id, final)
    return final


def ladder_job_for(media: MediaFile, ffmpeg: str = "ffmpeg") -> LadderJob:
    """Pick the streams and rungs for a media file. Cover art (`attached_pic`) is not video.

    Raises TranscodeError when the file has neither a video nor an audio stream to encode.
    """
    videos = [s for s in media.streams if s.type == "video" and not s.attached_pic and s.width and s.height]
    audios = [s for s in media.streams if s.type == "audio"]
    video = next((s for s in videos if s.is_default), videos[0] if videos else None)
    audio = next((s for s in audios if s.is_default), audios[0] if audios else None)
    if video is None and audio is None:
        raise TranscodeError("no video or audio stream to encode")
    rungs = ()
    if video is not None:
        rungs = tuple(plan_ladder(SourceVideo(video.width, video.height, video.sample_aspect_ratio,
                                              video.rotation or 0)))
    return LadderJob(
        source=os.path.join(media.root, media.path),
        rungs=rungs,
        video_index=video.index if video else None,
        audio_index=audio.index if audio else None,
        interlaced=bool(video and video.field_order in INTERLACED_FIELD_ORDERS),
        ffmpeg=ffmpeg,
    )


def _encode(session: Session, job: TranscodeJob, ladder: LadderJob, out: str, duration_ms: int | None) -> str:
    """Run the one ffmpeg process; progress (percent) from `-progress` `out_time_us` lines.

    Returns ffmpeg's last log lines (warnings and errors). Raises TranscodeError on a non-zero exit.
    """
    for folder in [r.name for r in ladder.rungs] + ([AUDIO_DIR] if ladder.audio_index is not None else []):
        os.makedirs(os.path.join(out, folder))
    log_path = os.path.join(out, "ffmpeg.log")
    last_write = 0.0
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(build_command(ladder), cwd=out, stdout=subprocess.PIPE, stderr=log_file)
        for raw in proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key != "out_time_us" or not duration_ms or not value.isdigit():
                continue
            now = time.monotonic()
            if now - last_write >= PROGRESS_INTERVAL_S:
                job.progress = min(99.0, round(int(value) / 10 / duration_ms, 1))
                session.commit()
                last_write = now
        rc = proc.wait()
    with open(log_path, encoding="utf-8", errors="replace") as fh:
        tail = "\n".join(line.rstrip() for line in fh.readlines()[-8:])
    os.remove(log_path)
    if rc != 0:
        raise TranscodeError(f"ffmpeg exited with status {rc}: {tail}" if tail else f"ffmpeg exited with status {rc}")
    return tail


def _stream_durations_ms(media: MediaFile, ladder: LadderJob) -> tuple[int | None, int | None]:
    """(video, audio) source durations in ms: each stream's own, else the file's."""
    by_index = {s.index: s for s in media.streams}
    def duration(index: int | None) -> int | None:
        stream = by_index.get(index) if index is not None else None
        return (stream.duration_ms if stream and stream.duration_ms else None) or media.duration_ms
    return duration(ladder.video_index), duration(ladder.audio_index)


def _write_master(out: str, ladder: LadderJob, expected_ms: tuple[int | None, int | None], ffprobe: str,
                  ffmpeg_log: str) -> None:
    """Measure every rendition, check it covers its source stream, write `master.m3u8`.

    `expected_ms` is the (video, audio) source duration in ms. Raises TranscodeError (with ffmpeg's
    log lines) when a rendition stops short: ffmpeg exits 0 on a truncated file after decoding what
    it could.
    """
    video = [measure_rendition(out, r.name, ffprobe=ffprobe) for r in ladder.rungs]
    audio = measure_rendition(out, AUDIO_DIR, ffprobe=ffprobe) if ladder.audio_index is not None else None
    checks = [(r, expected_ms[0]) for r in video] + ([(audio, expected_ms[1])] if audio else [])
    for rendition, duration_ms in checks:
        if duration_ms:
            expected_s = duration_ms / 1000
            if rendition.duration_s < MIN_COVERAGE * expected_s - 0.5:
                raise TranscodeError(f"decoding stopped at {rendition.duration_s:.1f} s of {expected_s:.1f} s "
                                     f"({rendition.uri}); the source is damaged. ffmpeg said:\n{ffmpeg_log}")
    with open(os.path.join(out, "master.m3u8"), "w") as fh:
        fh.write(render_master(video, audio))

"""RQ job functions: turn one media file into a published HLS ladder (microblog's task pattern).

Output is written to `<DATA_DIR>/hls/.tmp-*`, and only when ffmpeg succeeded and every rendition
covers its source stream is it renamed to `<DATA_DIR>/hls/<media id>-<job id>/` (one `rename`,
atomic on one file system) and recorded in `transcode_jobs.output_dir`. A failed job stores
ffmpeg's last error lines and removes its temporary folder: nothing playable is left behind.
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
from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import new_session
from ..exceptions import TranscodeError
from ..models import MediaFile, TranscodeJob, utcnow
from .command import AUDIO_DIR, INTERLACED_FIELD_ORDERS, LadderJob, build_command
from .ladder import SourceVideo, plan_ladder
from .measure import measure_rendition
from .playlist import render_master

log = logging.getLogger("mediaserver.transcode")

ACTIVE = ("queued", "running")
#: A rendition shorter than this share of its source stream (less 0.5 s for the last GOP) means
#: decoding stopped early: ffmpeg exits 0 on a truncated file. 95 % is our own margin for streams
#: whose container duration overstates the last frame's time.
MIN_COVERAGE = 0.95
#: Progress and the heartbeat are written to the database at most this often (s).
PROGRESS_INTERVAL_S = 1.0
#: A `running` row whose heartbeat is older than this (s) belongs to a dead worker. ffmpeg's
#: `-progress` reports every 0.5 s, so 2 min without one is no slow encode but a lost process.
STALE_AFTER_S = 120


def hls_root() -> str:
    """`<DATA_DIR>/hls`, where published ladders live."""
    return os.path.join(current_app.config["DATA_DIR"], "hls")


def job_timeout_s(duration_ms: int | None) -> int:
    """RQ timeout for a title (s): 10 s per second of media plus 5 min, at least 10 min. Our own
    margin: the full ladder encodes at 1-6x real time on 2 cores (bench figures in the README)."""
    return max(600, 300 + 10 * (duration_ms or 0) // 1000)


def enqueue(session: Session, media: MediaFile) -> TranscodeJob:
    """Queue a ladder job for `media`, or return the one already queued or running.

    An active row whose worker died (RQ lost the job, or no heartbeat for STALE_AFTER_S) is marked
    failed and replaced. Raises ValueError when the file failed to probe; needs an app context
    (`current_app.task_queue`); raises redis.exceptions.RedisError when Redis is down.
    """
    if media.status != "ok":
        raise ValueError(f"media file {media.id} could not be read: {media.error}")
    active = session.scalar(select(TranscodeJob).where(
        TranscodeJob.media_file_id == media.id, TranscodeJob.status.in_(ACTIVE)))
    if active is not None and _alive(active):
        return active
    if active is not None:
        _fail(session, active, "the worker stopped before finishing this job")
    job = TranscodeJob(media_file_id=media.id, rq_job_id=f"transcode-{uuid.uuid4().hex}", status="queued")
    session.add(job)
    try:
        session.commit()  # the worker must find the row
    except IntegrityError:  # a concurrent request queued one first (one active job per file)
        session.rollback()
        return session.scalar(select(TranscodeJob).where(
            TranscodeJob.media_file_id == media.id, TranscodeJob.status.in_(ACTIVE)))
    try:
        current_app.task_queue.enqueue(
            run_transcode, job.id, job_id=job.rq_job_id, job_timeout=job_timeout_s(media.duration_ms),
            on_failure=Callback(on_rq_failure), description=f"HLS ladder for {media.path}")
    except Exception:
        session.delete(job)
        session.commit()
        raise
    return job


def cancel_active(session: Session, media: MediaFile, reason: str) -> None:
    """Mark `media`'s queued or running job failed with `reason` (its RQ job then does nothing)."""
    for job in media.jobs:
        if job.status in ACTIVE:
            _fail(session, job, reason)


def unpublish(session: Session, media: MediaFile, keep: TranscodeJob | None = None) -> list[str]:
    """Stop pointing at `media`'s published ladders (all but `keep`'s) and commit. Returns their
    folder names under `hls_root()`, for the caller to delete once no request can be sent to them."""
    folders = []
    for job in media.jobs:
        if job.output_dir and job is not keep:
            folders.append(job.output_dir)
            job.output_dir = None
    session.commit()
    return folders


def source_changed(session: Session, media: MediaFile) -> None:
    """A rescan found `media` changed: its ladder shows old content, so cancel its active job and
    delete its published ladders. (A new job is queued by the caller when auto-transcode is on.)"""
    cancel_active(session, media, "the source file changed; transcode it again")
    for folder in unpublish(session, media):
        shutil.rmtree(os.path.join(hls_root(), folder), ignore_errors=True)


def _alive(job: TranscodeJob) -> bool:
    """Whether an active row still has a live RQ job behind it."""
    if job.status == "running":
        beat = job.heartbeat_at or job.started_at
        if beat is not None and _aware(beat) < utcnow() - timedelta(seconds=STALE_AFTER_S):
            return False
    try:
        status = Job.fetch(job.rq_job_id, connection=current_app.redis).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def _fail(session: Session, job: TranscodeJob, reason: str) -> None:
    job.status, job.error, job.finished_at = "failed", reason, utcnow()
    session.commit()


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def with_app(fn, *args):
    """Run `fn(*args)` inside an app context, building the app from the environment under plain
    `rq worker` (which has none); `python worker.py` has already pushed one."""
    if has_app_context():
        return fn(*args)
    from .. import create_app

    with create_app().app_context():
        return fn(*args)


def run_transcode(job_id: int) -> str | None:
    """RQ entry point: run TranscodeJob `job_id`. Returns the published folder name, or None when
    the row was cancelled meanwhile (e.g. its source changed). Raises TranscodeError after recording it."""
    def run() -> str | None:
        with new_session() as session:
            return _run(session, job_id)

    return with_app(run)


def on_rq_failure(rq_job, connection, exc_type, exc_value, tb) -> None:
    """RQ failure callback (job timeout, abandoned job of a dead worker): the row says failed."""
    reason = str(exc_value) or {"AbandonedJobError": "the worker stopped before finishing this job"}.get(
        exc_type.__name__, exc_type.__name__)

    def mark() -> None:
        with new_session() as session:
            row = session.scalar(select(TranscodeJob).where(TranscodeJob.rq_job_id == rq_job.id))
            if row is not None and row.status in ACTIVE:
                _fail(session, row, reason)

    with_app(mark)


def _run(session: Session, job_id: int) -> str | None:
    job = session.get(TranscodeJob, job_id)
    if job is None or job.status != "queued":
        log.info("transcode job %s is no longer queued; nothing to do", job_id)
        return None
    media = job.media_file
    job.status, job.started_at, job.heartbeat_at, job.progress, job.error = "running", utcnow(), utcnow(), 0.0, None
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
        _fail(session, job, str(exc) or type(exc).__name__)
        log.warning("transcode job %s (%s) failed: %s", job.id, media.path, job.error)
        raise
    job.status, job.output_dir, job.progress, job.finished_at = "succeeded", final, 100.0, utcnow()
    old_dirs = unpublish(session, media, keep=job)
    for folder in old_dirs:  # only once the new ladder is what the database points at
        shutil.rmtree(os.path.join(root, folder), ignore_errors=True)
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
    ffmpeg is killed if the job dies here (e.g. RQ's timeout), so no encoder outlives its job.
    """
    for folder in [r.name for r in ladder.rungs] + ([AUDIO_DIR] if ladder.audio_index is not None else []):
        os.makedirs(os.path.join(out, folder))
    log_path = os.path.join(out, "ffmpeg.log")
    last_write = time.monotonic()
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(build_command(ladder), cwd=out, stdout=subprocess.PIPE, stderr=log_file)
        try:
            for raw in proc.stdout:
                key, _, value = raw.decode("ascii", "replace").strip().partition("=")
                now = time.monotonic()
                if key != "out_time_us" or now - last_write < PROGRESS_INTERVAL_S:
                    continue
                if duration_ms and value.isdigit():
                    job.progress = min(99.0, round(int(value) / 10 / duration_ms, 1))
                job.heartbeat_at = utcnow()
                session.commit()
                last_write = now
            rc = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
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
    log lines) when a rendition stops short.
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

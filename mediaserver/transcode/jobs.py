"""RQ job functions: turn one media file into a published HLS ladder (microblog's task pattern),
and the queue's life: enqueue, retries, cancel, dead workers.

Output goes to `<DATA_DIR>/hls/<media id>-<job id>/`, which players reach only through
`transcode_jobs.output_dir` (see `run.py`: EVENT playlists while running, VOD once done). Failures
come in two kinds: undecodable input (TranscodeError: marked failed at once, never retried) and
failures that may pass (the worker killed, a timeout, ffmpeg killed by a signal, a full disk): RQ
retries those TRANSCODE_RETRIES times with backoff, the row going back to `queued` meanwhile.
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import uuid
from datetime import datetime, timedelta, timezone

from flask import current_app, has_app_context
from rq import Callback, Retry
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import new_session
from ..exceptions import TranscodeError
from ..models import MediaFile, TranscodeJob, utcnow
from .run import build_ladder

log = logging.getLogger("mediaserver.transcode")

ACTIVE = ("queued", "running")
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
        intervals = current_app.config["TRANSCODE_RETRY_INTERVALS_S"]
        current_app.task_queue.enqueue(
            run_transcode, job.id, job_id=job.rq_job_id, job_timeout=job_timeout_s(media.duration_ms),
            on_failure=Callback(on_rq_failure), description=f"HLS ladder for {media.path}",
            retry=Retry(max=len(intervals), interval=list(intervals)) if intervals else None)
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


def cancel(session: Session, job: TranscodeJob) -> None:
    """An admin's cancel: the row says `cancelled`, a queued RQ job is dropped, a running one is
    stopped (RQ kills its work horse; ffmpeg dies with it), its folder withdrawn and deleted.
    Raises ValueError when the job is not queued or running."""
    if job.status not in ACTIVE:
        raise ValueError(f"job {job.id} is {job.status}, not queued or running")
    folder = job.output_dir
    job.status, job.error, job.finished_at, job.output_dir = "cancelled", "cancelled by an admin", utcnow(), None
    session.commit()
    try:
        rq_job = Job.fetch(job.rq_job_id, connection=current_app.redis)
        if rq_job.get_status() == JobStatus.STARTED:
            send_stop_job_command(current_app.redis, rq_job.id)
        else:
            rq_job.cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass
    if folder:
        shutil.rmtree(os.path.join(hls_root(), folder), ignore_errors=True)


def retry(session: Session, job: TranscodeJob) -> TranscodeJob:
    """An admin's retry of a failed or cancelled job: a new job for the same file (see `enqueue`).
    Raises ValueError when the job is still queued or running."""
    if job.status in ACTIVE:
        raise ValueError(f"job {job.id} is still {job.status}")
    return enqueue(session, job.media_file)


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
        if beat is not None and aware(beat) < utcnow() - timedelta(seconds=STALE_AFTER_S):
            return False
    try:
        status = Job.fetch(job.rq_job_id, connection=current_app.redis).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def _fail(session: Session, job: TranscodeJob, reason: str) -> None:
    """Mark an active job failed; a live (EVENT) folder it was serving is withdrawn and deleted."""
    folder = job.output_dir if job.status in ACTIVE else None
    job.status, job.error, job.finished_at = "failed", reason, utcnow()
    if folder:
        job.output_dir = None
    session.commit()
    if folder:
        shutil.rmtree(os.path.join(hls_root(), folder), ignore_errors=True)


def aware(moment: datetime) -> datetime:
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
            if row is None or row.status not in ACTIVE:
                return
            _withdraw(session, row)
            if rq_job.retries_left:  # RQ requeues or schedules it right after this callback
                row.status, row.error, row.progress = "queued", f"attempt {row.attempts} failed: {reason}; retrying", 0.0
                session.commit()
                log.warning("transcode job %s: %s; %s retries left", row.id, reason, rq_job.retries_left)
            else:
                _fail(session, row, reason)

    with_app(mark)


def _run(session: Session, job_id: int) -> str | None:
    job = session.get(TranscodeJob, job_id)
    if job is None or job.status != "queued":
        log.info("transcode job %s is no longer queued; nothing to do", job_id)
        return None
    media = job.media_file
    job.status, job.started_at, job.heartbeat_at, job.progress = "running", utcnow(), utcnow(), 0.0
    job.attempts += 1
    session.commit()
    root = hls_root()
    os.makedirs(root, exist_ok=True)
    final = f"{media.id}-{job.id}"
    for leftover in glob.glob(os.path.join(root, f".tmp-{media.id}-*")) + [os.path.join(root, final)]:
        shutil.rmtree(leftover, ignore_errors=True)  # from a killed run
    out = os.path.join(root, final)
    os.makedirs(out)
    try:
        build_ladder(session, job, current_app.config, out)
    except TranscodeError as exc:  # undecodable input: no retry
        _withdraw(session, job)
        _fail(session, job, str(exc))
        log.warning("transcode job %s (%s) failed: %s", job.id, media.path, job.error)
        return None
    except BaseException:  # may pass: RQ's failure callback withdraws it and decides on a retry
        session.rollback()
        raise
    session.refresh(job)
    if job.status != "running":  # cancelled meanwhile
        shutil.rmtree(out, ignore_errors=True)
        return None
    job.status, job.output_dir, job.progress, job.finished_at, job.error = "succeeded", final, 100.0, utcnow(), None
    old_dirs = unpublish(session, media, keep=job)
    for folder in old_dirs:  # only once the new ladder is what the database points at
        shutil.rmtree(os.path.join(root, folder), ignore_errors=True)
    log.info("transcode job %s published %s", job.id, final)
    return final


def _withdraw(session: Session, job: TranscodeJob) -> None:
    """Stop serving a job's (live) folder, then delete it."""
    folder = job.output_dir or f"{job.media_file_id}-{job.id}"
    job.output_dir = None
    session.commit()
    shutil.rmtree(os.path.join(hls_root(), folder), ignore_errors=True)

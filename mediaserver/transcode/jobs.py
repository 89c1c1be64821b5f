"""The transcode queue's API (microblog's task pattern), for the web routes, the CLI, the library
scan and `worker.py`: queue a ladder job for a file, at most one active per file (`enqueue`); an
admin's cancel and retry; what a changed source does to its jobs (`source_changed`); recovering the
jobs of workers that died (`recover_dead_jobs`). Each call uses the current app's transcode queue and
its `TranscodeSettings` (`execute.settings()`), passed on to `execute` and `recovery`.

What runs inside the RQ job, and the row and folder primitives shared with it, is `execute.py`;
retries, RQ's failure callbacks and dead-worker recovery are `recovery.py`'s (its docstring tells how
a job whose worker died is noticed and re-queued).
"""
from __future__ import annotations

import os
import shutil

from flask import current_app
from rq import Queue
from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import rqjobs
from ..models import MediaFile, TranscodeJob, utcnow
from . import decision, recovery
from .execute import ACTIVE, fail, folder_name, settings, unpublish
from .facts import media_facts
from .plan import decision_for
from .recovery import enqueue_rq, is_dead, new_rq_id, recover


def _queue() -> Queue:
    """The current app's transcode queue (`app.task_queue`, on `MEDIASERVER_QUEUE`)."""
    return current_app.task_queue


def worth_pre_transcoding(media: MediaFile) -> bool:
    """`decision.worth_pre_transcoding` for a scanned file (False for one that failed to probe)."""
    if media.status != "ok":
        return False
    facts = media_facts(media)
    return decision.worth_pre_transcoding(decision_for(facts), facts.streams)


def enqueue(session: Session, media: MediaFile) -> TranscodeJob:
    """Queue a ladder job for `media`, or return the one already queued or running.

    A `running` row with a stale heartbeat (its worker died) is recovered first (`recover`): it is
    returned re-queued as its next attempt, or failed ("worker died mid-job") when no retries are left
    (no new job then: asking again makes one). A running row with a fresh heartbeat is returned as it
    is, whatever Redis says. A `queued` row whose RQ job is gone is marked failed and replaced.
    Raises ValueError when the file failed to probe; needs an app context (`current_app.task_queue`);
    raises redis.exceptions.RedisError when Redis is down (no row is then left behind).
    """
    if media.status != "ok":
        raise ValueError(f"media file {media.id} could not be read: {media.error}")
    queue, config = _queue(), settings()
    active = session.scalar(select(TranscodeJob).where(
        TranscodeJob.media_file_id == media.id, TranscodeJob.status.in_(ACTIVE)))
    if active is not None and active.status == "running" and is_dead(active, config.live_stale_s):
        recover(session, active, queue, config)
        return active
    if active is not None and (active.status == "running" or rqjobs.alive(queue.connection, active.rq_job_id)):
        return active
    if active is not None:
        fail(session, active, "the worker stopped before finishing this job", config.hls_root)
    job = TranscodeJob(media_file_id=media.id, rq_job_id=new_rq_id(), status="queued")
    try:  # the row first (the worker must find it), deleted again when queueing fails
        return rqjobs.launch(session, job,
                             lambda: enqueue_rq(queue, job, media, len(config.retry_intervals_s), config))
    except IntegrityError:  # a concurrent request queued one first (one active job per file)
        session.rollback()
        return session.scalar(select(TranscodeJob).where(
            TranscodeJob.media_file_id == media.id, TranscodeJob.status.in_(ACTIVE)))


def recover_dead_jobs(session: Session) -> list[TranscodeJob]:
    """`recovery.recover_dead_jobs` with the current app's queue and settings (`worker.py` runs it
    before working). Raises RedisError when Redis is down."""
    return recovery.recover_dead_jobs(session, _queue(), settings())


def cancel_active(session: Session, media: MediaFile, reason: str) -> None:
    """Mark `media`'s queued or running job failed with `reason` (its RQ job then does nothing)."""
    hls_root = settings().hls_root
    for job in media.jobs:
        if job.status in ACTIVE:
            fail(session, job, reason, hls_root)


def cancel(session: Session, job: TranscodeJob) -> None:
    """An admin's cancel: the row says `cancelled`, a queued RQ job is dropped, a running one is
    stopped (RQ kills its work horse; ffmpeg dies with it), its folder withdrawn and deleted.
    Raises ValueError when the job is not queued or running, RedisError when Redis is down (the row
    is then left as it was: Redis is asked before the row changes)."""
    if job.status not in ACTIVE:
        raise ValueError(f"job {job.id} is {job.status}, not queued or running")
    connection = _queue().connection
    try:
        rq_job = Job.fetch(job.rq_job_id, connection=connection)
    except NoSuchJobError:
        rq_job = None
    folder = job.output_dir or (folder_name(job) if job.status == "running" else None)
    job.status, job.error, job.finished_at, job.output_dir = "cancelled", "cancelled by an admin", utcnow(), None
    session.commit()
    try:
        if rq_job is not None and rq_job.get_status() == JobStatus.STARTED:
            send_stop_job_command(connection, rq_job.id)
        elif rq_job is not None:
            rq_job.cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass
    if folder:
        shutil.rmtree(os.path.join(settings().hls_root, folder), ignore_errors=True)


def retry(session: Session, job: TranscodeJob) -> TranscodeJob:
    """An admin's retry of a failed or cancelled job: a new job for the same file (see `enqueue`).
    Raises ValueError when the job is still queued or running."""
    if job.status in ACTIVE:
        raise ValueError(f"job {job.id} is still {job.status}")
    return enqueue(session, job.media_file)


def source_changed(session: Session, media: MediaFile) -> None:
    """A rescan found `media` changed: its ladder shows old content, so cancel its active job and
    delete its published ladders. (A new job is queued by the caller when auto-transcode is on.)"""
    cancel_active(session, media, "the source file changed; transcode it again")
    hls_root = settings().hls_root
    for folder in unpublish(session, media):
        shutil.rmtree(os.path.join(hls_root, folder), ignore_errors=True)

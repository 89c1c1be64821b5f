"""Retries and recovery: putting an attempt on RQ with the retries it has left (`enqueue_rq`), what
RQ's failure callbacks do (`mark_failed`, called by `tasks.on_transcode_failure` and
`tasks.on_horse_killed`), and dead-worker recovery.

Failures come in two kinds: undecodable input (TranscodeError: the run marks its job failed at once,
never retried) and failures that may pass (a timeout, ffmpeg killed by a signal, a full disk): RQ
retries those len(TRANSCODE_RETRY_INTERVALS_S) times with backoff, the row going back to `queued`
meanwhile (`mark_failed`).

A worker killed outright (SIGKILL, OOM killer, power cut) runs no handler. A running job writes
`heartbeat_at` about every second (`execute.py`); a `running` row whose heartbeat is older than
LIVE_STALE_S is a dead job (`recover_dead_jobs`, run by `worker.py` at start and by `jobs.enqueue`
whenever it meets one): its folder is withdrawn and deleted, its RQ job removed, and the row re-queued
at once as its next attempt under a new RQ job id (or failed, "worker died mid-job", when no retries
are left). Every change of a row's state away from `queued` or `running` is a compare-and-set on
(status, rq_job_id[, heartbeat_at]), and a run only works on its row while the row still names its
RQ job: so a live job (fresh heartbeat) is never taken over, two recoverers never both re-queue, and
RQ's own later handling of the abandoned RQ job (its started registry's cleanup calls the failure
callback, then retries the old RQ job or moves it to the failed registry) finds no row to change and
no work to do.
"""
from __future__ import annotations

import logging
import os
import shutil
import uuid
from datetime import datetime, timedelta, timezone

from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import metrics, rqjobs
from ..config import TranscodeSettings
from ..models import MediaFile, TranscodeJob, utcnow
from .execute import ACTIVE, folder_name, same

log = logging.getLogger("mediaserver.transcode")

#: The reason recorded on a job whose worker was killed mid-job (`recover_dead_jobs`).
WORKER_DIED = "worker died mid-job"


def job_timeout_s(duration_ms: int | None) -> int:
    """RQ timeout for a title (s): 10 s per second of media plus 5 min, at least 10 min. Our own
    margin: the full ladder encodes at 1-6x real time on 2 cores (bench figures in the README)."""
    return max(600, 300 + 10 * (duration_ms or 0) // 1000)


def new_rq_id() -> str:
    """A fresh RQ job id for a job's next attempt."""
    return f"transcode-{uuid.uuid4().hex}"


def enqueue_rq(queue: Queue, job: TranscodeJob, media: MediaFile, retries: int, settings: TranscodeSettings) -> None:
    """Put `job` on `queue` under `job.rq_job_id` (its function: `tasks.run_transcode`), with `retries`
    RQ retries left (the last `retries` waits of `settings.retry_intervals_s`). Raises RedisError when
    Redis is down."""
    configured = list(settings.retry_intervals_s)
    intervals = configured[len(configured) - retries:] if retries > 0 else []
    queue.enqueue(
        rqjobs.task("run_transcode"), job.id, job_id=job.rq_job_id, job_timeout=job_timeout_s(media.duration_ms),
        on_failure=Callback(rqjobs.task("on_transcode_failure")), description=f"HLS ladder for {media.path}",
        retry=Retry(max=len(intervals), interval=intervals) if intervals else None)


def aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def is_dead(job: TranscodeJob, stale_after_s: float) -> bool:
    """Whether a `running` row's heartbeat (or start) is older than `stale_after_s` (s: LIVE_STALE_S)."""
    beat = job.heartbeat_at or job.started_at
    return job.status == "running" and (
        beat is None or aware(beat) < utcnow() - timedelta(seconds=stale_after_s))


def recover_dead_jobs(session: Session, queue: Queue, settings: TranscodeSettings) -> list[TranscodeJob]:
    """Recover every dead running job (`recover`); returns those this call recovered. `worker.py`
    runs it before working; raises RedisError when Redis is down."""
    recovered = []
    for job in session.scalars(select(TranscodeJob).where(TranscodeJob.status == "running")).all():
        if is_dead(job, settings.live_stale_s) and recover(session, job, queue, settings):
            recovered.append(job)
    return recovered


def recover(session: Session, job: TranscodeJob, queue: Queue, settings: TranscodeSettings) -> bool:
    """A running job whose worker died (`is_dead`): withdraw its folder (the row stops naming it in the
    same update that takes it over, then it is deleted), drop its RQ job (started registry entry and
    hash: RQ's registry cleanup then has nothing to report), and re-queue the row as its next attempt
    under a new RQ job id when retries are left, else mark it failed ("worker died mid-job").

    The takeover is one compare-and-set on (status running, rq_job_id, heartbeat_at as read): a worker
    that wrote a heartbeat meanwhile, or another process that recovered the row first, wins and this
    returns False, leaving the row as it is (refreshed). Returns True when this call recovered it."""
    old_rq_id, beat, folders = job.rq_job_id, job.heartbeat_at, {job.output_dir, folder_name(job)}
    attempt, runs = job.attempts, len(settings.retry_intervals_s) + 1
    retry = attempt < runs
    values: dict = {"output_dir": None, "progress": 0.0}
    if retry:
        values.update(status="queued", rq_job_id=new_rq_id(), heartbeat_at=None,
                      error=f"{WORKER_DIED} (attempt {attempt} of {runs}); retrying")
    else:
        values.update(status="failed", finished_at=utcnow(), error=f"{WORKER_DIED} (attempt {attempt} of {runs})")
    taken = session.execute(update(TranscodeJob).where(
        TranscodeJob.id == job.id, TranscodeJob.status == "running", same(TranscodeJob.rq_job_id, old_rq_id),
        same(TranscodeJob.heartbeat_at, beat)).values(**values).execution_options(synchronize_session=False))
    session.commit()
    session.refresh(job)
    if taken.rowcount != 1:
        log.info("transcode job %s: not recovered (its worker wrote a heartbeat, or another process "
                 "recovered it first)", job.id)
        return False
    for folder in folders - {None}:
        shutil.rmtree(os.path.join(settings.hls_root, folder), ignore_errors=True)
    if old_rq_id:
        _drop_rq_job(queue, old_rq_id)
    log.warning("transcode job %s: %s", job.id, job.error,
                extra=metrics.transcode_failure(job, "worker_died", "retrying" if retry else "failed"))
    if retry:
        try:
            enqueue_rq(queue, job, job.media_file, runs - attempt - 1, settings)
        except Exception as exc:
            _set_if(session, job, ("queued",), job.rq_job_id, status="failed", finished_at=utcnow(),
                    error=f"{WORKER_DIED} (attempt {attempt} of {runs}); re-queueing it failed: {exc}")
            raise
    return True


def _set_if(session: Session, job: TranscodeJob, statuses: tuple[str, ...], rq_job_id: str | None,
            **values) -> bool:
    """Compare-and-set: update `job`'s row with `values` only while its status is one of `statuses`
    and it names RQ job `rq_job_id`; commit and refresh `job`. True when the row was updated."""
    done = session.execute(update(TranscodeJob).where(
        TranscodeJob.id == job.id, TranscodeJob.status.in_(statuses), same(TranscodeJob.rq_job_id, rq_job_id))
        .values(**values).execution_options(synchronize_session=False))
    session.commit()
    session.refresh(job)
    return done.rowcount == 1


def _drop_rq_job(queue: Queue, rq_job_id: str) -> None:
    """Remove a dead job's RQ job: its entries in `queue`'s started registry (`<job id>:<execution id>`)
    and its hash (also dropping it from its queue or any other registry)."""
    conn = queue.connection
    registry = queue.started_job_registry
    keys = [f"{job_id}:{execution_id}" for job_id, execution_id in
            registry.get_job_and_execution_ids(cleanup=False) if job_id == rq_job_id]
    if keys:
        conn.zrem(registry.key, *keys)
    try:
        rq_job = Job.fetch(rq_job_id, connection=conn)
    except NoSuchJobError:
        return
    try:
        rq_job.delete()
    except (ValueError, NoSuchJobError):  # an execution hash already expired: delete what is left
        conn.delete(rq_job.key, rq_job.execution_registry.key)


def mark_failed(session: Session, rq_job, reason: str, abandoned: bool, settings: TranscodeSettings,
                cause: str = "transient") -> None:
    """What RQ's failure callback does: in the work horse for an exception (a timeout, ffmpeg killed by
    a signal, an I/O error), from RQ's started registry cleanup (`abandoned`: AbandonedJobError) for an
    RQ job whose worker stopped heartbeating, and for a work horse that died without a word. The row is
    re-queued (RQ retries that same RQ job right after the callback) or failed, its folder withdrawn,
    but only while it is active and still names `rq_job`: a row `recover` re-queued under a new RQ job
    id, or one that finished, is left alone, and so is a running row whose heartbeat is still fresh
    when RQ calls it abandoned (its work horse outlived its worker and is still at work; RQ's retry of
    the old RQ job then finds nothing to run). `cause` is the failure counter's reason
    (`metrics.FAILURE_REASONS`): transient, or worker_died."""
    cause = "worker_died" if abandoned else cause
    row = session.scalar(select(TranscodeJob).where(TranscodeJob.rq_job_id == rq_job.id))
    if row is None or row.status not in ACTIVE:
        return
    if abandoned and row.status == "running" and not is_dead(row, settings.live_stale_s):
        log.warning("transcode job %s: RQ calls RQ job %s abandoned, but its heartbeat is fresh; left alone",
                    row.id, rq_job.id)
        return
    folder = row.output_dir or folder_name(row)
    if rq_job.should_retry:  # RQ requeues or schedules it right after this
        done = _set_if(session, row, ACTIVE, rq_job.id, status="queued", output_dir=None, progress=0.0,
                       error=f"attempt {row.attempts} failed: {reason}; retrying")
        if done:
            log.warning("transcode job %s: %s; %s retries left", row.id, reason, rq_job.retries_left,
                        extra=metrics.transcode_failure(row, cause, "retrying"))
    else:
        done = _set_if(session, row, ACTIVE, rq_job.id, status="failed", output_dir=None,
                       finished_at=utcnow(), error=reason)
        if done:
            log.warning("transcode job %s failed: %s", row.id, reason,
                        extra=metrics.transcode_failure(row, cause, "failed"))
    if done:
        shutil.rmtree(os.path.join(settings.hls_root, folder), ignore_errors=True)

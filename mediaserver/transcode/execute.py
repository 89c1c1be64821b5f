"""What runs inside the RQ job (`tasks.run_transcode` calls `run`): one attempt at a TranscodeJob,
from claiming its row to publishing its folder, and the row and folder primitives it shares with the
queue API (`jobs.py`) and with retries and recovery (`recovery.py`), which both build on this module.

An attempt writes into `<DATA_DIR>/hls/<media id>-<job id>-<attempt>/`, which players reach only
through `transcode_jobs.output_dir` (see `run.py`: EVENT playlists while running, VOD once done);
older ladders of the file are deleted only once the row points at the new one. The run claims its
row with a compare-and-set from `queued` to `running` under its own RQ job id, and from then on
works on the row only while it still names that RQ job: a thread writes `heartbeat_at` about every
second for as long as the process lives, and each of the run's own writes is preceded by a heartbeat
update that matches only while the row is still its own. A row taken over meanwhile (recovered as
dead, re-queued by RQ's abandoned-job handling, cancelled, failed by a source change) stops the run
(`Superseded`), which deletes its own folder and records nothing.
"""
from __future__ import annotations

import glob
import logging
import os
import shutil
import threading
import time

from flask import current_app
from rq import get_current_job
from sqlalchemy import event, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .. import metrics
from ..config import TranscodeSettings
from ..exceptions import TranscodeError
from ..models import MediaFile, TranscodeJob, utcnow
from .run import build_ladder

log = logging.getLogger("mediaserver.transcode")

#: The states of a job that may still run: waiting for a worker, or claimed by one.
ACTIVE = ("queued", "running")
#: A running job's heartbeat thread writes `heartbeat_at` this often (s): at most every second, and
#: at least four times per LIVE_STALE_S, the age after which a running row counts as dead.
HEARTBEAT_INTERVAL_S = 1.0


def settings() -> TranscodeSettings:
    """The current app's TranscodeSettings, read from its config now (a test may change it meanwhile).
    Everything below takes them as a parameter; `hls_root` is where published ladders live, and
    `live_stale_s` the age (s) after which a running job's heartbeat says its worker is dead (the age
    after which its live folder is no longer served either: `web/playback.py`)."""
    return TranscodeSettings.from_config(current_app.config)


def folder_name(job: TranscodeJob) -> str:
    """The folder (under `TranscodeSettings.hls_root`) of `job`'s current attempt: one per attempt, so
    that a run that lost its row (see `Superseded`) never writes into, or deletes, its successor's."""
    return f"{job.media_file_id}-{job.id}-{job.attempts}"


def same(column, value):
    """SQL `column = value`, or `column IS NULL` when `value` is None: a compare-and-set's match."""
    return column.is_(None) if value is None else column == value


def fail(session: Session, job: TranscodeJob, reason: str, hls_root: str) -> None:
    """Mark an active job failed; a live (EVENT) folder it was serving (under `hls_root`) is withdrawn
    and deleted."""
    folder = job.output_dir if job.status in ACTIVE else None
    job.status, job.error, job.finished_at = "failed", reason, utcnow()
    if folder:
        job.output_dir = None
    session.commit()
    if folder:
        shutil.rmtree(os.path.join(hls_root, folder), ignore_errors=True)


def unpublish(session: Session, media: MediaFile, keep: TranscodeJob | None = None) -> list[str]:
    """Stop pointing at `media`'s published ladders (all but `keep`'s) and commit. Returns their
    folder names under the HLS root, for the caller to delete once no request can be sent to them."""
    folders = []
    for job in media.jobs:
        if job.output_dir and job is not keep:
            folders.append(job.output_dir)
            job.output_dir = None
    session.commit()
    return folders


class Superseded(Exception):
    """A run's row is no longer its own: recovered as dead (its heartbeat had gone stale), re-queued
    by RQ's abandoned-job handling, cancelled, or failed by a source change. The run stops, deletes
    its own folder and records nothing."""


def _owned(job_id: int, rq_job_id: str | None):
    """The row `job_id` while it is running under RQ job `rq_job_id`: the run that claimed it owns it."""
    return (TranscodeJob.id == job_id, TranscodeJob.status == "running", same(TranscodeJob.rq_job_id, rq_job_id))


def _ownership_guard(job_id: int, rq_job_id: str | None):
    """A `before_flush` hook for a run's session: before any write to its row, take the row's write
    lock with a heartbeat update that only matches while the run owns it; raise Superseded if not. Its
    own writes (progress, the live folder, the outcome) so never land on a row that was taken over."""
    def before_flush(session: Session, _context, _instances) -> None:
        if not any(isinstance(o, TranscodeJob) and o.id == job_id for o in session.dirty):
            return
        held = session.connection().execute(
            update(TranscodeJob.__table__).where(*_owned(job_id, rq_job_id)).values(heartbeat_at=utcnow()))
        if held.rowcount != 1:
            raise Superseded(f"transcode job {job_id} is no longer run by RQ job {rq_job_id}")

    return before_flush


class _Heartbeat(threading.Thread):
    """Writes a running row's `heartbeat_at` every `interval` s, for as long as the process lives
    (through the keyframe scan, subtitles and the final measurement as well as the encode), until
    stopped or until the row stops being the run's own (then `lost` is set)."""

    def __init__(self, sessionmaker, job_id: int, rq_job_id: str | None, interval: float):
        super().__init__(name=f"transcode-heartbeat-{job_id}", daemon=True)
        self.sessionmaker, self.job_id, self.rq_job_id, self.interval = sessionmaker, job_id, rq_job_id, interval
        self.done, self.lost = threading.Event(), False

    def run(self) -> None:
        while not self.done.wait(self.interval):
            try:
                with self.sessionmaker() as session:
                    beat = session.execute(update(TranscodeJob).where(*_owned(self.job_id, self.rq_job_id))
                                           .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
                    session.commit()
            except SQLAlchemyError as exc:  # a busy database: try again next time
                log.warning("transcode job %s: heartbeat not written: %s", self.job_id, exc)
                continue
            if beat.rowcount != 1:
                self.lost = True
                return

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=10)


def run(session: Session, job_id: int, settings: TranscodeSettings, sessions: sessionmaker) -> str | None:
    """Run TranscodeJob `job_id` (inside its RQ job: `get_current_job()` names the run's owner) with
    `session`; `sessions` makes the heartbeat thread's own. Returns the published folder name, or None
    when the row was cancelled or taken over meanwhile (e.g. its source changed). Raises TranscodeError
    after recording it (undecodable input); any other exception may pass, and RQ's failure callback
    (`recovery.mark_failed`) decides on a retry."""
    current = get_current_job()
    job = session.get(TranscodeJob, job_id)
    if job is None:
        log.info("transcode job %s no longer exists; nothing to do", job_id)
        return None
    owner = current.id if current is not None else job.rq_job_id
    now = utcnow()
    claimed = session.execute(update(TranscodeJob).where(
        TranscodeJob.id == job_id, TranscodeJob.status == "queued", same(TranscodeJob.rq_job_id, owner)).values(
        status="running", started_at=now, heartbeat_at=now, progress=0.0, attempts=TranscodeJob.attempts + 1)
        .execution_options(synchronize_session=False))
    session.commit()
    if claimed.rowcount != 1:  # cancelled, or re-queued under a new RQ job id (see `recovery.recover`)
        log.info("transcode job %s is no longer queued under RQ job %s; nothing to do", job_id, owner)
        return None
    session.refresh(job)
    started, fields = time.monotonic(), metrics.job_fields(job)
    media = job.media_file
    root = settings.hls_root
    os.makedirs(root, exist_ok=True)
    final = folder_name(job)
    for leftover in glob.glob(os.path.join(root, f".tmp-{media.id}-*")) + [os.path.join(root, final)]:
        shutil.rmtree(leftover, ignore_errors=True)  # from a killed run
    out = os.path.join(root, final)
    os.makedirs(out)
    guard = _ownership_guard(job.id, owner)
    event.listen(session, "before_flush", guard)
    beat = _Heartbeat(sessions, job.id, owner, min(HEARTBEAT_INTERVAL_S, settings.live_stale_s / 4))
    beat.start()
    try:
        try:
            build_ladder(session, job, settings, out)
        except TranscodeError as exc:  # undecodable input: no retry
            _withdraw(session, job, root)
            fail(session, job, str(exc), root)
            log.warning("transcode job %s (%s) failed: %s", job.id, media.path, job.error,
                        extra=metrics.transcode_attempt(fields, "failed", started))
            return None
        session.refresh(job)
        if job.status != "running" or job.rq_job_id != owner:  # cancelled or taken over meanwhile
            shutil.rmtree(out, ignore_errors=True)
            log.info("transcode job %s: cancelled meanwhile", job.id,
                     extra=metrics.transcode_attempt(fields, "cancelled", started))
            return None
        job.status, job.output_dir, job.progress, job.finished_at, job.error = "succeeded", final, 100.0, utcnow(), None
        session.commit()
    except Superseded as exc:
        session.rollback()
        shutil.rmtree(out, ignore_errors=True)
        log.warning("%s; this run stops and deletes its folder %s", exc, final,
                    extra=metrics.transcode_attempt(fields, "superseded", started))
        return None
    except BaseException as exc:  # may pass: RQ's failure callback withdraws it and decides on a retry
        session.rollback()
        log.warning("transcode job %s: attempt stopped: %r", fields["job_id"], exc,
                    extra=metrics.transcode_attempt(fields, "error", started))
        raise
    finally:
        beat.stop()
        event.remove(session, "before_flush", guard)
    old_dirs = unpublish(session, media, keep=job)
    for folder in old_dirs:  # only once the new ladder is what the database points at
        shutil.rmtree(os.path.join(root, folder), ignore_errors=True)
    log.info("transcode job %s published %s", job.id, final,
             extra=metrics.transcode_attempt(fields, "succeeded", started))
    return final


def _withdraw(session: Session, job: TranscodeJob, hls_root: str) -> None:
    """Stop serving a job's (live) folder, then delete it."""
    folder = job.output_dir or folder_name(job)
    job.output_dir = None
    session.commit()
    shutil.rmtree(os.path.join(hls_root, folder), ignore_errors=True)

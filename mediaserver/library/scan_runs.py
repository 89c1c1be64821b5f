"""Library scans started from the admin UI: one `scan_runs` row per RQ job on the scan queue (the
pattern of `rqjobs.py`), its progress written as it goes and its summary at the end. The RQ entry
points are `tasks.run_scan` and `tasks.on_scan_failure`, which call `run` and `mark_failed` here.
"""
from __future__ import annotations

import time

from rq import Callback, Queue
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import rqjobs
from ..models import ScanRun, utcnow
from .scan import run_library_scan

#: Progress is written to `scan_runs` at most this often (s).
PROGRESS_INTERVAL_S = 0.5
#: RQ timeout of a scan job (s): a first scan of a large library on a slow disk can take hours.
SCAN_TIMEOUT_S = 6 * 3600
#: Why an active row whose RQ job is gone is marked failed.
WORKER_STOPPED = "the worker stopped before finishing"


def enqueue_scan(session: Session, queue: Queue, user_id: int | None) -> ScanRun:
    """Queue a scan of the whole library on `queue` (the scan queue); returns its `scan_runs` row.

    A scan already queued or running is returned instead of a second one; a row whose RQ job is
    gone is marked failed first. Raises redis.exceptions.RedisError when Redis is down (no row is
    then left behind).
    """
    active = session.scalar(select(ScanRun).where(ScanRun.status.in_(("queued", "running"))))
    if active is not None and rqjobs.alive(queue.connection, rq_job_id(active.id)):
        return active
    if active is not None:
        active.status, active.error, active.finished_at = "failed", WORKER_STOPPED, utcnow()
        session.commit()
    run = ScanRun(status="queued", requested_by=user_id)
    return rqjobs.launch(session, run, lambda: queue.enqueue(
        rqjobs.task("run_scan"), run.id, job_id=rq_job_id(run.id), job_timeout=SCAN_TIMEOUT_S,
        on_failure=Callback(rqjobs.task("on_scan_failure")), description="library scan"))


def rq_job_id(run_id: int) -> str:
    """The RQ job id of scan run `run_id`: `scan-<id>`."""
    return f"scan-{run_id}"


def mark_failed(session: Session, run_id: int, reason: str) -> None:
    """RQ's failure callback for a scan: the row, while still queued or running, says failed with `reason`."""
    run = session.get(ScanRun, run_id)
    if run is not None and run.status in ("queued", "running"):
        run.status, run.error, run.finished_at = "failed", reason, utcnow()
        session.commit()


def run(session: Session, run_id: int) -> str:
    """The scan job's work: the whole library (`run_library_scan`), progress into the row every
    PROGRESS_INTERVAL_S, the summary line and the last 200 messages at the end; returns the summary.
    A scan that raises is recorded as failed with its reason, then the exception goes on (to RQ)."""
    row = session.get(ScanRun, run_id)
    row.status, row.started_at = "running", utcnow()
    session.commit()
    last = 0.0

    def progress(_path: str, done: int, total: int) -> None:
        # The scan's own session: SQLite has one writer, and the scan holds it between commits.
        nonlocal last
        now = time.monotonic()
        if now - last >= PROGRESS_INTERVAL_S or done == total:
            current = session.get(ScanRun, run_id)
            current.done, current.total = done, total
            session.commit()
            last = now

    try:
        result = run_library_scan(session, [], progress=progress, scan_id=run_id)
    except Exception as exc:
        session.rollback()
        row = session.get(ScanRun, run_id)
        row.status, row.error, row.finished_at = "failed", str(exc), utcnow()
        session.commit()
        raise
    row = session.get(ScanRun, run_id)
    row.status, row.summary, row.finished_at = "done", result.summary.line(), utcnow()
    row.messages = result.messages[-200:]
    session.commit()
    return row.summary

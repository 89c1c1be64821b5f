"""The whole library scan, shared by `flask scan` and the admin's "Scan now" (an RQ job):
walk and probe (`scanner.scan`), drop stale ladders of changed files, catalog new files
(`catalog`), queue transcodes when the admin setting says so. Progress and messages go to callbacks.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from flask import current_app
from redis.exceptions import RedisError
from rq import Callback
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import catalog, enrich, metrics, settings
from .db import new_session
from .models import MediaFile, ScanRun, utcnow
from .scanner.probe import probe
from .scanner.scan import ProgressFn, ScanSummary, resolve_targets, scan
from .transcode import jobs
from .transcode.execute import with_app

log = logging.getLogger("mediaserver.scan")
Say = Callable[[str], None]
#: Progress is written to `scan_runs` at most this often (s) by the admin's scan job.
PROGRESS_INTERVAL_S = 0.5
#: RQ timeout of a scan job (s): a first scan of a large library on a slow disk can take hours.
SCAN_TIMEOUT_S = 6 * 3600


@dataclass
class LibraryScanResult:
    summary: ScanSummary
    catalog: catalog.CatalogSummary | None = None
    queued: int = 0
    messages: list[str] = field(default_factory=list)


def run_library_scan(session: Session, paths: list[str], progress: ProgressFn | None = None,
                     say: Say | None = None, scan_id: int | None = None) -> LibraryScanResult:
    """Scan `paths` (or every library folder), then catalog and queue. Messages go to `say` as lines
    such as `failed: <path>: <reason>`. Raises FileNotFoundError naming a missing folder, and
    ValueError when there is no library at all. `scan_id` (the admin's scan run) goes into the log."""
    messages: list[str] = []
    started = time.monotonic()

    def tell(line: str) -> None:
        messages.append(line)
        if say:
            say(line)

    roots = settings.library_roots(session)
    if not paths and not roots:
        raise ValueError("no library to scan: set MEDIASERVER_LIBRARY or add a folder in Settings")
    targets = resolve_targets(paths, roots)
    probe_fn = partial(probe, ffprobe=current_app.config["FFPROBE"], timeout_s=current_app.config["PROBE_TIMEOUT_S"])
    client = settings.tmdb_client(session)
    cataloguer = catalog.Cataloguer(session, client)
    try:
        summary = scan(session, targets, probe_fn, progress=progress, workers=current_app.config["PROBE_WORKERS"],
                       prepare=catalog.prepare_probed, stored=lambda media, info: cataloguer.add(media.id, info))
        result = _after_scan(session, summary, cataloguer, client, tell, messages)
        log.info("scan finished: %s", summary.line(),
                 extra=metrics.scan_finished(summary, time.monotonic() - started, scan_id))
        return result
    finally:
        if client is not None:
            client.close()


def _after_scan(session: Session, summary: ScanSummary, cataloguer: catalog.Cataloguer, client, tell: Say,
                messages: list[str]) -> LibraryScanResult:
    """Report, drop stale ladders, finish the catalog (moved and left-over files), retry, prune, queue."""
    if summary.moved:
        tell(f"moved or renamed: {summary.moved} (kept their ids, matches and ladders)")
    for warning in summary.warnings:
        tell(f"warning: {warning}")
    for path, reason in summary.failures:
        tell(f"failed: {path}: {reason}")
    for folder in summary.removed_output_dirs:
        shutil.rmtree(os.path.join(jobs.hls_root(), folder), ignore_errors=True)
    for media_id in summary.updated_ids:
        jobs.source_changed(session, session.get(MediaFile, media_id))
    result = LibraryScanResult(summary, messages=messages)
    if client is None:
        tell("catalog: no TMDB key (TMDB_API_KEY or Settings): titles come from file names only")
    # Moved files (their sidecars moved too), and any file an earlier pass left unlinked.
    for media_id in [*summary.moved_ids, *catalog.files_to_catalog(session)]:
        cataloguer.add(media_id)
    cataloguer.commit()
    result.catalog = cataloguer.summary
    if client is not None and not result.catalog.errors:
        enrich.retry_unmatched(session, client)  # titles made while TMDB failed or had no key
    catalog.prune(session)  # after the catalog, so a renamed file keeps its fixed match
    for error in result.catalog.errors:
        tell(f"warning: {error}")
    tell(result.catalog.line())
    if summary.added_ids and settings.auto_transcode(session):
        try:
            for media_id in summary.added_ids:
                jobs.enqueue(session, session.get(MediaFile, media_id))
                result.queued += 1
        except RedisError as exc:  # the scan itself ran
            tell(f"warning: nothing more queued for transcoding: the job queue (Redis) is unreachable: {exc}")
        tell(f"queued {result.queued} transcode job(s) for the worker (python worker.py)")
    return result


def forget_roots(session: Session, roots: list[str]) -> int:
    """Remove the catalogued files of library folders an admin removed (with their HLS ladders), then
    the titles left without files. Returns how many files went. The files on disk are not touched."""
    gone = 0
    for media in session.scalars(select(MediaFile).where(MediaFile.root.in_(roots))).all():
        for job in media.jobs:
            if job.output_dir:
                shutil.rmtree(os.path.join(jobs.hls_root(), job.output_dir), ignore_errors=True)
        session.delete(media)
        gone += 1
    session.commit()
    catalog.prune(session)
    return gone


def enqueue_scan(session: Session, user_id: int | None) -> ScanRun:
    """Queue a scan of the whole library on the scan queue; returns its `scan_runs` row.

    A scan already queued or running is returned instead of a second one.
    Raises redis.exceptions.RedisError when Redis is down.
    """
    active = session.scalar(select(ScanRun).where(ScanRun.status.in_(("queued", "running"))))
    if active is not None and _scan_alive(active):
        return active
    if active is not None:
        active.status, active.error, active.finished_at = "failed", "the worker stopped before finishing", utcnow()
        session.commit()
    run = ScanRun(status="queued", requested_by=user_id)
    session.add(run)
    session.commit()
    try:
        current_app.scan_queue.enqueue(run_scan_job, run.id, job_id=f"scan-{run.id}", job_timeout=SCAN_TIMEOUT_S,
                                       on_failure=Callback(on_scan_failure), description="library scan")
    except Exception:
        session.delete(run)  # nothing queued: no row may claim otherwise
        session.commit()
        raise
    return run


def _scan_alive(run: ScanRun) -> bool:
    """Whether RQ still has the scan's job waiting or running."""
    try:
        status = Job.fetch(f"scan-{run.id}", connection=current_app.redis).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def run_scan_job(run_id: int) -> str:
    """RQ entry point for the admin's scan: progress into `scan_runs`, the summary line at the end."""
    return with_app(_scan_job, run_id)


def on_scan_failure(rq_job, connection, exc_type, exc_value, tb) -> None:
    """RQ failure callback: the row says failed, with the reason."""
    def mark() -> None:
        with new_session() as session:
            run = session.get(ScanRun, rq_job.args[0])
            if run is not None and run.status in ("queued", "running"):
                run.status, run.error, run.finished_at = "failed", str(exc_value) or exc_type.__name__, utcnow()
                session.commit()

    with_app(mark)


def _scan_job(run_id: int) -> str:
    with new_session() as session:
        run = session.get(ScanRun, run_id)
        run.status, run.started_at = "running", utcnow()
        session.commit()
        last = 0.0

        def progress(_path: str, done: int, total: int) -> None:
            # The scan's own session: SQLite has one writer, and the scan holds it between commits.
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL_S or done == total:
                row = session.get(ScanRun, run_id)
                row.done, row.total = done, total
                session.commit()
                last = now

        try:
            result = run_library_scan(session, [], progress=progress, scan_id=run_id)
        except Exception as exc:
            session.rollback()
            run = session.get(ScanRun, run_id)
            run.status, run.error, run.finished_at = "failed", str(exc), utcnow()
            session.commit()
            raise
        run = session.get(ScanRun, run_id)
        run.status, run.summary, run.finished_at = "done", result.summary.line(), utcnow()
        run.messages = result.messages[-200:]
        session.commit()
        return run.summary

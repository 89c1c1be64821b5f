"""The whole library scan, shared by `flask scan` and the admin's "Scan now" (an RQ job, `scan_runs.py`):
walk and probe (`files.scan`), drop stale ladders of changed files, catalog new files (`catalog`),
queue transcodes when the admin's preference says so. Progress and messages go to callbacks.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import metrics
from ..config import LibrarySettings
from ..models import MediaFile
from ..scanner.probe import probe
from ..scanner import names
from ..scanner.walk import resolve_targets
from . import catalog, enrich, music, prefs
from .files import ProgressFn, ScanSummary, scan

log = logging.getLogger("mediaserver.scan")
Say = Callable[[str], None]


@dataclass
class LibraryScanResult:
    """What a whole scan did: the files' `summary`, the catalog pass's, how many transcodes it queued,
    and every line it said (`failed: <path>: <reason>`, warnings, the catalog's line)."""

    summary: ScanSummary
    catalog: catalog.CatalogSummary | None = None
    queued: int = 0
    messages: list[str] = field(default_factory=list)


def run_library_scan(session: Session, paths: list[str], progress: ProgressFn | None = None,
                     say: Say | None = None, scan_id: int | None = None,
                     settings: LibrarySettings | None = None) -> LibraryScanResult:
    """Scan `paths` (or every library folder), then catalog and queue. Messages go to `say` as lines
    such as `failed: <path>: <reason>`. Raises FileNotFoundError naming a missing folder, ValueError
    when there is no library at all, ScanAborted when a probe process died. `scan_id` (the admin's
    scan run) goes into the log; `settings` default to the current app's (`prefs.settings()`)."""
    messages: list[str] = []
    started = time.monotonic()
    settings = settings or prefs.settings()

    def tell(line: str) -> None:
        messages.append(line)
        if say:
            say(line)

    roots = prefs.library_roots(session, settings)
    if not paths and not roots:
        raise ValueError("no library to scan: set MEDIASERVER_LIBRARY or add a folder in Settings")
    targets = resolve_targets(paths, roots)
    probe_fn = partial(probe, ffprobe=settings.ffprobe, timeout_s=settings.probe_timeout_s)
    client = prefs.tmdb_client(session, settings)
    cataloguer = catalog.Cataloguer(session, client, settings.images_dir)
    try:
        summary = scan(session, targets, probe_fn, progress=progress, workers=settings.probe_workers,
                       prepare=catalog.prepare_probed, stored=lambda media, info: cataloguer.add(media.id, info),
                       before_fork=names.load)
        result = _after_scan(session, summary, cataloguer, client, tell, messages, settings)
        log.info("scan finished: %s", summary.line(),
                 extra=metrics.scan_finished(summary, time.monotonic() - started, scan_id))
        return result
    finally:
        if client is not None:
            client.close()


def _after_scan(session: Session, summary: ScanSummary, cataloguer: catalog.Cataloguer, client, tell: Say,
                messages: list[str], settings: LibrarySettings) -> LibraryScanResult:
    """Report, drop stale ladders, finish the catalog (moved and left-over files), retry, prune, queue.
    The transcode queue (and with it RQ) is imported only when a file changed or is to be queued."""
    if summary.moved:
        tell(f"moved or renamed: {summary.moved} (kept their ids, matches and ladders)")
    for warning in summary.warnings:
        tell(f"warning: {warning}")
    for path, reason in summary.failures:
        tell(f"failed: {path}: {reason}")
    for folder in summary.removed_output_dirs:
        shutil.rmtree(os.path.join(settings.hls_root, folder), ignore_errors=True)
    if summary.updated_ids:
        from ..transcode import jobs

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
    music.regroup_albums(session, cataloguer.album_places)  # once the folders' files are all known
    music.prune(session)
    for error in result.catalog.errors:
        tell(f"warning: {error}")
    tell(result.catalog.line())
    if summary.added_ids and prefs.auto_transcode(session, settings):
        from redis.exceptions import RedisError

        from ..transcode import jobs

        try:
            for media_id in summary.added_ids:
                media = session.get(MediaFile, media_id)
                if jobs.worth_pre_transcoding(media):  # not an audio file played as it is
                    jobs.enqueue(session, media)
                    result.queued += 1
        except RedisError as exc:  # the scan itself ran
            tell(f"warning: nothing more queued for transcoding: the job queue (Redis) is unreachable: {exc}")
        tell(f"queued {result.queued} transcode job(s) for the worker (python worker.py)")
    return result


def forget_roots(session: Session, roots: list[str], settings: LibrarySettings | None = None) -> int:
    """Remove the catalogued files of library folders an admin removed (with their HLS ladders), then
    the titles left without files. Returns how many files went. The files on disk are not touched."""
    gone, hls_root = 0, (settings or prefs.settings()).hls_root
    for media in session.scalars(select(MediaFile).where(MediaFile.root.in_(roots))).all():
        for job in media.jobs:
            if job.output_dir:
                shutil.rmtree(os.path.join(hls_root, job.output_dir), ignore_errors=True)
        session.delete(media)
        gone += 1
    session.commit()
    catalog.prune(session)
    music.prune(session)
    return gone

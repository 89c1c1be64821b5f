"""The `media_files` table kept in step with the disk: walk the library (`scanner.walk`), probe new or
changed files once each in a pool of processes, upsert them keyed by (root, path).

A file is unchanged when its (size, mtime) equal the stored ones: it is then never probed again.
A file that vanished from one path and appears at another with the same size and fingerprint
(SHA-256 of its size and first and last 64 KiB) was moved or renamed: its row, and so its id, its
catalog match and its HLS ladder, follow it. Probing runs in a bounded pool of processes, each
running ffprobe, reading the fingerprint and `prepare` (the catalog's name parsing, ~5 ms of guessit
a file) for one file at a time: a pool of threads would share one GIL, and a thread's next ffprobe
would wait for another's guessit. The database is written from the calling process.
Vanished files are removed, but never under a folder the walk could not read, nor when a root
that had files is suddenly empty (an unmounted disk must not wipe the catalog and its ladders).
A symlink that leads out of its library folder is recorded as failed (`paths.OUTSIDE_LIBRARY`) and
never probed nor fingerprinted; a file that was readable and has become such a link is failed the
same way, and its ladders go with it (`transcode.jobs.source_changed`, as for any changed file).
Sidecar files (subtitles, `.nfo`, images) are not media files; the catalog links them.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import metrics
from ..exceptions import ProbeError, ScanAborted
from ..lifetime import die_with_parent
from ..models import MediaFile, Stream, utcnow
from ..paths import OUTSIDE_LIBRARY
from ..scanner.probe import ProbeResult
from ..scanner.walk import ScanTarget, fingerprint_or_none, list_media

ProbeFn = Callable[[str], ProbeResult]
ProgressFn = Callable[[str, int, int], None]
#: Called in a pool process after a successful probe: (root, rel_path, ProbeResult) -> anything.
PrepareFn = Callable[[str, str, ProbeResult], Any]
#: Called in the calling thread once a readable file is stored: (media file, what `prepare` made or None).
StoredFn = Callable[[MediaFile, Any], None]
#: The database is committed at least this often (s) during a scan, not after every file: an
#: interrupted scan loses at most this much work, and a first scan is not bound by fsyncs.
COMMIT_INTERVAL_S = 0.5
#: What the stored stream facts include; an unchanged file catalogued by an older version is probed
#: once more. 2: level, pix_fmt, colour transfer and primaries, VFR and forced flags (playback decision).
PROBE_VERSION = 2


@dataclass
class ScanSummary:
    """Counts of one scan. `added_ids`: new or changed files that probed fine (to catalog and
    transcode); `updated_ids`: changed files, whatever their probe said; `moved`: files found at
    a new path (counted as updated); `warnings`: sentences for the operator; `failures`: (path,
    ffprobe's reason, or `paths.OUTSIDE_LIBRARY`)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    moved: int = 0
    added_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    moved_ids: list[int] = field(default_factory=list)
    removed_output_dirs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    def line(self) -> str:
        """The summary line `added N, updated N, unchanged N, removed N, failed N`."""
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed}, failed {self.failed}")


@dataclass
class _Found:
    root: str
    rel: str
    st: os.stat_result
    outside: bool = False  # a symlink leading out of the root (`st` is the link's own)

    @property
    def abs_path(self) -> str:
        return os.path.join(self.root, self.rel)


def scan(session: Session, targets: list[ScanTarget], probe: ProbeFn, progress: ProgressFn | None = None,
         workers: int = 1, prepare: PrepareFn | None = None, stored: StoredFn | None = None,
         before_fork: Callable[[], None] | None = None) -> ScanSummary:
    """Scan `targets`, probing only new or changed files, at most `workers` ffprobe at a time.

    `probe(abs_path)` returns a ProbeResult or raises ProbeError (stored as a failed file).
    `prepare(root, rel, result)`, when given, runs in the pool after each successful probe (overlapping other
    probes). Both run in pool processes, so they must pickle (module-level functions or partials of them)
    and their results too. `stored(media, prepared)` runs here once that readable file is stored (flushed, not
    necessarily committed: it must commit before doing work it may roll back).
    `before_fork()` runs here once before the pool starts, when there is anything to probe (loading
    what every pool process would otherwise import for itself: `names.load`).
    `progress(rel_path, done, total)` is called once per file seen. Commits every COMMIT_INTERVAL_S
    and at the end. Raises ScanAborted (after committing what was stored) when a probe process dies.
    """
    summary = ScanSummary()
    found: list[_Found] = []
    gone: list[MediaFile] = []
    for target in targets:
        known = {m.path: m for m in session.scalars(select(MediaFile).where(MediaFile.root == target.root))
                 if _under(m.path, _prefix(target))}
        unreadable: list[str] = []
        outside: list[tuple[str, os.stat_result]] = []
        seen = {rel: _Found(target.root, rel, st) for rel, st in list_media(target, unreadable, outside)}
        seen |= {rel: _Found(target.root, rel, st, outside=True) for rel, st in outside}
        found += seen.values()
        summary.warnings += [f"cannot read {target.root}/{rel}; skipped" for rel in unreadable]
        if known and not seen:
            summary.warnings.append(f"{target.start} holds no media file any more (unmounted?); "
                                    f"kept its {len(known)} catalogued files")
            continue
        gone += [m for rel, m in known.items() if rel not in seen and not any(_under(rel, u) for u in unreadable)]
    known_at = {(m.root, m.path): m for m in session.scalars(select(MediaFile))}
    moved = _match_moves(gone, [f for f in found if (f.root, f.rel) not in known_at and not f.outside])
    done = 0

    def tick(rel: str) -> None:
        nonlocal done
        done += 1
        if progress:
            progress(rel, done, len(found))

    to_probe: list[tuple[_Found, MediaFile | None, bool]] = []  # (file, its row, probed by an older version)
    for item in found:
        media = known_at.get((item.root, item.rel))
        if item.outside:  # never probed: recorded failed once, then left alone like any unchanged file
            if media is not None and (media.status, media.error) == ("failed", OUTSIDE_LIBRARY):
                summary.unchanged += 1
            else:
                _store(session, item, media, None, OUTSIDE_LIBRARY, None, summary)
            tick(item.rel)
        elif id(item) in moved:
            media = moved[id(item)]
            media.root, media.path, media.mtime = item.root, item.rel, item.st.st_mtime
            session.commit()
            summary.moved_ids.append(media.id)
            summary.moved += 1
            summary.updated += 1
            tick(item.rel)
        elif (media is not None and (media.size, media.mtime) == (item.st.st_size, item.st.st_mtime)
              and media.probe_version < PROBE_VERSION and media.status == "ok"):
            to_probe.append((item, media, True))  # unchanged, but probed before today's stream facts existed
        elif media is not None and (media.size, media.mtime) == (item.st.st_size, item.st.st_mtime):
            if media.fingerprint is None:  # catalogued before fingerprints existed: read 128 KiB once
                media.fingerprint = fingerprint_or_none(item.abs_path, item.st.st_size)
                session.commit()
            summary.unchanged += 1
            tick(item.rel)
        else:
            to_probe.append((item, media, False))
    last_commit = time.monotonic()
    if to_probe and before_fork is not None:
        before_fork()
    with _probe_pool(min(max(1, workers), len(to_probe))) as pool:
        # Probes run in parallel; results are stored in path order, so new files get their ids in
        # that order whatever order the probes finish in (ids stay predictable from scan to scan).
        futures = {pool.submit(_probe_one, probe, prepare, item.root, item.rel, item.st.st_size):
                   (item, media, refresh) for item, media, refresh in sorted(to_probe, key=lambda entry: entry[0].rel)}
        for future in futures:
            item, media, refresh = futures[future]
            try:
                result, error, print_, prepared = future.result()
            except BrokenProcessPool:
                session.commit()
                raise ScanAborted(f"the scan stopped at {item.rel}: a probe process died (killed, or out of "
                                  f"memory); the {summary.added + summary.updated} file(s) stored so far are kept, "
                                  "and the next scan goes on from there") from None
            if error is not None:
                metrics.FFPROBE_FAILURES.inc()
            media = _store(session, item, media, result, error, print_, summary, refresh)
            if stored is not None and result is not None:
                session.flush()
                stored(media, prepared)  # commits before any work of its own it may roll back
            if time.monotonic() - last_commit >= COMMIT_INTERVAL_S:
                session.commit()
                last_commit = time.monotonic()
            tick(item.rel)
    session.commit()
    moved_rows = {id(m) for m in moved.values()}
    for media in gone:
        if id(media) in moved_rows:
            continue
        summary.removed_output_dirs += [j.output_dir for j in media.jobs if j.output_dir]
        session.delete(media)
        summary.removed += 1
    session.commit()
    return summary


def _match_moves(gone: list[MediaFile], new_files: list[_Found]) -> dict[int, MediaFile]:
    """Pair new paths with vanished rows of the same size and fingerprint: {id(found): row}."""
    by_size: dict[int, list[MediaFile]] = {}
    for media in gone:
        if media.fingerprint:
            by_size.setdefault(media.size, []).append(media)
    moved: dict[int, MediaFile] = {}
    for item in new_files:
        rows = by_size.get(item.st.st_size)
        if not rows:
            continue
        print_ = fingerprint_or_none(item.abs_path, item.st.st_size)
        match = next((m for m in rows if print_ and m.fingerprint == print_), None)
        if match is not None:
            rows.remove(match)
            moved[id(item)] = match
    return moved


def _probe_pool(workers: int) -> ProcessPoolExecutor | nullcontext:
    """`workers` probe processes, forked: they start at once with the scanner's modules (and guessit)
    already imported, and touch nothing they inherit but the files they read. They die with the
    scanning process. None needed (an unchanged library): no process at all."""
    if workers < 1:
        return nullcontext()
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent)


def _probe_one(probe: ProbeFn, prepare: PrepareFn | None, root: str, rel: str, size: int) -> tuple:
    """Runs in a pool process: (result, ffprobe's error, fingerprint, prepared); no database access."""
    abs_path = os.path.join(root, rel)
    print_ = fingerprint_or_none(abs_path, size)
    try:
        result = probe(abs_path)
    except ProbeError as exc:
        return None, str(exc), print_, None
    prepared = None
    if prepare is not None:
        try:
            prepared = prepare(root, rel, result)
        except Exception:  # noqa: BLE001 - the catalog prepares again from scratch when this fails
            prepared = None
    return result, None, print_, prepared


def _store(session: Session, item: _Found, media: MediaFile | None, result: ProbeResult | None,
           error: str | None, print_: str | None, summary: ScanSummary, refresh: bool = False) -> MediaFile:
    """Write one probe's outcome. `refresh`: an unchanged file probed again for newer stream facts
    (PROBE_VERSION): counted unchanged, its ladder and catalog entry kept."""
    is_new = media is None
    if is_new:
        media = MediaFile(root=item.root, path=item.rel)
        session.add(media)
    elif not refresh:
        summary.updated_ids.append(media.id)
    media.size, media.mtime, media.probed_at, media.fingerprint = item.st.st_size, item.st.st_mtime, utcnow(), print_
    media.probe_version = PROBE_VERSION
    media.streams.clear()
    if result is None:
        media.status, media.error = "failed", error
        media.container = media.duration_ms = media.bit_rate = None
        summary.failed += 1
        summary.failures.append((item.rel, error))
        return media
    media.status, media.error = "ok", None
    media.container, media.duration_ms, media.bit_rate = result.container, result.duration_ms, result.bit_rate
    media.streams.extend(Stream(**vars(s)) for s in result.streams)
    session.flush()
    if refresh:
        summary.unchanged += 1
        return media
    summary.added_ids.append(media.id)
    if is_new:
        summary.added += 1
    else:
        summary.updated += 1
    return media


def _prefix(target: ScanTarget) -> str:
    return Path(target.start).relative_to(target.root).as_posix()


def _under(rel: str, prefix: str) -> bool:
    return prefix in ("", ".") or rel == prefix or rel.startswith(prefix + "/")

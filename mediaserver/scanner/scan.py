"""Walk the library, probe new or changed files once, upsert them keyed by (root, path).

A file is unchanged when its (size, mtime) equal the stored ones: it is then never probed again.
Vanished files are removed, but never under a folder the walk could not read, nor when a root
that had files is suddenly empty (an unmounted disk must not wipe the catalog and its ladders).
Sidecar files (subtitles `.srt`/`.vtt`/`.ass`/`.ssa`, `.nfo`, images) are not media files and are
skipped here; linking them to their video is the catalog's job (issue 3).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..exceptions import ProbeError
from ..models import MediaFile, Stream, utcnow
from .probe import ProbeResult

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".ts", ".m2ts", ".mts",
    ".mpg", ".mpeg", ".vob", ".3gp", ".ogv",
}
AUDIO_EXTENSIONS = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wav", ".wma", ".alac", ".aiff", ".ape"}
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS

ProbeFn = Callable[[str], ProbeResult]


@dataclass(frozen=True)
class ScanTarget:
    """A folder (or one file) to scan, and the library root its paths are relative to (both absolute)."""

    root: str
    start: str


@dataclass
class ScanSummary:
    """Counts of one scan. `added_ids`: new or changed files that probed fine (for auto-transcode);
    `updated_ids`: changed files, whatever their probe said; `warnings`: sentences for the operator."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    added_ids: list[int] = field(default_factory=list)
    updated_ids: list[int] = field(default_factory=list)
    removed_output_dirs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, ffprobe's reason)

    def line(self) -> str:
        """The summary line `added N, updated N, unchanged N, removed N, failed N`."""
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed}, failed {self.failed}")


def resolve_targets(paths: list[str], roots: list[str]) -> list[ScanTarget]:
    """Map command-line paths onto library roots.

    No paths: every root. A path inside a configured root is scanned as part of that root; any other
    existing folder becomes a root of its own (a file: its folder). Raises FileNotFoundError naming
    the first path or root that does not exist.
    """
    wanted = paths or roots
    targets = []
    for raw in wanted:
        path = Path(raw).resolve()
        if not path.exists():
            raise FileNotFoundError(f"{raw}: no such file or folder")
        root = next((r for r in roots if path == Path(r) or Path(r) in path.parents), None)
        if root is None:
            root = str(path if path.is_dir() else path.parent)
        targets.append(ScanTarget(root=root, start=str(path)))
    return targets


def list_media(target: ScanTarget, unreadable: list[str] | None = None) -> Iterator[tuple[str, os.stat_result]]:
    """Yield (path relative to the root with `/` separators, stat) for every media file, sorted.

    Folders and files that cannot be read are appended to `unreadable` (paths relative to the root)
    instead of stopping the walk; so are names that are not valid UTF-8 (the database needs text).
    """
    unreadable = unreadable if unreadable is not None else []
    start = Path(target.start)

    def note(path: str | os.PathLike) -> None:
        unreadable.append(Path(path).relative_to(target.root).as_posix().encode("utf-8", "replace").decode())

    if start.is_file():
        candidates = [start]
    else:
        candidates = []
        for dirpath, dirnames, filenames in os.walk(start, onerror=lambda err: note(err.filename)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            candidates.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
    for path in candidates:
        if path.suffix.lower() not in MEDIA_EXTENSIONS:
            continue
        rel = path.relative_to(target.root).as_posix()
        try:
            rel.encode("utf-8")
            st = path.stat()
        except (UnicodeEncodeError, OSError):
            note(path)
            continue
        yield rel, st


def scan(session: Session, targets: list[ScanTarget], probe: ProbeFn,
         progress: Callable[[str], None] | None = None) -> ScanSummary:
    """Scan `targets`, probing only new or changed files; commits after every file.

    `probe(abs_path)` returns a ProbeResult or raises ProbeError (stored as a failed file).
    `progress(rel_path)` is called once per file seen. Returns the ScanSummary.
    """
    summary = ScanSummary()
    for target in targets:
        prefix = Path(target.start).relative_to(target.root).as_posix()
        known = {m.path: m for m in session.scalars(select(MediaFile).where(MediaFile.root == target.root))
                 if _under(m.path, prefix)}
        seen: set[str] = set()
        unreadable: list[str] = []
        for rel, st in list_media(target, unreadable):
            seen.add(rel)
            _scan_one(session, target.root, rel, st, known.get(rel), probe, summary)
            session.commit()
            if progress:
                progress(rel)
        summary.warnings += [f"cannot read {target.root}/{rel}; skipped" for rel in unreadable]
        gone = [rel for rel in known if rel not in seen and not any(_under(rel, bad) for bad in unreadable)]
        if known and not seen:
            summary.warnings.append(f"{target.start} holds no media file any more (unmounted?); "
                                    f"kept its {len(known)} catalogued files")
            gone = []
        for rel in gone:
            media = known[rel]
            summary.removed_output_dirs += [j.output_dir for j in media.jobs if j.output_dir]
            session.delete(media)
            summary.removed += 1
        session.commit()
    return summary


def _scan_one(session: Session, root: str, rel: str, st: os.stat_result, media: MediaFile | None,
              probe: ProbeFn, summary: ScanSummary) -> None:
    if media is not None and media.size == st.st_size and media.mtime == st.st_mtime:
        summary.unchanged += 1
        return
    is_new = media is None
    if is_new:
        media = MediaFile(root=root, path=rel)
        session.add(media)
    else:
        summary.updated_ids.append(media.id)
    media.size, media.mtime, media.probed_at = st.st_size, st.st_mtime, utcnow()
    media.streams.clear()
    try:
        result = probe(os.path.join(root, rel))
    except ProbeError as exc:
        media.status, media.error = "failed", str(exc)
        media.container = media.duration_ms = media.bit_rate = None
        summary.failed += 1
        summary.failures.append((rel, str(exc)))
        return
    media.status, media.error = "ok", None
    media.container, media.duration_ms, media.bit_rate = result.container, result.duration_ms, result.bit_rate
    media.streams.extend(Stream(**vars(s)) for s in result.streams)
    session.flush()
    summary.added_ids.append(media.id)
    if is_new:
        summary.added += 1
    else:
        summary.updated += 1


def _under(rel: str, prefix: str) -> bool:
    return prefix in ("", ".") or rel == prefix or rel.startswith(prefix + "/")

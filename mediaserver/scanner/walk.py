"""The library's files on disk (I/O edge, no database): which files a scan takes, where each belongs,
and the fingerprint that recognises a file after a move or a rename."""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..paths import resolves_inside

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".ts", ".m2ts", ".mts",
    ".mpg", ".mpeg", ".vob", ".3gp", ".ogv",
}
AUDIO_EXTENSIONS = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wav", ".wma", ".alac", ".aiff", ".ape"}
MEDIA_EXTENSIONS = VIDEO_EXTENSIONS | AUDIO_EXTENSIONS
#: Bytes hashed at each end of a file for its fingerprint (issue 3: "first and last 64 KiB").
FINGERPRINT_EDGE_BYTES = 64 * 1024


@dataclass(frozen=True)
class ScanTarget:
    """A folder (or one file) to scan, and the library root its paths are relative to (both absolute)."""

    root: str
    start: str


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


def list_media(target: ScanTarget, unreadable: list[str] | None = None,
               outside: list[tuple[str, os.stat_result]] | None = None) -> Iterator[tuple[str, os.stat_result]]:
    """Yield (path relative to the root with `/` separators, stat) for every media file, sorted.

    Folders and files that cannot be read are appended to `unreadable` (paths relative to the root)
    instead of stopping the walk; so are names that are not valid UTF-8 (the database needs text).
    A symlink whose real path leaves the root is not yielded but appended to `outside` as (relative
    path, the link's own lstat): nothing of its target is read. (The walk enters no symlinked folder,
    so only a file that is itself a symlink can lead out.)
    """
    unreadable = unreadable if unreadable is not None else []
    outside = outside if outside is not None else []
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
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                if not resolves_inside(str(path), target.root):
                    outside.append((rel, st))
                    continue
                st = path.stat()
        except (UnicodeEncodeError, OSError):
            note(path)
            continue
        yield rel, st


def fingerprint(path: str, size: int) -> str:
    """Hex SHA-256 of the size and the first and last FINGERPRINT_EDGE_BYTES of the file.

    Raises OSError when the file cannot be read.
    """
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(FINGERPRINT_EDGE_BYTES))
        if size > 2 * FINGERPRINT_EDGE_BYTES:
            fh.seek(size - FINGERPRINT_EDGE_BYTES)
        digest.update(fh.read(FINGERPRINT_EDGE_BYTES))
    return digest.hexdigest()


def fingerprint_or_none(path: str, size: int) -> str | None:
    """`fingerprint`, or None when the file cannot be read (it is then matched by nothing)."""
    try:
        return fingerprint(path, size)
    except OSError:
        return None

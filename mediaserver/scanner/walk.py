"""The library's files on disk (I/O edge, no database): which files a scan takes, where each belongs,
and the fingerprint that recognises a file after a move or a rename."""
from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..paths import check_library_root, is_within, resolves_inside

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".flv", ".ts", ".m2ts", ".mts",
    ".mpg", ".mpeg", ".vob", ".3gp", ".ogv",
}
#: Music and other audio (issue 14): AIFF, audiobooks (.m4b), Musepack, WavPack, TTA, TAK, OptimFROG, DSD
#: (.dsf, .dff), Speex, AC-3, Matroska audio; `.oggflac` and `.oggtheora` are the names mutagen's test files use.
AUDIO_EXTENSIONS = {".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".wav", ".wma", ".alac", ".aiff", ".ape",
                    ".aif", ".aifc", ".m4b", ".mpc", ".wv", ".tta", ".tak", ".ofr", ".ofs", ".dsf", ".dff", ".spx",
                    ".ac3", ".eac3", ".mka", ".3g2", ".oggflac", ".oggtheora"}
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

    No paths: every root. A path inside a configured root (once symlinks are resolved) is scanned as
    part of that root; any other existing folder becomes a root of its own (a file: its folder).
    Raises FileNotFoundError naming the first path or root that does not exist, and ValueError for a
    relative path, for a path inside a root that leads out of it through a symlink, and for a root
    that cannot be a library folder (`paths.check_library_root`: `/`, `/etc`...).
    """
    wanted = paths or roots
    targets = []
    for raw in wanted:
        if not os.path.isabs(raw):
            raise ValueError(f"{raw!r} is a relative path: give it as an absolute path ({os.path.abspath(raw)}?)")
        if not os.path.exists(raw):
            raise FileNotFoundError(f"{raw}: no such file or folder")
        path = os.path.realpath(raw)
        root = _root_of(path, roots)
        named_in = _root_of(os.path.normpath(raw), roots)
        if root is None and named_in is not None:
            raise ValueError(f"{raw} leads outside the library folder {named_in} (to {path}): not scanned")
        if root is None:
            root = check_library_root(path if os.path.isdir(path) else os.path.dirname(path))
        else:
            check_library_root(root)  # a folder stored before such folders were refused
        targets.append(ScanTarget(root=root, start=path))
    return targets


def _root_of(path: str, roots: list[str]) -> str | None:
    """The first of `roots` that `path` lies in (by name), or None."""
    return next((r for r in roots if is_within(path, r)), None)


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

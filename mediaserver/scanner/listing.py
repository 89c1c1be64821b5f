"""Folder listings cached by the folder's mtime: a scan reads each folder once, not once per video
(sidecar subtitles and NFO files are looked up for every file). A folder whose entries change gets a
new mtime (POSIX: adding, removing or renaming an entry updates it), so the cache never goes stale."""
from __future__ import annotations

import os
from functools import lru_cache

#: Folders kept (the ones of the current scan; a library folder of 500 entries is ~40 KiB here).
CACHED_FOLDERS = 1024


def entries(folder: str) -> tuple[str, ...]:
    """Sorted names in `folder`. Raises OSError when it cannot be read."""
    return _entries(folder, os.stat(folder).st_mtime_ns)


def by_lower_name(folder: str) -> dict[str, str]:
    """{name.lower(): name} for `folder` (first in sorted order wins). Raises OSError."""
    return _lower(folder, os.stat(folder).st_mtime_ns)


def with_extensions(folder: str, extensions: frozenset[str]) -> tuple[str, ...]:
    """Sorted names in `folder` whose extension (lower case, with the dot) is in `extensions`."""
    return _with_ext(folder, os.stat(folder).st_mtime_ns, extensions)


@lru_cache(maxsize=CACHED_FOLDERS)
def _entries(folder: str, _mtime_ns: int) -> tuple[str, ...]:
    return tuple(sorted(os.listdir(folder)))


@lru_cache(maxsize=CACHED_FOLDERS)
def _lower(folder: str, mtime_ns: int) -> dict[str, str]:
    names: dict[str, str] = {}
    for name in _entries(folder, mtime_ns):
        names.setdefault(name.lower(), name)
    return names


@lru_cache(maxsize=CACHED_FOLDERS)
def _with_ext(folder: str, mtime_ns: int, extensions: frozenset[str]) -> tuple[str, ...]:
    return tuple(n for n in _entries(folder, mtime_ns) if os.path.splitext(n)[1].lower() in extensions)

"""Where the server may read a library's files from (the file system, nothing else): every file read
on a title's behalf (the scan's probe and fingerprint, NFO and subtitle sidecars, the transcode's
source, stand-in frames, direct play) must resolve inside its library folder once symlinks are
followed, and some folders may not be library folders at all (issue 13: a symlink in a library
folder led ffmpeg, and so `/hls/...`, to any file of the machine). The scanner, the library, the
transcode, the images and the web layer all ask here; it imports nothing of the project.

Paths are `str`, absolute; "inside" includes the folder itself.
"""
from __future__ import annotations

import os

from werkzeug.security import safe_join

#: The reason recorded (a media file's `error`, a transcode job's) for a file whose real path leaves
#: its library folder; also what viewers are shown.
OUTSIDE_LIBRARY = "links outside the library folder"

#: Folders of the system that hold no media: refused as library folders, and so is every folder under
#: them (configuration and secrets; the kernel's and the processes' views; devices).
SYSTEM_FOLDERS = ("/etc", "/proc", "/sys", "/dev")
#: Refused as library folders themselves, though a folder under them is not: the whole file system,
#: and the superuser's home (its keys, its shell history), which a library folder must not expose.
WHOLE_FOLDERS = ("/", "/root")


def is_within(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies under it, comparing the names only (no symlink is followed;
    both absolute and normalised, as `os.path.realpath` or `os.path.normpath` gives them)."""
    return os.path.commonpath([path, folder]) == folder


def resolves_inside(path: str, root: str) -> bool:
    """Whether the real path of `path` (every symlink followed, a missing file included) lies inside
    the real path of the library folder `root`. False for a symlink that leads out of it, however
    many hops it takes; a symlink that stays inside is fine."""
    if "\x00" in path:  # os.path raises ValueError on it
        return False
    return is_within(os.path.realpath(path), os.path.realpath(root))


def resolved_inside(base: str, subpath: str) -> str | None:
    """The real path of `base/subpath` when it is a file inside `base` once symlinks are resolved, else
    None (`..`, an absolute path, a symlink that leads out, a NUL byte, a folder, nothing there).
    `subpath` comes from a URL: werkzeug's `safe_join` refuses what could name a path outside."""
    if "\x00" in subpath:
        return None
    base = os.path.realpath(base)
    path = safe_join(base, subpath)
    if path is None:
        return None
    real = os.path.realpath(path)
    return real if is_within(real, base) and os.path.isfile(real) else None


def check_library_root(folder: str) -> str:
    """The real path of `folder` when it may be a library folder. Raises ValueError with a sentence
    for a relative path (it would depend on the working folder of each process), for `/` and `/root`
    (WHOLE_FOLDERS), and for `/etc`, `/proc`, `/sys`, `/dev` and any folder under them
    (SYSTEM_FOLDERS), named directly or reached through a symlink. Whether it exists is the caller's
    check."""
    if not os.path.isabs(folder):
        raise ValueError(f"{folder!r} is a relative path: give a library folder as an absolute path, "
                         "such as /srv/films")
    real = os.path.realpath(folder)
    for path in dict.fromkeys((os.path.normpath(folder), real)):
        if path in WHOLE_FOLDERS:
            raise ValueError(f"{_named(folder, path)} cannot be a library folder: name the folder that "
                             "holds the media, such as /srv/films")
        system = next((s for s in SYSTEM_FOLDERS if is_within(path, s)), None)
        if system is not None:
            raise ValueError(f"{_named(folder, path)} cannot be a library folder: {system} is a system "
                             "folder and holds no media")
    return real


def _named(given: str, path: str) -> str:
    """`given`, and where it leads when that is another folder."""
    return given if os.path.normpath(given) == path else f"{given} (which is {path})"

"""External subtitle files next to a video: name -> language and flags (pure), and the folder listing (I/O edge).

Naming follows Jellyfin's external-file convention (https://jellyfin.org/docs/general/server/media/external-files):
`<video stem>[.<flag or language>...].<ext>`, e.g. `Film.en.srt`, `Film.forced.eng.vtt`, `Film.English.sdh.srt`.
"""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from functools import lru_cache

from ..paths import is_within, resolves_inside
from . import listing

SUBTITLE_EXTENSIONS = {".srt", ".vtt", ".ass", ".ssa", ".sub", ".idx"}  # .sub/.idx are VobSub (bitmap)
# The subtitle format each extension stands for. `.sub` is taken to be VobSub (paired with `.idx`), not MicroDVD text.
_FORMATS = {".srt": "srt", ".vtt": "webvtt", ".ass": "ass", ".ssa": "ssa", ".sub": "vobsub", ".idx": "vobsub"}
# Jellyfin flags: `forced`/`foreign` for forced subtitles; `sdh`, `cc`, `hi` for the deaf and hard of hearing
# (so `.hi.` is the flag, never Hindi: write Hindi as `hin` or `hindi`).
_FORCED_FLAGS = {"forced", "foreign"}
_SDH_FLAGS = {"sdh", "cc", "hi"}
_SUBTITLE_EXTENSIONS = frozenset(SUBTITLE_EXTENSIONS)


@lru_cache(maxsize=1)
def video_extensions() -> frozenset[str]:
    """guessit's own list of video extensions (".mkv", ...): a subtitle named for a longer video stem
    belongs to that video. Read once, when first needed (guessit loads where it is used)."""
    from guessit.options import load_config

    return frozenset("." + ext.lower() for ext in load_config({})["advanced_config"]["container"]["videos"])


@dataclass(frozen=True)
class SidecarSubtitle:
    """One external subtitle file of a video.

    `path` is relative to the library root with `/` separators. `language` is an ISO 639-2/B code ("eng",
    "fre") or None when the name gives none. `forced` marks forced/foreign-parts-only subtitles, `sdh` subtitles
    for the deaf and hard of hearing. `format` is "srt", "webvtt", "ass", "ssa" or "vobsub".
    """

    path: str
    language: str | None
    forced: bool
    sdh: bool
    format: str


def parse_sidecar(video_rel: str, subtitle_rel: str) -> SidecarSubtitle | None:
    """The subtitle's facts when `subtitle_rel` belongs to `video_rel`, else None.

    Both paths are relative to the library root with `/` separators. It belongs when it is in the same folder,
    has a subtitle extension, and its name minus the extension is the video's stem, or the stem followed by "."
    and dot-separated parts (compared ignoring case): `Movie 2.en.srt` does not belong to `Movie.mkv`.
    The parts, in any order, are flags (`forced`, `foreign`, `sdh`, `cc`, `hi`) or a language
    (`en`, `eng`, `fre`/`fra`, `English`, `pt-BR`); unknown parts are ignored and the first language wins.
    Pure.
    """
    video_dir, video_name = posixpath.split(video_rel.replace("\\", "/"))
    subtitle_dir, subtitle_name = posixpath.split(subtitle_rel.replace("\\", "/"))
    if posixpath.normpath(video_dir or ".") != posixpath.normpath(subtitle_dir or "."):
        return None
    video_stem = posixpath.splitext(video_name)[0]
    subtitle_stem, ext = posixpath.splitext(subtitle_name)
    ext = ext.lower()
    if ext not in SUBTITLE_EXTENSIONS or not video_stem or subtitle_name == video_name:
        return None
    if subtitle_stem.casefold() == video_stem.casefold():
        rest = ""
    elif subtitle_stem.casefold().startswith(video_stem.casefold() + "."):
        rest = subtitle_stem[len(video_stem) + 1:]
    else:
        return None

    language: str | None = None
    forced = sdh = False
    for part in (p.strip() for p in rest.split(".")):
        lowered = part.lower()
        if lowered in _FORCED_FLAGS:
            forced = True
        elif lowered in _SDH_FLAGS:
            sdh = True
        elif language is None:
            language = language_code(part)
    return SidecarSubtitle(
        path=subtitle_rel.replace("\\", "/"), language=language, forced=forced, sdh=sdh, format=_FORMATS[ext],
    )


def language_code(tag: str) -> str | None:
    """ISO 639-2/B code for a language tag in a file name, via babelfish; None when it is not one.

    Accepts ISO 639-1 ("en" -> "eng"), ISO 639-2/B or /T ("fre", "fra" -> "fre"), an English name
    ("English", "english" -> "eng") and an IETF tag ("pt-BR" -> "por"). "und" (undetermined) gives None.
    Languages with no 639-2/B code give their ISO 639-3 code.
    """
    from babelfish import Error as BabelfishError
    from babelfish import Language

    tag = tag.strip()
    attempts: list[tuple[str, str]]
    if len(tag) == 2:
        attempts = [("alpha2", tag.lower())]
    elif len(tag) == 3:
        attempts = [("alpha3b", tag.lower()), ("alpha3t", tag.lower())]
    elif "-" in tag or "_" in tag:
        attempts = [("ietf", tag.replace("_", "-"))]
    else:
        attempts = [("name", tag)]  # babelfish's name lookup ignores case
    for converter, value in attempts:
        try:
            language = Language.fromietf(value) if converter == "ietf" else Language.fromcode(value, converter)
        except (BabelfishError, ValueError, KeyError):
            continue
        if language.alpha3 == "und":
            return None
        try:
            return str(language.alpha3b)
        except BabelfishError:
            return str(language.alpha3)
    return None


def find_sidecars(video_abs_path: str, library_root: str) -> list[SidecarSubtitle]:
    """The subtitle files next to a video that `parse_sidecar` accepts, sorted by path.

    Lists only the video's folder. A subtitle that also matches another video in the folder with a longer
    stem goes to that video (`Movie.Part.2.en.srt` belongs to `Movie.Part.2.mkv`, not `Movie.mkv`).
    A subtitle that is a symlink leading out of `library_root` is left out (it is never read).
    An unreadable folder gives []. Raises ValueError when the video is not inside `library_root`.
    """
    root = os.path.normpath(os.path.abspath(library_root))
    video = os.path.normpath(os.path.abspath(video_abs_path))
    folder = os.path.dirname(video)
    if not is_within(video, root) or video == root:
        raise ValueError(f"{video_abs_path} is not inside the library root {library_root}")
    folder_rel = os.path.relpath(folder, root).replace(os.sep, "/")
    prefix = "" if folder_rel == "." else folder_rel + "/"
    video_stem = os.path.splitext(os.path.basename(video))[0]
    try:  # the folder's subtitle files, listed once per scan (listing.py), then only this video's
        entries = [e for e in listing.with_extensions(folder, _SUBTITLE_EXTENSIONS)
                   if e.lower().startswith(video_stem.lower())]
        if not entries:
            return []
        videos = listing.with_extensions(folder, video_extensions())
    except OSError:
        return []
    video_rel = prefix + os.path.basename(video)
    rivals = [
        prefix + entry for entry in videos
        if len(os.path.splitext(entry)[0]) > len(video_stem) and entry != os.path.basename(video)
    ]
    found = []
    for entry in entries:
        path = os.path.join(folder, entry)
        if not os.path.isfile(path) or not resolves_inside(path, root):
            continue
        subtitle = parse_sidecar(video_rel, prefix + entry)
        if subtitle is None or any(parse_sidecar(rival, subtitle.path) for rival in rivals):
            continue
        found.append(subtitle)
    return sorted(found, key=lambda s: s.path)

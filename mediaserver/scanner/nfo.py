"""Kodi/Jellyfin NFO sidecars: parse (pure), apply to a name guess (pure), find and read them (I/O edge).

Format: https://kodi.wiki/view/NFO_files (movies: `<movie>`, shows: `<tvshow>`, episodes: `<episodedetails>`;
ids in `<uniqueid type="tmdb|imdb">`, older files use `<id>`, `<tmdbid>`, `<imdbid>`).
"""
from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from ..paths import is_within, resolves_inside
from . import listing
from .names import NameGuess, season_folder_number

# The root elements Kodi writes, and the kind each one stands for.
_ROOTS = {"movie": "movie", "tvshow": "tvshow", "episodedetails": "episode"}
# ElementTree expands internal entities; with no defusedxml we refuse any DTD outright (no "billion laughs").
_DTD = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# The first element after the XML declaration, comments and processing instructions.
_ROOT_TAG = re.compile(r"^(?:\s|<\?.*?\?>|<!--.*?-->)*<([A-Za-z_][\w.-]*)", re.DOTALL)
_IMDB_ID = re.compile(r"^tt\d+$")
_YEAR_PREFIX = re.compile(r"^\s*(\d{4})")
# Kodi NFO files are small; anything bigger is not one (and is not worth reading into memory).
MAX_NFO_BYTES = 1 << 20


@dataclass(frozen=True)
class NfoInfo:
    """The facts an NFO gives; every field None when the file leaves it out.

    `kind` is "movie", "tvshow" or "episode" (root element `movie` / `tvshow` / `episodedetails`).
    `title` is the movie's, the show's or the episode's own title. `year` is `<year>`, else the year of
    `<premiered>`/`<aired>`/`<releasedate>`. `tmdb_id` is numeric, `imdb_id` like "tt0133093".
    `season`/`episode` only for episodes.
    """

    kind: str
    title: str | None
    year: int | None
    plot: str | None
    tmdb_id: int | None
    imdb_id: str | None
    season: int | None = None
    episode: int | None = None


def parse_nfo(text: str) -> NfoInfo | None:
    """Parse the text of a Kodi NFO file; None when it is not Kodi NFO XML.

    None for: a plain URL file (Kodi's "URL-only" NFO), malformed XML, any DOCTYPE/ENTITY declaration
    (refused to avoid entity expansion), or a root other than movie/tvshow/episodedetails. Text after the root
    element (Kodi's "XML + URL" combination NFO, or the 2nd `<episodedetails>` of a multi-episode file) is
    ignored. Pure; never raises for bad input.
    """
    text = text.lstrip("\ufeff")
    if _DTD.search(text):
        return None
    root_match = _ROOT_TAG.match(text)
    if root_match is None or root_match.group(1).lower() not in _ROOTS:
        return None
    tag = root_match.group(1)
    end = text.find(f"</{tag}>")
    if end != -1:
        text = text[: end + len(tag) + 3]
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    kind = _ROOTS[root.tag.lower()]

    uniqueids = {(el.get("type") or "").strip().lower(): _text(el) for el in root.findall("uniqueid")}
    legacy_id = _child(root, "id")
    tmdb_id = _positive_int(uniqueids.get("tmdb")) or _positive_int(_child(root, "tmdbid"))
    if tmdb_id is None and kind == "movie":
        tmdb_id = _positive_int(legacy_id)  # a numeric <id> in a <tvshow> is a TVDB id, not TMDB's
    imdb_id = next((v.lower() for v in (uniqueids.get("imdb"), _child(root, "imdbid"), legacy_id)
                    if v and _IMDB_ID.match(v.lower())), None)

    year = _positive_int(_child(root, "year"))
    if year is None:
        for date_tag in ("premiered", "aired", "releasedate"):
            date_match = _YEAR_PREFIX.match(_child(root, date_tag) or "")
            if date_match and int(date_match.group(1)) > 0:
                year = int(date_match.group(1))
                break

    return NfoInfo(
        kind=kind,
        title=_child(root, "title"),
        year=year,
        plot=_child(root, "plot") or _child(root, "outline"),
        tmdb_id=tmdb_id,
        imdb_id=imdb_id,
        season=_non_negative_int(_child(root, "season")) if kind == "episode" else None,
        episode=_non_negative_int(_child(root, "episode")) if kind == "episode" else None,
    )


def apply_nfo(guess: NameGuess, nfo: NfoInfo) -> NameGuess:
    """`guess` with the NFO's values taking precedence (a None NFO value keeps the guess's), `source="nfo"`.

    - `movie`: kind "movie"; title, year, plot, tmdb/imdb ids; episode fields cleared.
    - `tvshow`: kind "episode"; the SHOW's title, first-air year, tmdb/imdb ids (its plot is the show's, so the
      episode's plot is left alone).
    - `episode`: kind "episode"; episode_title, season, episode number, plot. Its ids and aired year are the
      episode's own, so the show-level title/year/ids are left alone. A multi-episode guess (S01E01-E02) keeps
      its numbers when the NFO's episode is the first of them.
    Pure.
    """
    if nfo.kind == "movie":
        return replace(
            guess, kind="movie", title=nfo.title or guess.title, year=_pick(nfo.year, guess.year),
            plot=nfo.plot or guess.plot, tmdb_id=_pick(nfo.tmdb_id, guess.tmdb_id),
            imdb_id=nfo.imdb_id or guess.imdb_id, season=None, episodes=(), episode_title=None, source="nfo",
        )
    if nfo.kind == "tvshow":
        return replace(
            guess, kind="episode", title=nfo.title or guess.title, year=_pick(nfo.year, guess.year),
            tmdb_id=_pick(nfo.tmdb_id, guess.tmdb_id), imdb_id=nfo.imdb_id or guess.imdb_id, source="nfo",
        )
    episodes = guess.episodes
    if nfo.episode is not None and (not episodes or episodes[0] != nfo.episode):
        episodes = (nfo.episode,)
    return replace(
        guess, kind="episode", episode_title=nfo.title or guess.episode_title, season=_pick(nfo.season, guess.season),
        episodes=episodes, plot=nfo.plot or guess.plot, source="nfo",
    )


def find_nfo(video_abs_path: str, library_root: str) -> list[str]:
    """Absolute paths of the existing NFO files for a video, in precedence order (highest first).

    Kodi/Jellyfin layout: `<file stem>.nfo` next to the video, then `movie.nfo` in the same folder, then
    `tvshow.nfo` in the show folder: the parent of a `Season NN` folder, else the video's own folder and then
    its parent. Names match case-insensitively. Never looks above `library_root`, and leaves out an NFO
    file that is a symlink leading out of it (never read).
    Raises ValueError when the video is not inside `library_root`.
    """
    root = os.path.normpath(os.path.abspath(library_root))
    video = os.path.normpath(os.path.abspath(video_abs_path))
    folder = os.path.dirname(video)
    if not is_within(folder, root):
        raise ValueError(f"{video_abs_path} is not inside the library root {library_root}")
    stem = os.path.splitext(os.path.basename(video))[0]
    candidates = [(folder, stem + ".nfo"), (folder, "movie.nfo")]
    parent = os.path.dirname(folder)
    if season_folder_number(os.path.basename(folder)) is not None:
        show_folders = [parent]
    else:
        show_folders = [folder, parent]
    candidates += [(show, "tvshow.nfo") for show in show_folders if is_within(show, root)]

    found: list[str] = []
    for directory, name in candidates:
        path = _existing(directory, name)
        if path is not None and path not in found and resolves_inside(path, root):
            found.append(path)
    return found


def nfo_for(video_abs_path: str, library_root: str, guess: NameGuess) -> NameGuess:
    """`guess` with the video's NFO files applied (see `find_nfo` and `apply_nfo`); `guess` itself when none.

    Lowest precedence is applied first so `<stem>.nfo` wins. `movie.nfo` is used for movies and `tvshow.nfo`
    (the show's title and ids) for episodes, each only when its root element matches; `<stem>.nfo` is used
    whatever it describes. Unreadable, oversized or non-NFO files are ignored.
    Raises ValueError when the video is not inside `library_root`.
    """
    expected = {"movie.nfo": "movie" if guess.kind == "movie" else None,
                "tvshow.nfo": "tvshow" if guess.kind == "episode" else None}
    for path in reversed(find_nfo(video_abs_path, library_root)):
        name = os.path.basename(path).lower()
        nfo = _read_nfo(path)
        if nfo is None or (name in expected and nfo.kind != expected[name]):
            continue
        guess = apply_nfo(guess, nfo)
    return guess


def _read_nfo(path: str) -> NfoInfo | None:
    """Read and parse one NFO file; None when it cannot be read, is too big, or is not NFO XML."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_NFO_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_NFO_BYTES:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")  # older Windows tools write ISO-8859-1
    return parse_nfo(text)


def _existing(directory: str, name: str) -> str | None:
    """The file in `directory` whose name equals `name` ignoring case (exact spelling first), else None."""
    try:
        names = listing.by_lower_name(directory)
    except OSError:
        return None
    entry = name if name in names.values() and os.path.isfile(os.path.join(directory, name)) else names.get(name.lower())
    path = os.path.join(directory, entry) if entry else None
    return path if path and os.path.isfile(path) else None


def _text(element: ET.Element | None) -> str | None:
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def _child(root: ET.Element, tag: str) -> str | None:
    return _text(root.find(tag))


def _non_negative_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _positive_int(value: str | None) -> int | None:
    number = _non_negative_int(value)
    return number if number else None


def _pick(first: int | None, second: int | None) -> int | None:
    return first if first is not None else second

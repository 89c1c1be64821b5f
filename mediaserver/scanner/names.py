"""A title guess from a file's path inside the library (pure: no I/O, no Flask, no database).

guessit parses the release names; this module only decides which path component to trust:
the file name first, then the folder layout Jellyfin and Kodi document (https://jellyfin.org/docs/general/server/media/movies,
https://jellyfin.org/docs/general/server/media/shows): `Movie (Year)/file`, `Show (Year)/Season NN/file`,
and provider ids in brackets (`[tmdbid-603]`) on the file or any parent folder.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


@dataclass(frozen=True)
class NameGuess:
    """What a path (and later an NFO) says a file is.

    `kind` is "movie" or "episode". `title` is the movie title, or the SHOW title for episodes; never empty.
    `year` is the movie's year or the show's first-air year. `season`/`episodes`/`episode_title` are for
    episodes only (`episodes` holds several numbers for multi-episode files such as S01E01-E02).
    `tmdb_id` is TMDB's numeric id, `imdb_id` an IMDb id like "tt0133093". `country` is an ISO 3166-1 alpha-2
    code ("US", "GB") when the name says "(US)"/"(UK)". `plot` only comes from an NFO; `source` is "name" or
    "nfo" once an NFO was applied.
    """

    kind: str
    title: str
    year: int | None
    season: int | None = None
    episodes: tuple[int, ...] = ()
    episode_title: str | None = None
    tmdb_id: int | None = None
    imdb_id: str | None = None
    country: str | None = None
    plot: str | None = None
    source: str = "name"


# Jellyfin naming: `[tmdbid-603]`, `[imdbid-tt0133093]`, `{tmdb-603}` (also `=` instead of `-`); tvdb tags are
# stripped from titles too but not reported.
_ID_TAG = re.compile(r"\s*[\[{]\s*(tmdbid|tmdb|imdbid|imdb|tvdbid|tvdb)\s*[-=]\s*([^\]}\s]+)\s*[\]}]", re.IGNORECASE)
_IMDB_ID = re.compile(r"^tt\d+$")
# Jellyfin/Kodi naming: `Season 01`, `Season 1`, `S01`, `Specials` (season 0); common translations accepted.
_SEASON_DIR = re.compile(r"^(?:season|series|saison|staffel|temporada|stagione|s)[\s._-]*(\d{1,4})$", re.IGNORECASE)
_SPECIALS_DIR = re.compile(r"^specials?$", re.IGNORECASE)


def provider_ids(name: str) -> tuple[int | None, str | None]:
    """`(tmdb_id, imdb_id)` from provider-id tags in one path component, each None when absent or malformed.

    Jellyfin/Kodi naming: `[tmdbid-603]`, `[tmdb-603]`, `{tmdb-603}`, `{tmdbid-603}`, `[imdbid-tt0133093]`,
    `{imdb-tt0133093}`. The first well-formed tag of each kind wins.
    """
    tmdb_id: int | None = None
    imdb_id: str | None = None
    for match in _ID_TAG.finditer(name):
        provider, value = match.group(1).lower(), match.group(2)
        if provider.startswith("tmdb") and tmdb_id is None and value.isdigit():
            tmdb_id = int(value)
        elif provider.startswith("imdb") and imdb_id is None and _IMDB_ID.match(value.lower()):
            imdb_id = value.lower()
    return tmdb_id, imdb_id


def strip_provider_ids(name: str) -> str:
    """`name` without its provider-id tags (`The Matrix (1999) [tmdbid-603]` -> `The Matrix (1999)`), trimmed."""
    return _ID_TAG.sub("", name).strip()


def season_folder_number(name: str) -> int | None:
    """The season number a folder name stands for (`Season 02` -> 2, `Specials` -> 0), else None.

    Jellyfin/Kodi naming: episodes sit in `Show/Season NN/`; specials in `Show/Specials/` (season 0).
    """
    name = name.strip()
    if _SPECIALS_DIR.match(name):
        return 0
    match = _SEASON_DIR.match(name)
    return int(match.group(1)) if match else None


def guess_from_path(rel_path: str) -> NameGuess:
    """Guess what the file at `rel_path` is, from its name and its folders.

    `rel_path` is relative to the library root with `/` separators, e.g.
    `Shows/The Office (US)/Season 02/The Office (US) - S02E01-E02 - The Dundies.mkv`.
    The file name is parsed by guessit; `Show/Season NN/file` supplies the show title, year and country when the
    file name lacks them, and a `Movie (Year)` folder (or one with a provider id) supplies the movie title and
    year unless the file name gives a different year. Provider ids come from the file name first, then the
    nearest folder outward. The title falls back to guessit's title of the file name, then its stem.
    Raises ValueError only when `rel_path` names no file (empty); odd names never raise.
    """
    parts = [p for p in rel_path.replace("\\", "/").split("/") if p and p != "."]
    if not parts:
        raise ValueError("rel_path names no file")
    file_name, folders = parts[-1], parts[:-1]

    tmdb_id, imdb_id = None, None
    for part in reversed(parts):
        part_tmdb, part_imdb = provider_ids(part)
        tmdb_id = tmdb_id if tmdb_id is not None else part_tmdb
        imdb_id = imdb_id if imdb_id is not None else part_imdb

    clean_file = strip_provider_ids(file_name)
    found = _guess(clean_file)
    title, year, country = _text(found.get("title")), _int(found.get("year")), _country(found.get("country"))

    season_dir = season_folder_number(folders[-1]) if folders else None
    is_episode = found.get("type") == "episode" or season_dir is not None
    if is_episode:
        # The show folder: the parent of `Season NN`, else the file's own folder.
        show_dir = folders[-2] if season_dir is not None and len(folders) >= 2 else None
        if season_dir is None and folders:
            show_dir = folders[-1]
        show = _guess(strip_provider_ids(show_dir)) if show_dir is not None else {}
        show_title = _text(show.get("title"))
        episode_title = _text(found.get("episode_title"))
        if show_title and title is not None and episode_title is None:
            # `Show/Season 2/S02E01 - The Dundies.mkv`: alone, guessit takes the episode title for the show's;
            # given the show folder in front it tells them apart.
            context = _guess("/".join([show_title, *(folders[-1:] if season_dir is not None else []), clean_file]))
            context_episode_title = _text(context.get("episode_title"))
            if context_episode_title and context_episode_title.casefold() == title.casefold():
                title, episode_title = None, context_episode_title
        if season_dir is not None and found.get("episode") is None:
            # `Show/Season 1/Pilot.mkv`: the name is the episode's, not the show's
            title, episode_title = None, episode_title or title
        if show_title and (title is None or title.casefold() == show_title.casefold()):
            title = title or show_title
            year = year if year is not None else _int(show.get("year"))
            country = country or _country(show.get("country"))
        season = _int(found.get("season"))
        return NameGuess(
            kind="episode",
            title=title or _fallback_title(clean_file),
            year=year,
            season=season if season is not None else season_dir,
            episodes=_ints(found.get("episode")),
            episode_title=episode_title,
            tmdb_id=tmdb_id,
            imdb_id=imdb_id,
            country=country,
        )

    if folders:
        folder_name = folders[-1]
        folder = _guess(strip_provider_ids(folder_name), type="movie")
        folder_title, folder_year = _text(folder.get("title")), _int(folder.get("year"))
        is_movie_folder = folder_year is not None or provider_ids(folder_name) != (None, None)
        if folder_title and is_movie_folder and (year is None or folder_year is None or year == folder_year):
            title, year = folder_title, year if year is not None else folder_year
    return NameGuess(
        kind="movie",
        title=title or _fallback_title(clean_file),
        year=year,
        tmdb_id=tmdb_id,
        imdb_id=imdb_id,
        country=country,
    )


def load() -> None:
    """Import guessit now (it compiles its rules on import: ~0.15 s), e.g. before forking the processes
    that will each parse names; otherwise it loads with the first name parsed."""
    import guessit  # noqa: F401


def _guess(name: str, **options: Any) -> dict[str, Any]:
    """guessit's properties for one path component; {} when guessit gives up. Memoised: a folder's
    name is parsed once for all its files (guessit costs ~5 ms a call here)."""
    return dict(_guess_cached(name, tuple(sorted(options.items()))))


@lru_cache(maxsize=4096)
def _guess_cached(name: str, options: tuple) -> tuple:
    from guessit import guessit  # loaded where it is used: a rescan of unchanged files parses no name
    from guessit.api import GuessitException

    if not name:
        return ()
    try:
        return tuple(guessit(name, dict(options) or None).items())
    except GuessitException:
        return ()


def _fallback_title(file_name: str) -> str:
    """guessit's title of the file name, else its stem, else the name itself: never empty."""
    stem = posixpath.splitext(file_name)[0].strip()
    return _text(_guess(file_name).get("title")) or stem or file_name.strip() or "Untitled"


def _first(value: Any) -> Any:
    """guessit gives a list when a property matched several times: keep the first."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _text(value: Any) -> str | None:
    value = _first(value)
    text = str(value).strip() if value is not None else ""
    return text or None


def _int(value: Any) -> int | None:
    value = _first(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _ints(value: Any) -> tuple[int, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(v for v in values if isinstance(v, int) and not isinstance(v, bool))


def _country(value: Any) -> str | None:
    """babelfish Country -> ISO 3166-1 alpha-2 ("GB" for guessit's "UK")."""
    value = _first(value)
    code = getattr(value, "alpha2", None)
    return str(code) if code else None

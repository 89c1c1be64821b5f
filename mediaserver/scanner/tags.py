"""A track's tags normalised (pure: no I/O, no mutagen, no Flask, database or Redis).

`scanner.tagreader` turns each format's keys (ID3 frames, Vorbis comments, MP4 atoms, APEv2, ASF) into
one raw mapping named by Picard's internal tag names (https://picard-docs.musicbrainz.org/en/appendices/tag_mapping.html):
`title`, `artist`, `artists`, `albumartist`, `album`, `tracknumber`, `totaltracks`, `discnumber`, `totaldiscs`,
`date`, `year`, `originaldate`, `genre`, `composer`, `compilation`, `musicbrainz_recordingid`,
`musicbrainz_albumid`, `musicbrainz_artistid`, `musicbrainz_albumartistid`, `replaygain_{track,album}_{gain,peak}`;
each a list of str. `from_raw` makes the frozen `TrackTags` of it. Every function here takes any input
without raising: text is cleaned (control characters and lone surrogates dropped, NFC, trimmed) and each
field capped at `MAX_TEXT` characters, each list at `MAX_VALUES` values.
"""
from __future__ import annotations

import math
import posixpath
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, fields, replace
from datetime import date as _date
from typing import Any, Iterable, Mapping

MAX_TEXT = 500  #: characters a field keeps
MAX_VALUES = 50  #: values a list field keeps (artists, genres, ...)
_MAX_RAW = 32_000  #: characters of one raw value looked at, before splitting
VARIOUS_ARTISTS = "Various Artists"
UNKNOWN_ARTIST = "Unknown Artist"

# ID3v2.4 (id3v2.4.0-structure, section 4.2): text frames hold several strings separated by NUL. `;` and ` / `
# are the separators taggers write where a format holds one string (Picard joins multi-value tags with "; "
# for ID3v2.3, foobar2000 and Mp3tag use ";", older taggers " / "). A bare "/" is kept: "AC/DC".
_SEPARATORS = re.compile(r"\x00|;|\s+/\s+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_NUMBER_PAIR = re.compile(r"^\s*(\d*)\s*(?:/\s*(\d*)\s*)?$")
_DATE = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?(?:[T\s].*)?$")
_ANY_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
_GAIN = re.compile(r"^\s*([+-]?\d+(?:[.,]\d+)?)\s*(?:db)?\s*$", re.IGNORECASE)
_FILE_NUMBER = re.compile(r"^(\d{1,3})(?:\s*[-._]\s*|\s+)(\S.*)$")
_DISC_FOLDER = re.compile(r"^(?:disc|disk|cd)\s*[-_.]?\s*(\d{1,3})$", re.IGNORECASE)
_FOLDER_YEAR = re.compile(r"^(.*?)\s*[(\[](\d{4})[)\]]\s*$")
_TRUE = frozenset({"1", "true", "yes", "y", "on"})


@dataclass(frozen=True)
class TrackTags:
    """What a track's tags say, normalised. Text fields are str or None, list fields tuples (possibly empty).

    Numbers are ints in 1..9999 or None. `date` is ISO 8601 (`"2004"`, `"2004-05"`, `"2004-05-06"`), `year`
    its year. MusicBrainz ids are lower-case UUID strings. ReplayGain gains are in dB, peaks linear amplitude
    (1.0 is full scale). `compilation` is the tag's flag (iTunes `cpil`/`TCMP`, Vorbis `COMPILATION`).
    """

    title: str | None = None
    artists: tuple[str, ...] = ()
    album_artists: tuple[str, ...] = ()
    album: str | None = None
    track_number: int | None = None
    track_total: int | None = None
    disc_number: int | None = None
    disc_total: int | None = None
    year: int | None = None
    date: str | None = None
    genres: tuple[str, ...] = ()
    composers: tuple[str, ...] = ()
    musicbrainz_track_id: str | None = None
    musicbrainz_album_id: str | None = None
    musicbrainz_artist_ids: tuple[str, ...] = ()
    musicbrainz_album_artist_id: str | None = None
    replaygain_track_gain_db: float | None = None
    replaygain_track_peak: float | None = None
    replaygain_album_gain_db: float | None = None
    replaygain_album_peak: float | None = None
    compilation: bool = False

    def is_empty(self) -> bool:
        """True when no field holds a value (a file without tags)."""
        return self == TrackTags()


@dataclass(frozen=True)
class AlbumKey:
    """Which album a track belongs to: `album_artist` and `title` to show, `match` to compare (casefolded)."""

    album_artist: str
    title: str
    match: tuple[str, str]


def clean_text(value: Any) -> str | None:
    """One tag value as display text, or None when nothing is left.

    Anything goes in (str, bytes as UTF-8 with replacement, numbers, None). Tabs and line breaks become
    spaces; other control characters (Unicode category Cc) and lone surrogates (Cs, left by odd encodings,
    which JSON cannot encode) are dropped; the result is NFC, trimmed and at most MAX_TEXT characters.
    """
    text = _as_str(value)
    if text is None:
        return None
    text = unicodedata.normalize("NFC", text[:_MAX_RAW])
    text = "".join(ch for ch in text if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cs"))
    text = " ".join(text.split())[:MAX_TEXT].strip()  # every run of white space (tabs, line breaks) one space
    return text or None


def split_artists(values: Any) -> tuple[str, ...]:
    """Several artists from one or several tag values: `["A;B"]`, `["A / B", "C"]`, `["A\\x00B"]` -> `("A", "B", ...)`.

    Separators: NUL (ID3v2.4 section 4.2 separates the strings of a text frame with it; APEv2 items too),
    `;` with or without spaces, and `/` with spaces around it; several frames or Vorbis comments of one
    name (Vorbis comment spec: "field names may be repeated") are values of their own. Values are cleaned
    (`clean_text`), empties dropped, duplicates (casefolded) dropped keeping the first, at most MAX_VALUES.
    Never split on `&`, `,`, `and`, `feat.`, nor a bare `/`: "Simon & Garfunkel", "Earth, Wind & Fire" and
    "AC/DC" are one artist each, and the artist credit of "A feat. B" is what the tagger wrote.
    """
    out: list[str] = []
    seen: set[str] = set()
    for value in _as_list(values):
        text = _as_str(value)
        if text is None:
            continue
        for part in _SEPARATORS.split(text[:_MAX_RAW]):
            name = clean_text(part)
            if name and name.casefold() not in seen:
                seen.add(name.casefold())
                out.append(name)
                if len(out) >= MAX_VALUES:
                    return tuple(out)
    return tuple(out)


def parse_number_pair(value: Any) -> tuple[int | None, int | None]:
    """A position and a total from `"3/11"` (ID3 TRCK/TPOS, APEv2 Track/Disc, ASF WM/TrackNumber) -> `(3, 11)`.

    `"03"` -> `(3, None)`, `" 3 / 11 "` -> `(3, 11)`, `"3/"` -> `(3, None)`, `"/11"` -> `(None, 11)`; ints pass
    through. Each part is an int in 1..9999, else None (`"0"`, `"99999"`, `"junk"` -> None).
    """
    if isinstance(value, bool):
        return None, None
    if isinstance(value, int):
        return _in_range(value), None
    text = _as_str(value)
    match = _NUMBER_PAIR.match(text[:64]) if text is not None else None
    if not match:
        return None, None
    return _in_range(match.group(1)), _in_range(match.group(2))


def parse_date(value: Any) -> tuple[int | None, str | None]:
    """`(year, iso_date)` from a date tag (ID3v2.4 TDRC, Vorbis DATE, MP4 `©day`, APEv2 Year, ASF WM/Year).

    `"2004"` -> `(2004, "2004")`, `"2004-05"` -> `(2004, "2004-05")`, `"2004-05-06"` and `"2004/05/06"` and
    `"2004-05-06T10:00:00"` -> `(2004, "2004-05-06")`: ID3v2.4 timestamps are ISO 8601 cut at any precision
    (id3v2.4.0-structure, section 4). A month or day out of the calendar is dropped. Text with a four-digit
    year somewhere (`"(p) 1999 Label"`) gives that year alone. Junk -> `(None, None)`. Years are 1..9999.
    """
    text = clean_text(value)
    if text is None or isinstance(value, bool):
        return None, None
    match = _DATE.match(text)
    if not match:
        found = _ANY_YEAR.search(text)
        year = _in_range(found.group(1)) if found else None
        return year, (f"{year:04d}" if year else None)
    year = _in_range(match.group(1))
    if year is None:
        return None, None
    month, day = (int(g) if g else None for g in match.group(2, 3))
    if month is None or not 1 <= month <= 12:
        return year, f"{year:04d}"
    if day is not None:
        try:
            return year, _date(year, month, day).isoformat()
        except ValueError:
            pass
    return year, f"{year:04d}-{month:02d}"


def parse_gain(value: Any) -> float | None:
    """A ReplayGain gain in dB from `"-6.5 dB"`, `"+9.27 dB"`, `"-6,5"` (ReplayGain 2.0 spec: `REPLAYGAIN_*_GAIN`
    is "a float with 2 decimal places, followed by ' dB'"). None for junk or outside -100..100 dB."""
    text = _as_str(value)
    match = _GAIN.match(text[:64]) if text is not None else None
    if not match:
        return None
    gain = float(match.group(1).replace(",", "."))
    return gain if math.isfinite(gain) and -100.0 <= gain <= 100.0 else None


def parse_peak(value: Any) -> float | None:
    """A ReplayGain peak from `"1.039857"`: linear amplitude, 1.0 full scale (it may exceed 1 after lossy coding).
    None for junk, negative values, or above 100."""
    peak = parse_gain(value)
    return peak if peak is not None and 0.0 <= peak else None


def parse_bool(value: Any) -> bool:
    """A flag tag (`"1"`, `"true"`, `"yes"`; MP4 `cpil` as a bool) -> True; anything else False."""
    if isinstance(value, bool):
        return value
    text = clean_text(value)
    return text is not None and text.casefold() in _TRUE


def musicbrainz_ids(values: Any) -> tuple[str, ...]:
    """The UUIDs in MusicBrainz id tags (lower-cased, de-duplicated), wherever the separators fall: Picard
    writes several artist ids as several values, or joined by "; " or "/" in ID3v2.3."""
    out: list[str] = []
    for value in _as_list(values):
        text = _as_str(value)
        for found in _UUID.findall(text[:_MAX_RAW].lower()) if text else ():
            if found not in out and len(out) < MAX_VALUES:
                out.append(found)
    return tuple(out)


def from_raw(raw: Any) -> TrackTags:
    """A TrackTags from the raw mapping of Picard names to value lists (see the module docstring).

    Picard's multi-value `artists` is preferred to the display string `artist` when both are present;
    a total comes from the pair (`"3/11"`) or else from `totaltracks`/`totaldiscs` (Vorbis TRACKTOTAL,
    TOTALTRACKS); the year from `date`, else `year`, else `originaldate`. Anything not a mapping is no tags.
    """
    if not isinstance(raw, Mapping):
        return TrackTags()
    get = lambda key: _as_list(raw.get(key))  # noqa: E731
    track, track_total = parse_number_pair(_first(get("tracknumber")))
    disc, disc_total = parse_number_pair(_first(get("discnumber")))
    year, iso = parse_date(_first(get("date")))
    for other in ("year", "originaldate"):
        if year is None:
            year, iso = parse_date(_first(get(other)))
    album_artist_ids = musicbrainz_ids(get("musicbrainz_albumartistid"))
    return TrackTags(
        title=clean_text(_first(get("title"))),
        artists=split_artists(get("artists")) or split_artists(get("artist")),
        album_artists=split_artists(get("albumartist")),
        album=clean_text(_first(get("album"))),
        track_number=track,
        track_total=track_total or parse_number_pair(_first(get("totaltracks")))[0],
        disc_number=disc,
        disc_total=disc_total or parse_number_pair(_first(get("totaldiscs")))[0],
        year=year,
        date=iso,
        genres=split_artists(get("genre")),
        composers=split_artists(get("composer")),
        musicbrainz_track_id=_first(musicbrainz_ids(get("musicbrainz_recordingid"))),
        musicbrainz_album_id=_first(musicbrainz_ids(get("musicbrainz_albumid"))),
        musicbrainz_artist_ids=musicbrainz_ids(get("musicbrainz_artistid")),
        musicbrainz_album_artist_id=_first(album_artist_ids),
        replaygain_track_gain_db=parse_gain(_first(get("replaygain_track_gain"))),
        replaygain_track_peak=parse_peak(_first(get("replaygain_track_peak"))),
        replaygain_album_gain_db=parse_gain(_first(get("replaygain_album_gain"))),
        replaygain_album_peak=parse_peak(_first(get("replaygain_album_peak"))),
        compilation=parse_bool(_first(get("compilation"))),
    )


def from_path(relative_path: Any) -> TrackTags:
    """What the folder layout says of a tag-less file, from its path inside the library (`/` separators).

    `Artist/Album/NN Title.ext` (also `NN - Title`, `NN. Title`, `NN_Title`) gives the artist, album,
    track number and title; a `Disc N`/`Disk N`/`CD N`/`CD2` folder between album and file gives the disc
    number and moves album and artist one folder up; an album folder `Album (2004)` or `Album [2004]`
    gives the year. A bare `Title.ext` gives the title only. This is the layout Picard's default file
    naming script writes (`%albumartist%/%album%/%tracknumber% %title%`). Never raises.
    """
    text = _as_str(relative_path) or ""
    parts = [p for p in text.replace("\\", "/").split("/") if p and p not in (".", "..")]
    if not parts:
        return TrackTags()
    stem = posixpath.splitext(parts[-1])[0] or parts[-1]
    folders = parts[:-1]
    match = _FILE_NUMBER.match(stem)
    number, title = (_in_range(match.group(1)), match.group(2)) if match else (None, stem)
    disc = None
    if folders and (disc_match := _DISC_FOLDER.match(folders[-1].strip())):
        disc = _in_range(disc_match.group(1))
        folders = folders[:-1]
    album = folders[-1] if folders else None
    year = None
    if album and (year_match := _FOLDER_YEAR.match(album)):
        album, year = year_match.group(1) or album, _in_range(year_match.group(2))
    artist = folders[-2] if len(folders) >= 2 else None
    return TrackTags(title=clean_text(title), artists=split_artists([artist]) if artist else (),
                     album=clean_text(album), track_number=number, disc_number=disc, year=year,
                     date=f"{year:04d}" if year else None)


def merge(tags: TrackTags, fallback: TrackTags) -> TrackTags:
    """`tags` with each empty field (None, an empty tuple) taken from `fallback` (e.g. `from_path`'s)."""
    missing = {f.name: getattr(fallback, f.name) for f in fields(TrackTags)
               if getattr(tags, f.name) in (None, ()) and getattr(fallback, f.name) not in (None, ())}
    return replace(tags, **missing)


def folder_is_compilation(tracks: Iterable[TrackTags]) -> bool:
    """Whether the tracks of one folder are a compilation: one of them has the compilation flag, or the
    tracks without an album artist all name one album and their first artists are `is_various`.
    A folder of singles from different albums is not a compilation."""
    albums: set[str] = set()
    artists: list[str] = []
    for track in tracks:
        if track.compilation:
            return True
        if track.album_artists:
            continue
        albums.add(_fold(track.album or ""))
        if track.artists:
            artists.append(track.artists[0])
    return len(albums) == 1 and "" not in albums and is_various(artists)


def is_various(first_artists: Iterable[str]) -> bool:
    """Whether the first artists of one album's tracks (files with no album artist tag) make it a
    compilation: at least two different names (casefolded) and none on more than half of the tracks,
    so an artist's album with a guest track ("A", "A feat. B", "A") stays the artist's. Taggers such as
    Picard write an album artist; this is the fallback for files without one."""
    counts = Counter(_fold(a) for a in first_artists if a)
    return len(counts) >= 2 and max(counts.values()) * 2 <= sum(counts.values())


def album_folder(folder: Any) -> str:
    """The album's folder of a file's folder (paths inside the library, `/` separators): a `Disc N`/
    `CD N` folder counts as its parent's, so the discs of one album share it."""
    parts = [p for p in (_as_str(folder) or "").replace("\\", "/").split("/") if p and p != "."]
    if parts and _DISC_FOLDER.match(parts[-1].strip()):
        parts = parts[:-1]
    return "/".join(parts)


def album_key(tags: TrackTags, folder: Any, *, compilation: bool = False) -> AlbumKey:
    """Which album a track groups under: album artist + album, compared casefolded.

    The album artist is the tags' album artists; when there are none, "Various Artists" for a compilation
    (`tags.compilation`, or `compilation=True` from `folder_is_compilation` of the track's folder), else the
    track's artists, else "Unknown Artist". Picard's mapping writes the same album artist and album on every
    disc, so a multi-disc album is one key. A track without an album groups by its folder (`folder`: the path
    of its folder inside the library, a `Disc N` folder counting as its parent) and shows the folder's name.
    """
    if tags.album_artists:
        artist = "; ".join(tags.album_artists)
    elif tags.compilation or compilation:
        artist = VARIOUS_ARTISTS
    else:
        artist = "; ".join(tags.artists) or UNKNOWN_ARTIST
    artist = clean_text(artist) or UNKNOWN_ARTIST
    if tags.album:
        return AlbumKey(artist, tags.album, (_fold(artist), _fold(tags.album)))
    place = album_folder(folder)
    return AlbumKey(artist, clean_text(place.rsplit("/", 1)[-1]) or "Unknown Album",
                    (_fold(artist), "\x00folder:" + _fold(place[:_MAX_RAW])))


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value[:_MAX_RAW * 4]).decode("utf-8", "replace")
    if isinstance(value, (int, float)):
        return str(value)
    try:
        return str(value)[:_MAX_RAW]
    except Exception:  # a value whose __str__ fails is no text
        return None


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value[:MAX_VALUES * 4])
    return [value]


def _first(values: Any) -> Any:
    return values[0] if values else None


def _in_range(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= 9999 else None

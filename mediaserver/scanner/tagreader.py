"""A file's tags and embedded cover through mutagen (the I/O edge; the only module that imports mutagen).

`read(path)` opens the file once with `mutagen.File`, maps the format's own keys (ID3 frames, Vorbis comments,
MP4 atoms, APEv2 items, ASF attributes) onto Picard's internal tag names (https://picard-docs.musicbrainz.org/en/appendices/tag_mapping.html),
normalises them with the pure `scanner.tags`, and picks the front cover among the embedded pictures. It never
raises: whatever mutagen raises on a crafted or broken file comes back as a `TagFailure` with the reason.
mutagen reads through `_BoundedFile`, which never asks for more bytes than the file has, so a header that
claims gigabytes (ooming-header.flac) cannot make it allocate them. `folder_cover` finds `cover.jpg` and the like.
"""
from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field

import mutagen
from mutagen.apev2 import APETextValue
from mutagen.flac import Picture
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

from ..text import tool_message
from . import tags as tagcore

MAX_PICTURE_BYTES = 10 * 1024 * 1024  #: a larger embedded or folder picture is ignored
_MAX_VALUES = tagcore.MAX_VALUES
_MAX_CHARS = 32_000  #: characters of one raw value kept
_ADDRESS = re.compile(r"\s+at 0x[0-9a-fA-F]+|0x[0-9a-fA-F]{8,}")
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")
_FOLDER_COVER_STEMS = ("cover", "folder", "front")  # in order of preference; Kodi's and Jellyfin's names
_FRONT_COVER, _OTHER = 3, 0  # APIC/FLAC picture types (ID3v2.4 section 4.14): 3 front cover, 0 other

# Vorbis comment field names (https://xiph.org/vorbis/doc/v-comment.html and Picard's mapping) and APEv2 item
# keys (Picard's mapping: "Album Artist", "Track", "Disc", "Year"), both case-insensitive: lower-cased here.
_FREE_NAMES = {
    "title": "title", "artist": "artist", "artists": "artists", "albumartist": "albumartist",
    "album artist": "albumartist", "album": "album", "tracknumber": "tracknumber", "track": "tracknumber",
    "totaltracks": "totaltracks", "tracktotal": "totaltracks", "discnumber": "discnumber", "disc": "discnumber",
    "totaldiscs": "totaldiscs", "disctotal": "totaldiscs", "date": "date", "year": "year",
    "originaldate": "originaldate", "genre": "genre", "composer": "composer", "compilation": "compilation",
    "musicbrainz_trackid": "musicbrainz_recordingid", "musicbrainz_albumid": "musicbrainz_albumid",
    "musicbrainz_artistid": "musicbrainz_artistid", "musicbrainz_albumartistid": "musicbrainz_albumartistid",
}
# ID3 TXXX descriptions, MP4 `----:com.apple.iTunes:<name>` and ASF attribute names (Picard's mapping).
_DESCRIBED = {
    "artists": "artists", "musicbrainz track id": "musicbrainz_recordingid",
    "musicbrainz album id": "musicbrainz_albumid", "musicbrainz artist id": "musicbrainz_artistid",
    "musicbrainz album artist id": "musicbrainz_albumartistid", "originaldate": "originaldate",
}
for _gain in ("replaygain_track_gain", "replaygain_track_peak", "replaygain_album_gain", "replaygain_album_peak"):
    _FREE_NAMES[_gain] = _DESCRIBED[_gain] = _gain
_ID3_FRAMES = {
    "TIT2": "title", "TPE1": "artist", "TPE2": "albumartist", "TALB": "album", "TRCK": "tracknumber",
    "TPOS": "discnumber", "TDRC": "date", "TYER": "year", "TDOR": "originaldate", "TCOM": "composer",
    "TCMP": "compilation",
}
_MP4_ATOMS = {
    "\xa9nam": "title", "\xa9ART": "artist", "aART": "albumartist", "\xa9alb": "album", "\xa9day": "date",
    "\xa9gen": "genre", "\xa9wrt": "composer", "cpil": "compilation", "trkn": "tracknumber", "disk": "discnumber",
}
_ASF_ATTRIBUTES = {
    "title": "title", "author": "artist", "wm/albumartist": "albumartist", "wm/albumtitle": "album",
    "wm/tracknumber": "tracknumber", "wm/partofset": "discnumber", "wm/year": "date", "wm/genre": "genre",
    "wm/composer": "composer", "wm/iscompilation": "compilation", "wm/artists": "artists",
    "wm/originalreleaseyear": "originaldate", "musicbrainz/track id": "musicbrainz_recordingid",
    "musicbrainz/album id": "musicbrainz_albumid", "musicbrainz/artist id": "musicbrainz_artistid",
    "musicbrainz/album artist id": "musicbrainz_albumartistid",
}
_MP4_FREEFORM = "----:com.apple.itunes:"


@dataclass(frozen=True)
class RawTags:
    """What one file's tags say.

    `fields`: Picard tag name -> the raw values (str, each at most 32,000 characters, at most 50 a name);
    `tags`: the same normalised (`scanner.tags.from_raw`); `cover`: the best embedded picture as
    `(mime, bytes)`, at most MAX_PICTURE_BYTES, else None; `is_audiobook`: `.m4b`, or an MP4 with chapters;
    `format`: mutagen's class name for the file ("FLAC", "MP3", "MP4", "OggVorbis", ...).
    """

    fields: dict[str, tuple[str, ...]]
    tags: tagcore.TrackTags
    cover: tuple[str, bytes] | None = None
    is_audiobook: bool = False
    format: str = ""


@dataclass(frozen=True)
class TagFailure:
    """A file whose tags could not be read: `reason` like "tags unreadable: flac.error: file said 4 bytes, read 0 bytes"."""

    reason: str


def read(path: str | os.PathLike) -> RawTags | TagFailure:
    """The tags of the audio file at `path`, or why there are none to be had. Never raises (but for
    KeyboardInterrupt and SystemExit): mutagen's errors, MemoryError, struct errors and I/O errors alike
    become a TagFailure. A format mutagen knows with no tags in it is a RawTags with empty fields."""
    try:
        with open(path, "rb") as handle:
            loaded = mutagen.File(_BoundedFile(handle, os.fstat(handle.fileno()).st_size))
            if loaded is None:
                return TagFailure("tags unreadable: not an audio format mutagen knows")
            fields = _fields(loaded)
            return RawTags(fields=fields, tags=tagcore.from_raw(fields), cover=_cover(loaded),
                           is_audiobook=_is_audiobook(path, loaded), format=type(loaded).__name__)
    except Exception as exc:  # noqa: BLE001 - crafted files make mutagen raise anything (struct.error, MemoryError, ...)
        return TagFailure(failure_reason(exc, path))


def failure_reason(exc: BaseException, path: str | os.PathLike | None = None) -> str:
    """`"tags unreadable: <ExceptionName>: <message>"`, without memory addresses and with `path` (which some
    of mutagen's messages quote) cut to its file name, at most 500 characters."""
    message = _ADDRESS.sub("", tool_message(str(exc)))
    if path is not None and os.fspath(path):
        message = message.replace(os.fsdecode(path), os.path.basename(os.fsdecode(path)))
    message = message.strip()
    name = type(exc).__name__
    if name == "error":  # mutagen.flac.error, struct.error: the module says more than the name
        name = f"{type(exc).__module__.rsplit('.', 1)[-1].lstrip('_')}.error"
    reason = f"tags unreadable: {name}" + (f": {message}" if message else "")
    return tagcore.clean_text(reason) or "tags unreadable"


def folder_cover(folder: str | os.PathLike) -> str | None:
    """The path of the folder's cover picture, or None: `cover.*`, then `folder.*`, then `front.*` (names
    case-insensitive; .jpg .jpeg .png .webp .gif), a regular file (not a symlink) of at most MAX_PICTURE_BYTES."""
    found: dict[str, str] = {}
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                stem, ext = os.path.splitext(entry.name.lower())
                if stem in _FOLDER_COVER_STEMS and ext in _IMAGE_EXTENSIONS and stem not in found \
                        and entry.is_file(follow_symlinks=False) \
                        and entry.stat(follow_symlinks=False).st_size <= MAX_PICTURE_BYTES:
                    found[stem] = entry.path
    except OSError:
        return None
    return next((found[stem] for stem in _FOLDER_COVER_STEMS if stem in found), None)


class _BoundedFile:
    """A read-only file for mutagen whose `read(n)` never asks for more than what is left of the file: a
    crafted length field cannot make Python allocate a buffer of that size before the short read."""

    def __init__(self, handle, size: int):
        self._handle, self._size = handle, size
        self.name = getattr(handle, "name", "")

    def read(self, n: int = -1) -> bytes:
        left = max(0, self._size - self._handle.tell())
        return self._handle.read(left if n is None or n < 0 or n > left else n)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._handle.seek(offset, whence)

    def tell(self) -> int:
        return self._handle.tell()


def _fields(loaded) -> dict[str, tuple[str, ...]]:
    raw: dict[str, list[str]] = {}
    tags = loaded.tags
    if tags is None:
        return {}
    kind = type(tags).__name__
    if hasattr(tags, "getall"):  # ID3 (MP3, WAV, AIFF, DSF, DSDIFF)
        _id3(tags, raw)
    elif isinstance(loaded, MP4) or kind == "MP4Tags":
        _mp4(tags, raw)
    elif kind == "ASFTags":
        for key, values in tags.items():
            name = _ASF_ATTRIBUTES.get(key.lower()) or _DESCRIBED.get(key.lower())
            for value in values if name else ():
                if not isinstance(getattr(value, "value", None), bytes):
                    _add(raw, name, value.value)
    else:  # Vorbis comments (FLAC, Ogg) and APEv2 (APE, WavPack, Musepack, TAK, OptimFROG), free names
        for key, value in tags.items():
            name = _FREE_NAMES.get(key.lower())
            if name is None:
                continue
            if isinstance(value, APETextValue):
                value = list(value)
            elif not isinstance(value, (list, str)):
                continue  # an APEv2 binary or external item
            for one in value if isinstance(value, list) else [value]:
                _add(raw, name, one)
    return {name: tuple(values) for name, values in raw.items()}


def _id3(tags, raw: dict[str, list[str]]) -> None:
    for frame in tags.values():
        frame_id = frame.FrameID
        if frame_id == "TCON":
            for genre in frame.genres:  # mutagen resolves ID3v1 genre numbers, "(13)" -> "Pop"
                _add(raw, "genre", genre)
        elif frame_id in _ID3_FRAMES:
            for text in frame.text:
                _add(raw, _ID3_FRAMES[frame_id], str(text))
        elif frame_id == "TXXX" and frame.desc.lower() in _DESCRIBED:
            for text in frame.text:
                _add(raw, _DESCRIBED[frame.desc.lower()], text)
        elif frame_id == "UFID" and frame.owner == "http://musicbrainz.org":
            _add(raw, "musicbrainz_recordingid", bytes(frame.data).decode("ascii", "replace"))


def _mp4(tags, raw: dict[str, list[str]]) -> None:
    for key, values in tags.items():
        if key in ("trkn", "disk"):
            for pair in values:
                number, total = (list(pair) + [0, 0])[:2]
                _add(raw, _MP4_ATOMS[key], f"{number or ''}/{total or ''}")
        elif key == "cpil":
            _add(raw, "compilation", "1" if values else "0")
        elif key in _MP4_ATOMS:
            for value in values:
                _add(raw, _MP4_ATOMS[key], value)
        elif key.lower().startswith(_MP4_FREEFORM) and key.lower()[len(_MP4_FREEFORM):] in _DESCRIBED:
            for value in values:
                if isinstance(value, MP4FreeForm):
                    _add(raw, _DESCRIBED[key.lower()[len(_MP4_FREEFORM):]], bytes(value).decode("utf-8", "replace"))


def _add(raw: dict[str, list[str]], name: str, value) -> None:
    if isinstance(value, bytes) or value is None:
        return
    values = raw.setdefault(name, [])
    if len(values) < _MAX_VALUES:
        values.append(str(value)[:_MAX_CHARS])


def _cover(loaded) -> tuple[str, bytes] | None:
    """The best embedded picture: the first front cover (type 3), else the first of type "other", else the first."""
    candidates: list[tuple[int, str, bytes]] = []
    for picture in getattr(loaded, "pictures", None) or []:  # FLAC picture blocks
        candidates.append((picture.type, picture.mime, picture.data))
    tags = loaded.tags
    if tags is not None and hasattr(tags, "getall"):  # ID3 APIC (ID3v2.2 PIC is upgraded to it by mutagen)
        candidates += [(frame.type, frame.mime, frame.data) for frame in tags.getall("APIC")]
    elif tags is not None and isinstance(loaded, MP4):
        for cover in tags.get("covr") or []:  # MP4 covr: no picture type, taken as the front cover
            mime = "image/png" if getattr(cover, "imageformat", None) == MP4Cover.FORMAT_PNG else "image/jpeg"
            candidates.append((_FRONT_COVER, mime, bytes(cover)))
    elif tags is not None and hasattr(tags, "get") and not hasattr(loaded, "pictures"):
        # Ogg Vorbis/Opus/FLAC: a FLAC picture block in base64 (https://wiki.xiph.org/VorbisComment#Cover_art)
        for text in _vorbis_values(tags, "metadata_block_picture"):
            if len(text) * 3 // 4 <= MAX_PICTURE_BYTES + 1024:
                try:
                    picture = Picture(base64.b64decode(text))
                except Exception:  # noqa: BLE001 - a broken block is no picture; the tags stand
                    continue
                candidates.append((picture.type, picture.mime, picture.data))
    best = None
    for rank, (kind, mime, data) in enumerate(candidates):
        mime = _mime(mime, data)
        if mime is None or not data or len(data) > MAX_PICTURE_BYTES:
            continue
        order = (0 if kind == _FRONT_COVER else 1 if kind == _OTHER else 2, rank)
        if best is None or order < best[0]:
            best = (order, mime, bytes(data))
    return (best[1], best[2]) if best else None


def _vorbis_values(tags, key: str) -> list[str]:
    try:
        values = tags.get(key) or []
    except Exception:  # noqa: BLE001 - APEv2 and other dicts may not take the key
        return []
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else []


def _mime(declared, data) -> str | None:
    """The picture's MIME type: from its first bytes (JPEG, PNG, GIF, WebP), else the declared one if it is
    `image/*`; None for a link (`-->`, ID3v2.4 section 4.14) or anything that is not an image."""
    head = bytes(data[:12]) if data else b""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    if head.startswith(b"GIF8"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    declared = str(declared or "").strip().lower()
    return declared if declared.startswith("image/") else None


def _is_audiobook(path, loaded) -> bool:
    return str(path).lower().endswith(".m4b") or (isinstance(loaded, MP4) and bool(getattr(loaded, "chapters", None)))

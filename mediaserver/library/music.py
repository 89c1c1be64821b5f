"""The music use case: an audio-only media file becomes a `Track` of an `Album` by its `Artist`s.

Per file: `read_tags` runs in the scan's probe pool, in the process that just ran the file's one ffprobe
(`catalog.prepare_probed` calls it for audio-only files); it gives `tagreader.RawTags`, or a
`tagreader.TagFailure`, which is no failed file: the file still plays, is placed by its folder names
(`tags.from_path`: `Artist/Album/NN Title.ext`) and the reason is logged at INFO. `catalog_track` (called
by `catalog.Cataloguer.add` as the file is stored) merges the tags with the folder names, finds or makes
the artists (one row per name key: `models.name_key`) and the album, and writes the track.

Rules, kept simple:
- the album artist is the first album artist of the tags, else "Various Artists" for a compilation, else
  the track's first artist, else "Unknown Artist"; the album is (that artist, `tags.album_key`'s title key);
- a compilation is a file's compilation flag (iTunes `cpil`/`TCMP`, Vorbis `COMPILATION`), or, after
  the scan, one album title in one album folder whose tracks have no album artist of their own and
  first artists that are `tags.is_various` (`regroup_albums`: they move under "Various Artists", and
  the tracks of an artist's album with a guest track under that artist, so an album tagged without
  album artists is one album, not one album per artist);
- the cover is the embedded front cover, else the folder's `cover.*`/`folder.*`/`front.*`; it is written
  into the image cache (`images.save_cover`, named by its content hash) only while the album has none,
  so the tracks of one album share one file;
- a file already catalogued and not changed (a moved file: same row, same id) keeps its track as it is.
"""
from __future__ import annotations

import logging
import os
import posixpath
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .. import images
from ..models import Album, Artist, MediaFile, Track, TrackArtist, name_key
from ..scanner import tagreader
from ..scanner import tags as tagcore

log = logging.getLogger("mediaserver.music")
GROUP_LOAD = 500  # tracks loaded per query by regroup_albums (SQLite's bound parameters stay far below its limit)
#: MIME types of folder cover pictures, by extension (`tagreader.folder_cover` finds only these).
_FOLDER_COVER_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
                       ".gif": "image/gif"}


def is_music(streams) -> bool:
    """Whether a file's streams (`models.Stream` or `probe` streams) make it music: an audio stream and no
    real video stream (cover art aside)."""
    streams = list(streams)
    return any(s.type == "audio" for s in streams) and not any(s.type == "video" and not s.attached_pic
                                                               for s in streams)


def read_tags(root: str, rel_path: str) -> tagreader.RawTags | tagreader.TagFailure:
    """The tags of the file at `root`/`rel_path` (file system only; picklable, for the probe pool). Never raises."""
    return tagreader.read(os.path.join(root, rel_path))


def track_tags(rel_path: str, raw: tagreader.RawTags | tagreader.TagFailure | None) -> tagcore.TrackTags:
    """What is known of a track: its tags (`raw`), each empty field filled from its folder names."""
    fallback = tagcore.from_path(rel_path)
    return tagcore.merge(raw.tags, fallback) if isinstance(raw, tagreader.RawTags) else fallback


def catalog_track(session: Session, media: MediaFile, raw: tagreader.RawTags | tagreader.TagFailure | None,
                  images_dir: str | None) -> Track:
    """Make or update the track of the audio-only file `media` from `raw` (`read_tags`'s result; None:
    read now, in this process). Flushes, does not commit. Covers go into `images_dir` (None: no covers)."""
    if raw is None:
        raw = read_tags(media.root, media.path)
    if isinstance(raw, tagreader.TagFailure):
        log.info("tags of %s not read (%s): placed by its folder names", media.path, raw.reason)
    tags = track_tags(media.path, raw)
    folder = posixpath.dirname(media.path)
    key = tagcore.album_key(tags, folder)
    if tags.album_artists:
        album_artist = _artist(session, tags.album_artists[0], tags.musicbrainz_album_artist_id)
    elif tags.compilation:
        album_artist = _artist(session, tagcore.VARIOUS_ARTISTS, None)
    else:
        album_artist = _artist(session, tags.artists[0] if tags.artists else tagcore.UNKNOWN_ARTIST, None)
    album = _album(session, album_artist, key, tags)
    if album.cover_image is None and images_dir:
        album.cover_image = _cover(raw, os.path.join(media.root, folder), images_dir)
    track = media.track
    if track is None:
        track = Track(media_file=media, title="")
        session.add(track)
    stem = posixpath.splitext(posixpath.basename(media.path))[0]
    track.album = album
    track.title = tags.title or tagcore.clean_text(stem) or "Unknown Track"
    track.disc_number, track.track_number, track.duration_ms = tags.disc_number, tags.track_number, media.duration_ms
    track.genres, track.composers = list(tags.genres), list(tags.composers)
    track.replaygain_track_gain_db, track.replaygain_track_peak = tags.replaygain_track_gain_db, tags.replaygain_track_peak
    track.replaygain_album_gain_db, track.replaygain_album_peak = tags.replaygain_album_gain_db, tags.replaygain_album_peak
    track.musicbrainz_track_id, track.musicbrainz_album_id = tags.musicbrainz_track_id, tags.musicbrainz_album_id
    track.is_audiobook = (isinstance(raw, tagreader.RawTags) and raw.is_audiobook) or media.path.lower().endswith(".m4b")
    _set_artists(session, track, tags)
    session.flush()
    return track


def _artist(session: Session, name: str, musicbrainz_id: str | None) -> Artist:
    """The artist of this name (compared by `name_key`), made when there is none."""
    name = tagcore.clean_text(name) or tagcore.UNKNOWN_ARTIST
    key = name_key(name)
    artist = session.scalar(select(Artist).where(Artist.name_key == key))
    if artist is None:
        artist = Artist(name=name, name_key=key, sort_name=name, musicbrainz_id=musicbrainz_id)
        session.add(artist)
        session.flush()
    elif artist.musicbrainz_id is None and musicbrainz_id:
        artist.musicbrainz_id = musicbrainz_id
    return artist


def _album(session: Session, album_artist: Artist, key: tagcore.AlbumKey, tags: tagcore.TrackTags) -> Album:
    """The album of this artist and title key, made when there is none; a missing year or id is filled in."""
    # album_key marks a folder's key with a NUL, which PostgreSQL's text refuses: \x1f instead (tag text
    # never holds it: clean_text drops control characters)
    title_key = key.match[1].replace("\x00", "\x1f")[:600]
    album = session.scalar(select(Album).where(Album.album_artist_id == album_artist.id, Album.title_key == title_key))
    if album is None:
        album = Album(title=key.title, title_key=title_key, album_artist=album_artist, year=tags.year,
                      is_compilation=tags.compilation or album_artist.name_key == name_key(tagcore.VARIOUS_ARTISTS),
                      musicbrainz_id=tags.musicbrainz_album_id)
        session.add(album)
        session.flush()
    else:
        album.year = album.year or tags.year
        album.musicbrainz_id = album.musicbrainz_id or tags.musicbrainz_album_id
    return album


def _set_artists(session: Session, track: Track, tags: tagcore.TrackTags) -> None:
    """The track's credits: its artists in order (several for `A; B`), else the album's artist."""
    ids = tags.musicbrainz_artist_ids if len(tags.musicbrainz_artist_ids) == len(tags.artists) else ()
    wanted: list[Artist] = []
    for index, name in enumerate(tags.artists):
        artist = _artist(session, name, ids[index] if ids else None)
        if artist not in wanted:
            wanted.append(artist)
    if not wanted:
        wanted = [track.album.album_artist]
    if [c.artist_id for c in track.credits] == [a.id for a in wanted]:
        return
    track.credits.clear()
    session.flush()  # the old rows go before new ones of the same (track, artist) key
    track.credits.extend(TrackArtist(artist=artist, artist_id=artist.id, position=i) for i, artist in enumerate(wanted))


def _cover(raw, folder: str, images_dir: str) -> str | None:
    """The cover's file name in the image cache: the embedded picture, else the folder's; None when neither."""
    if isinstance(raw, tagreader.RawTags) and raw.cover is not None:
        mime, data = raw.cover
        name = images.save_cover(data, mime, images_dir)
        if name:
            return name
    path = tagreader.folder_cover(folder)
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read(tagreader.MAX_PICTURE_BYTES + 1)
    except OSError:
        return None
    if len(data) > tagreader.MAX_PICTURE_BYTES:
        return None
    return images.save_cover(data, _FOLDER_COVER_TYPES.get(os.path.splitext(path)[1].lower(), ""), images_dir)


def album_place(media: MediaFile) -> tuple[str, str]:
    """(library root, album folder) of a music file: what `regroup_albums` takes."""
    return media.root, tagcore.album_folder(posixpath.dirname(media.path))


def _album_groups(session: Session, folders: set[tuple[str, str]]) -> list[list[Track]]:
    """The tracks of each album title in each (root, album folder) of `folders`, with their albums,
    credits and files loaded: one query for the places' track ids, then loads of GROUP_LOAD ids."""
    if not folders:
        return []
    ids = [track_id for track_id, root, path in session.execute(
        select(Track.id, MediaFile.root, MediaFile.path).join(Track.media_file)
        .where(MediaFile.root.in_({root for root, _ in folders})))
        if (root, tagcore.album_folder(posixpath.dirname(path))) in folders]
    groups: dict[tuple[str, str, str], list[Track]] = {}
    for start in range(0, len(ids), GROUP_LOAD):
        for track in session.scalars(select(Track).where(Track.id.in_(ids[start:start + GROUP_LOAD])).options(
                selectinload(Track.media_file), selectinload(Track.album),
                selectinload(Track.credits).selectinload(TrackArtist.artist))):
            if track.credits:
                place = album_place(track.media_file)
                groups.setdefault((*place, track.album.title_key), []).append(track)
    return [groups[key] for key in sorted(groups)]


def regroup_albums(session: Session, folders: set[tuple[str, str]]) -> int:
    """Make one album of each album title in each (library root, album folder: `tags.album_folder`) of
    `folders`, for the tracks with no album artist of their own (their album's artist is their first
    artist, the per-file fallback): under "Various Artists" when their first artists (with the tracks
    already under it there) are `tags.is_various`, else under the artist of most of them (so a guest
    track, "A feat. B", stays on A's album). Cover and year are kept. Flushes; returns the tracks moved.
    The albums left empty go with `prune`."""
    moved = 0
    for tracks in _album_groups(session, folders):
        own = [t for t in tracks if not t.album.is_compilation and t.album.album_artist_id == t.credits[0].artist_id]
        if not own:
            continue
        counted = [t.credits[0].artist for t in tracks if t in own or t.album.is_compilation]
        if tagcore.is_various([a.name for a in counted]):
            artist = _artist(session, tagcore.VARIOUS_ARTISTS, None)
        else:
            artist = Counter(a for a in counted).most_common(1)[0][0]
        strays = [t for t in own if t.album.album_artist_id != artist.id]
        if not strays:
            continue
        key = tagcore.AlbumKey(artist.name, strays[0].album.title, (artist.name_key, strays[0].album.title_key))
        target = _album(session, artist, key, tagcore.TrackTags(year=strays[0].album.year))
        for track in strays:
            target.cover_image = target.cover_image or track.album.cover_image
            target.year = target.year or track.album.year
            track.album = target
            moved += 1
    session.flush()
    return moved


def prune(session: Session) -> int:
    """Delete albums no track belongs to any more, then artists with neither an album nor a credit
    (after a rescan removed their files, whose tracks went with them). Commits; returns how many went."""
    gone = 0
    for album in session.scalars(select(Album).where(~Album.tracks.any())).all():
        session.delete(album)
        gone += 1
    session.flush()
    used = select(Album.album_artist_id).union(select(TrackArtist.artist_id))
    for artist in session.scalars(select(Artist).where(Artist.id.not_in(used))).all():
        session.delete(artist)
        gone += 1
    session.commit()
    return gone

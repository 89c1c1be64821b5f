"""Music (issue 14): artists, albums and tracks, made by the scan from the files' tags.

A `Track` belongs to one audio-only media file (deleted with it: ON DELETE CASCADE) and to one `Album`;
its artists are `track_artists` rows in credit order (`position` 0, 1, ...), so "A; B" is two artists.
An album is one per (album artist, title key); a compilation's album artist is "Various Artists".
`name_key`/`title_key` are the names compared: NFKC, casefolded, white space collapsed (`name_key`),
so "ABBA" and "abba" are one artist. Artists and albums with no track left are pruned by the scan.
`search_text` (artists, albums, tracks) is the name or title in `text.search_form` (no case, accents,
punctuation or leading article), kept up to date on every write: what `q` and `GET /api/search` match,
and what the lists sort names by ("The Beatles" under B, as Plex and Jellyfin sort).
"""
from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..text import SEARCH_CHARS, search_form
from .base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .media import MediaFile

#: Characters of a key kept (names are at most 500 characters: scanner.tags.MAX_TEXT).
KEY_CHARS = 600


def name_key(text: str) -> str:
    """The key names are compared by: NFKC, casefolded, runs of white space one space, at most KEY_CHARS."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())[:KEY_CHARS]


class Artist(Base):
    """A performer or an album artist, by name; `musicbrainz_id` a lower-case UUID when a tag gave one."""

    __tablename__ = "artists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    name_key: Mapped[str] = mapped_column(String(KEY_CHARS), unique=True)
    sort_name: Mapped[str] = mapped_column(String(512))
    musicbrainz_id: Mapped[str | None] = mapped_column(String(36))
    search_text: Mapped[str | None] = mapped_column(String(SEARCH_CHARS))


class Album(Base):
    """An album of one album artist; `title_key` is what groups its tracks (`scanner.tags.album_key`'s
    match: the folded title, or the folder for tracks without an album tag). `cover_image` is a file
    name in the image cache (`LibrarySettings.images_dir`), `year` a year of the tags."""

    __tablename__ = "albums"
    __table_args__ = (UniqueConstraint("album_artist_id", "title_key", name="uq_albums_artist_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(512))
    title_key: Mapped[str] = mapped_column(String(KEY_CHARS))
    album_artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id"), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    is_compilation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    musicbrainz_id: Mapped[str | None] = mapped_column(String(36))
    cover_image: Mapped[str | None] = mapped_column(String(256))
    search_text: Mapped[str | None] = mapped_column(String(SEARCH_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    album_artist: Mapped[Artist] = relationship()
    tracks: Mapped[list[Track]] = relationship(back_populates="album",
                                               order_by="(Track.disc_number, Track.track_number, Track.id)")


class TrackArtist(Base):
    """One credited artist of a track, `position` 0 first."""

    __tablename__ = "track_artists"

    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True)
    artist_id: Mapped[int] = mapped_column(ForeignKey("artists.id", ondelete="CASCADE"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)

    artist: Mapped[Artist] = relationship()


class Track(Base):
    """One audio-only media file as music. `duration_ms` in ms (the probe's); `genres` and `composers`
    JSON lists of str; ReplayGain gains in dB, peaks linear (1.0 full scale); MusicBrainz ids lower-case
    UUIDs; `is_audiobook` for `.m4b` files and MP4s with chapters."""

    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), unique=True)
    album_id: Mapped[int] = mapped_column(ForeignKey("albums.id"), index=True)
    title: Mapped[str] = mapped_column(String(512))
    disc_number: Mapped[int | None] = mapped_column(Integer)
    track_number: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    genres: Mapped[list] = mapped_column(JSON, default=list)
    composers: Mapped[list] = mapped_column(JSON, default=list)
    replaygain_track_gain_db: Mapped[float | None] = mapped_column(Float)
    replaygain_track_peak: Mapped[float | None] = mapped_column(Float)
    replaygain_album_gain_db: Mapped[float | None] = mapped_column(Float)
    replaygain_album_peak: Mapped[float | None] = mapped_column(Float)
    musicbrainz_track_id: Mapped[str | None] = mapped_column(String(36))
    musicbrainz_album_id: Mapped[str | None] = mapped_column(String(36))
    is_audiobook: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    search_text: Mapped[str | None] = mapped_column(String(SEARCH_CHARS))

    album: Mapped[Album] = relationship(back_populates="tracks")
    media_file: Mapped[MediaFile] = relationship(back_populates="track")
    credits: Mapped[list[TrackArtist]] = relationship(cascade="all, delete-orphan", order_by=TrackArtist.position,
                                                      passive_deletes=True)

    @property
    def artists(self) -> list[Artist]:
        """The credited artists in credit order."""
        return [credit.artist for credit in self.credits]


def _set_name_search_text(_mapper, _connection, row: Artist) -> None:
    row.search_text = search_form(row.name)


def _set_title_search_text(_mapper, _connection, row: Album | Track) -> None:
    row.search_text = search_form(row.title)


for _model, _setter in ((Artist, _set_name_search_text), (Album, _set_title_search_text),
                        (Track, _set_title_search_text)):
    event.listen(_model, "before_insert", _setter)
    event.listen(_model, "before_update", _setter)


class Playlist(Base):
    """A user's own playlist (issue 14): a name and tracks in order (`items`, `position` 0, 1, ...);
    deleted with the user. `updated_at` moves on every change of its name or tracks."""

    __tablename__ = "playlists"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[PlaylistItem]] = relationship(cascade="all, delete-orphan", passive_deletes=True,
                                                     order_by="PlaylistItem.position")


class PlaylistItem(Base):
    """One entry of a playlist (a track may be in it several times); gone with its track or playlist."""

    __tablename__ = "playlist_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    playlist_id: Mapped[int] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    track: Mapped[Track] = relationship()

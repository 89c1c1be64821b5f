"""SQLAlchemy 2.0 typed models, one module per area; every change needs an Alembic migration in
`migrations/versions/` (and `db.SCHEMA_HEAD` moved to it).

Importing this package imports every model, so `Base.metadata` (Alembic, `create_all`) holds every
table and relationships named by string resolve:
- `base`: `Base`, `utcnow`, the `UTCDateTime` column type;
- `users`: `User`, `UserSession` (sign-ins), `PlaybackPosition` (resume points);
- `media`: `MediaFile`, `Stream`, `Subtitle` (the files as ffprobe saw them);
- `catalog`: `Movie`, `Show`, `Season`, `Episode`, `Genre` (what the files are);
- `music`: `Artist`, `Album`, `Track`, `TrackArtist` (audio files as music, from their tags), `Playlist`,
  `PlaylistItem` (a user's own);
- `transcode`: `TranscodeJob`;
- `admin`: `Setting`, `ScanRun`;
- `party`: `WatchSession`, `Participant`.
"""
from __future__ import annotations

from .admin import ScanRun, Setting
from .base import Base, UTCDateTime, as_utc, utcnow
from .catalog import Episode, Genre, Movie, Season, Show, TitleMixin, episode_files, movie_genres, show_genres
from .media import MediaFile, Stream, Subtitle
from .music import Album, Artist, Playlist, PlaylistItem, Track, TrackArtist, name_key
from .party import Participant, WatchSession
from .transcode import TranscodeJob
from .users import PlaybackPosition, User, UserSession

__all__ = [
    "Base", "UTCDateTime", "as_utc", "utcnow", "User", "UserSession", "PlaybackPosition", "MediaFile", "Stream", "Subtitle",
    "Movie", "Show", "Season", "Episode", "Genre", "TitleMixin", "movie_genres", "show_genres", "episode_files",
    "Artist", "Album", "Track", "TrackArtist", "Playlist", "PlaylistItem", "name_key",
    "TranscodeJob", "Setting", "ScanRun", "WatchSession", "Participant",
]

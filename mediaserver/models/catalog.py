"""The catalog (issue 3): what the files are. Movies; shows with seasons and episodes; genres."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..text import SEARCH_CHARS, search_form
from .base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .media import MediaFile

movie_genres = Table(
    "movie_genres", Base.metadata,
    Column("movie_id", ForeignKey("movies.id", ondelete="CASCADE"), primary_key=True),
    Column("genre_id", ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True),
)
show_genres = Table(
    "show_genres", Base.metadata,
    Column("show_id", ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True),
    Column("genre_id", ForeignKey("genres.id", ondelete="CASCADE"), primary_key=True),
)
episode_files = Table(
    "episode_files", Base.metadata,
    Column("episode_id", ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True),
    Column("media_file_id", ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True),
)


class Genre(Base):
    """A genre name as TMDB gives it ("Science Fiction")."""

    __tablename__ = "genres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class TitleMixin:
    """Fields movies and shows share.

    `match_status`: `matched` (TMDB search above the threshold), `id` (a `[tmdbid-N]` in the name),
    `nfo` (an NFO sidecar's id), `manual` (an admin's choice: never re-matched by a rescan),
    `unmatched` (no candidate good enough; `candidates` holds the best ones), `off` (no TMDB key).
    `guess_key` groups unmatched files of one title: normalised title + year.
    `search_text` is the title and original title normalised (`scanner.match.normalize_title`: no
    case, accents, punctuation or leading article), kept up to date on every write, for `q` searches.
    `candidates` is a JSON list of `{"tmdb_id", "title", "year", "score"}`; `cast` a JSON list of
    `{"name", "character"}`. `poster`/`backdrop` are file names under `<DATA_DIR>/images/`.
    """

    tmdb_id: Mapped[int | None] = mapped_column(Integer, index=True)
    title: Mapped[str] = mapped_column(String(512))
    original_title: Mapped[str | None] = mapped_column(String(512))
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    overview: Mapped[str | None] = mapped_column(Text)
    poster: Mapped[str | None] = mapped_column(String(256))
    backdrop: Mapped[str | None] = mapped_column(String(256))
    match_status: Mapped[str] = mapped_column(String(16), default="unmatched")
    candidates: Mapped[list | None] = mapped_column(JSON)
    cast: Mapped[list | None] = mapped_column(JSON)
    guess_key: Mapped[str | None] = mapped_column(String(600), index=True)
    search_text: Mapped[str | None] = mapped_column(String(SEARCH_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Movie(TitleMixin, Base):
    """A film; several media files may be versions of it. `runtime_min` in minutes (TMDB's unit)."""

    __tablename__ = "movies"

    release_date: Mapped[str | None] = mapped_column(String(10))
    runtime_min: Mapped[int | None] = mapped_column(Integer)
    id: Mapped[int] = mapped_column(primary_key=True)
    genres: Mapped[list[Genre]] = relationship(secondary=movie_genres, order_by=Genre.name)
    files: Mapped[list[MediaFile]] = relationship(back_populates="movie", order_by="MediaFile.path")


class Show(TitleMixin, Base):
    """A TV show: seasons, then episodes. `first_air_date` as TMDB gives it (YYYY-MM-DD)."""

    __tablename__ = "shows"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_air_date: Mapped[str | None] = mapped_column(String(10))
    genres: Mapped[list[Genre]] = relationship(secondary=show_genres, order_by=Genre.name)
    seasons: Mapped[list[Season]] = relationship(back_populates="show", cascade="all, delete-orphan",
                                                 order_by="Season.number")


class NumberedMixin:
    """What seasons and episodes share: their `number` in their show or season, a title, an overview."""

    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(512))
    overview: Mapped[str | None] = mapped_column(Text)


class Season(NumberedMixin, Base):
    """Season `number` of a show (0 holds the specials, as on TMDB)."""

    __tablename__ = "seasons"
    __table_args__ = (UniqueConstraint("show_id", "number", name="uq_seasons_show_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    poster: Mapped[str | None] = mapped_column(String(256))

    show: Mapped[Show] = relationship(back_populates="seasons")
    episodes: Mapped[list[Episode]] = relationship(back_populates="season", cascade="all, delete-orphan",
                                                   order_by="Episode.number")


class Episode(NumberedMixin, Base):
    """Episode `number` of a season; its files (versions, or one file holding several episodes).
    `search_text` is its title in `text.search_form`, for `GET /api/search`."""

    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("season_id", "number", name="uq_episodes_season_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    air_date: Mapped[str | None] = mapped_column(String(10))  # as TMDB gives it (YYYY-MM-DD)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"), index=True)
    search_text: Mapped[str | None] = mapped_column(String(SEARCH_CHARS))

    season: Mapped[Season] = relationship(back_populates="episodes")
    files: Mapped[list[MediaFile]] = relationship(secondary=episode_files, back_populates="episodes",
                                                  order_by="MediaFile.path")


def _set_search_text(_mapper, _connection, row: Movie | Show) -> None:
    row.search_text = search_form(row.title, row.original_title)


def _set_episode_search_text(_mapper, _connection, row: Episode) -> None:
    row.search_text = search_form(row.title)


for _model, _setter in ((Movie, _set_search_text), (Show, _set_search_text), (Episode, _set_episode_search_text)):
    event.listen(_model, "before_insert", _setter)
    event.listen(_model, "before_update", _setter)

"""SQLAlchemy 2.0 typed models. Every change here needs an Alembic migration in `migrations/versions/`."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .coltypes import UTCDateTime, as_utc  # noqa: F401  (as_utc: callers import it from here)


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of every model; `Base.metadata` is what Alembic compares against."""


class User(Base):
    """An account. `password_hash` is werkzeug's `generate_password_hash` output."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_json(self) -> dict:
        """`{"id", "username", "is_admin"}`: the API shape of a user (never the hash)."""
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


class MediaFile(Base):
    """One file under a library root, as ffprobe saw it.

    `root` is the absolute library folder, `path` is relative to it (POSIX separators).
    `size` is in bytes, `mtime` in s since the epoch, `duration_ms` in ms, `bit_rate` in bit/s.
    `status` is `ok` or `failed`; `error` then holds ffprobe's reason. `fingerprint` (hex SHA-256 of
    the size and the first and last 64 KiB) recognises the file after a rename or a move.
    A file belongs to at most one movie, or to one or more episodes (a multi-episode file).
    """

    __tablename__ = "media_files"
    __table_args__ = (UniqueConstraint("root", "path", name="uq_media_files_root_path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    root: Mapped[str] = mapped_column(String(1024))
    path: Mapped[str] = mapped_column(String(2048))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    container: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    bit_rate: Mapped[int | None] = mapped_column(BigInteger)
    probed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    probe_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    movie_id: Mapped[int | None] = mapped_column(ForeignKey("movies.id", ondelete="SET NULL"), index=True)

    movie: Mapped[Movie | None] = relationship(back_populates="files")
    episodes: Mapped[list[Episode]] = relationship(secondary="episode_files", back_populates="files")
    subtitles: Mapped[list[Subtitle]] = relationship(back_populates="media_file", cascade="all, delete-orphan",
                                                     order_by="Subtitle.path")
    streams: Mapped[list[Stream]] = relationship(
        back_populates="media_file", cascade="all, delete-orphan", order_by="Stream.index"
    )
    jobs: Mapped[list[TranscodeJob]] = relationship(
        back_populates="media_file", cascade="all, delete-orphan", order_by="TranscodeJob.id"
    )

    @property
    def latest_job(self) -> TranscodeJob | None:
        """The newest transcode job, whatever its status."""
        return self.jobs[-1] if self.jobs else None

    @property
    def ready_job(self) -> TranscodeJob | None:
        """The newest job whose ladder is published, if any."""
        for job in reversed(self.jobs):
            if job.status == "succeeded" and job.output_dir:
                return job
        return None

    @property
    def playable_job(self) -> TranscodeJob | None:
        """The job whose output players get: a running job already publishing EVENT playlists,
        else the newest complete ladder."""
        for job in reversed(self.jobs):
            if job.status == "running" and job.output_dir:
                return job
        return self.ready_job


class Stream(Base):
    """One stream of a media file, from ffprobe's `streams[]`.

    `type` is ffprobe's codec_type (`video`, `audio`, `subtitle`, `data`, `attachment`);
    `fps` in frames/s, `sample_rate` in Hz, `rotation` in degrees (display matrix), `duration_ms`
    in ms (the stream's own, when the container tells it; it may differ from the file's).
    `attached_pic` marks cover art that is a video stream only in name. `level` is H.264's level_idc
    times 10 as ffprobe prints it (42 = 4.2); `color_transfer` is e.g. `smpte2084` (HDR10/PQ) or
    `arib-std-b67` (HLG); `is_vfr` when ffprobe's r_frame_rate and avg_frame_rate differ by over 1 %;
    `forced` is the forced disposition (subtitles shown only for foreign-language passages).
    """

    __tablename__ = "streams"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    index: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(64))
    profile: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    fps: Mapped[float | None] = mapped_column(Float)
    channels: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(512))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    bit_rate: Mapped[int | None] = mapped_column(BigInteger)
    duration_ms: Mapped[int | None] = mapped_column(BigInteger)
    sample_aspect_ratio: Mapped[str | None] = mapped_column(String(32))
    field_order: Mapped[str | None] = mapped_column(String(16))
    rotation: Mapped[int | None] = mapped_column(Integer)
    attached_pic: Mapped[bool] = mapped_column(Boolean, default=False)
    level: Mapped[int | None] = mapped_column(Integer)
    pix_fmt: Mapped[str | None] = mapped_column(String(32))
    color_transfer: Mapped[str | None] = mapped_column(String(32))
    color_primaries: Mapped[str | None] = mapped_column(String(32))
    is_vfr: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 0004 added it to rows
    forced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    media_file: Mapped[MediaFile] = relationship(back_populates="streams")


class TranscodeJob(Base):
    """One run of the HLS ladder job for a media file.

    `status`: `queued`, `running`, `succeeded`, `failed`, `cancelled`. `progress` in percent (0-100).
    `rq_job_id` is the RQ job's id; `output_dir` is the published folder's name under
    `<DATA_DIR>/hls/`: set while `running` once every rendition has its first segments (EVENT
    playlists, playable while the encode goes on), kept when `succeeded` (VOD playlists), cleared
    when the job fails or is cancelled. `attempts` counts runs started (retries after a killed
    worker or a timeout add one).
    `heartbeat_at` is refreshed about every second while the job runs: a `running` row whose
    heartbeat is old belongs to a worker that died. At most one job per media file is active
    (`queued` or `running`): a partial unique index holds that even against concurrent requests.
    """

    __tablename__ = "transcode_jobs"
    __table_args__ = (
        Index("uq_transcode_jobs_one_active", "media_file_id", unique=True,
              sqlite_where=text("status IN ('queued', 'running')"),
              postgresql_where=text("status IN ('queued', 'running')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    rq_job_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    output_dir: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    media_file: Mapped[MediaFile] = relationship(back_populates="jobs")


class PlaybackPosition(Base):
    """Where a user stopped watching a media file (`position_ms`, in ms), for "resume" on return.
    Keyed by media file id, so it survives renames and moves (the id does)."""

    __tablename__ = "playback_positions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True)
    position_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Setting(Base):
    """An admin setting edited in the UI; the environment gives the default (`key` -> JSON-ish text)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- The catalog: what the files are (issue 3) -------------------------------------------------

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
    search_text: Mapped[str | None] = mapped_column(String(1100))
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


class Season(Base):
    """Season `number` of a show (0 holds the specials, as on TMDB)."""

    __tablename__ = "seasons"
    __table_args__ = (UniqueConstraint("show_id", "number", name="uq_seasons_show_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(512))
    overview: Mapped[str | None] = mapped_column(Text)
    poster: Mapped[str | None] = mapped_column(String(256))

    show: Mapped[Show] = relationship(back_populates="seasons")
    episodes: Mapped[list[Episode]] = relationship(back_populates="season", cascade="all, delete-orphan",
                                                   order_by="Episode.number")


class Episode(Base):
    """Episode `number` of a season; its files (versions, or one file holding several episodes)."""

    __tablename__ = "episodes"
    __table_args__ = (UniqueConstraint("season_id", "number", name="uq_episodes_season_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    season_id: Mapped[int] = mapped_column(ForeignKey("seasons.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(512))
    overview: Mapped[str | None] = mapped_column(Text)
    air_date: Mapped[str | None] = mapped_column(String(10))

    season: Mapped[Season] = relationship(back_populates="episodes")
    files: Mapped[list[MediaFile]] = relationship(secondary=episode_files, back_populates="episodes",
                                                  order_by="MediaFile.path")


class Subtitle(Base):
    """A sidecar subtitle file linked to its video (`Name.en.srt`, `Name.forced.eng.vtt`).

    `path` is relative to the video's library root; `language` ISO 639-2/B (`eng`) or None;
    `format`: `srt`, `webvtt`, `ass`, `ssa`, `vobsub`.
    """

    __tablename__ = "subtitles"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), index=True)
    path: Mapped[str] = mapped_column(String(2048))
    language: Mapped[str | None] = mapped_column(String(8))
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    sdh: Mapped[bool] = mapped_column(Boolean, default=False)
    format: Mapped[str] = mapped_column(String(16))

    media_file: Mapped[MediaFile] = relationship(back_populates="subtitles")


def _set_search_text(_mapper, _connection, row: Movie | Show) -> None:
    from .scanner.match import normalize_title

    row.search_text = " | ".join(normalize_title(t) for t in (row.title, row.original_title) if t)


for _model in (Movie, Show):
    event.listen(_model, "before_insert", _set_search_text)
    event.listen(_model, "before_update", _set_search_text)


class ScanRun(Base):
    """A library scan started from the admin UI (an RQ job on the scan queue).

    `status`: `queued`, `running`, `done`, `failed`. `done`/`total` count files seen (progress);
    `summary` is the `added N, updated N, ...` line; `messages` a JSON list of the scan's
    warnings and failures; `error` why a failed scan stopped.
    """

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(String(256))
    messages: Mapped[list | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def to_json(self) -> dict:
        """`{"id", "status", "done", "total", "summary", "messages", "error"}` (done/total in files)."""
        return {"id": self.id, "status": self.status, "done": self.done, "total": self.total,
                "summary": self.summary, "messages": self.messages or [], "error": self.error}


# Party rows live beside their feature; imported here so `Base.metadata` (Alembic, create_all) has them.
from .party import records as _party_records  # noqa: E402,F401

"""SQLAlchemy 2.0 typed models. Every change here needs an Alembic migration in `migrations/versions/`."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Timezone-aware now in UTC (stored as such; SQLite gives it back naive)."""
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    def to_json(self) -> dict:
        """`{"id", "username", "is_admin"}`: the API shape of a user (never the hash)."""
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin}


class MediaFile(Base):
    """One file under a library root, as ffprobe saw it.

    `root` is the absolute library folder, `path` is relative to it (POSIX separators).
    `size` is in bytes, `mtime` in s since the epoch, `duration_ms` in ms, `bit_rate` in bit/s.
    `status` is `ok` or `failed`; `error` then holds ffprobe's reason.
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
    probed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

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


class Stream(Base):
    """One stream of a media file, from ffprobe's `streams[]`.

    `type` is ffprobe's codec_type (`video`, `audio`, `subtitle`, `data`, `attachment`);
    `fps` in frames/s, `sample_rate` in Hz, `rotation` in degrees (display matrix), `duration_ms`
    in ms (the stream's own, when the container tells it; it may differ from the file's).
    `attached_pic` marks cover art that is a video stream only in name.
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

    media_file: Mapped[MediaFile] = relationship(back_populates="streams")


class TranscodeJob(Base):
    """One run of the HLS ladder job for a media file.

    `status`: `queued`, `running`, `succeeded`, `failed`. `progress` in percent (0-100).
    `rq_job_id` is the RQ job's id; `output_dir` is the published folder's name under
    `<DATA_DIR>/hls/`, set only once the ladder is complete and moved into place.
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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    media_file: Mapped[MediaFile] = relationship(back_populates="jobs")


class Setting(Base):
    """An admin setting edited in the UI; the environment gives the default (`key` -> JSON-ish text)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

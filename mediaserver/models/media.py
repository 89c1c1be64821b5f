"""The library's files as ffprobe saw them: media files, their streams and their sidecar subtitle files."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .catalog import Episode, Movie
    from .music import Track
    from .transcode import TranscodeJob


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
    #: Its music entry, for an audio-only file (deleted with it by the database's ON DELETE CASCADE).
    track: Mapped[Track | None] = relationship(back_populates="media_file", passive_deletes=True)

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

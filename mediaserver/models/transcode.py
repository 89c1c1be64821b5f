"""Transcode jobs: one row per HLS ladder job of a media file."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .media import MediaFile


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

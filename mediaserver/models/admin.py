"""What the admin UI keeps: settings (the environment gives their defaults) and library scans it started."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class Setting(Base):
    """An admin setting edited in the UI; the environment gives the default (`key` -> JSON-ish text)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


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

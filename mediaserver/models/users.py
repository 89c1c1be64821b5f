"""Accounts, and what the server keeps for each user: resume points."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


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


class PlaybackPosition(Base):
    """Where a user stopped watching a media file (`position_ms`, in ms), for "resume" on return.
    Keyed by media file id, so it survives renames and moves (the id does)."""

    __tablename__ = "playback_positions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True)
    position_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

"""Accounts, their sign-in sessions, and what the server keeps for each user: resume points."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class User(Base):
    """An account. `password_hash` is werkzeug's `generate_password_hash` output.

    `token_epoch` is signed into every stream token issued for the user; a password change, a role
    change or "log out everywhere" increments it, which kills the tokens issued before (and ends every
    session: `UserSession`). `may_transcode` lets a user who is not an admin queue transcodes.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    may_transcode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    token_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def to_json(self) -> dict:
        """`{"id", "username", "is_admin", "may_transcode"}`: the API shape of a user (never the hash)."""
        return {"id": self.id, "username": self.username, "is_admin": self.is_admin,
                "may_transcode": self.may_transcode}

    @property
    def can_transcode(self) -> bool:
        """May queue a transcode by hand: an admin, or a user granted it (`flask users set --transcode`)."""
        return self.is_admin or self.may_transcode


class UserSession(Base):
    """One signed-in browser or script: the session cookie holds a random secret whose SHA-256 is
    `token_hash` (a leaked database holds no usable cookie). Logging out deletes the row, so a replayed
    cookie names nothing; `last_seen_at` is refreshed at most every `accounts.SEEN_EVERY_S` s."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")

    def to_json(self, current: bool = False) -> dict:
        """`{"id", "created_at", "last_seen_at" (ISO 8601 UTC), "user_agent", "address", "current"}`."""
        return {"id": self.id, "created_at": self.created_at.isoformat(), "last_seen_at": self.last_seen_at.isoformat(),
                "user_agent": self.user_agent, "address": self.address, "current": current}


class PlaybackPosition(Base):
    """Where a user stopped watching a media file (`position_ms`, in ms), for "resume" on return.
    Keyed by media file id, so it survives renames and moves (the id does)."""

    __tablename__ = "playback_positions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    media_file_id: Mapped[int] = mapped_column(ForeignKey("media_files.id", ondelete="CASCADE"), primary_key=True)
    position_ms: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

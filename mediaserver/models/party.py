"""Watch-party rows (migration 0005). The live state is in Redis (`party/store.py`); these rows are its
durable copy, the party's code and its participants' identities."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class WatchSession(Base):
    """A party (`watch_session`): a host, a title and a shared timeline.

    `state` is playing, paused or waiting; `position_ms` (ms) was the position at server time
    `anchor_server_ms` (ms since the epoch); `rev` counts timeline changes; `control_mode` is host
    or everyone. `snapshot` is the whole live state (`model.Party.to_dict()`) as of its last change,
    from which Redis is refilled after a restart. `code` is the invite code in `/p/<code>`.
    """

    __tablename__ = "watch_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    host_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    media_file_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="paused")
    position_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    anchor_server_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    rev: Mapped[int] = mapped_column(Integer, default=0)
    control_mode: Mapped[str] = mapped_column(String(16), default="host")
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    participants: Mapped[list[Participant]] = relationship(back_populates="session", cascade="all, delete-orphan")


class Participant(Base):
    """A member of a party: a user (`user_id`) or a guest with a display name and no account.

    `role` is host, cohost or guest; `joined_at`, `left_at` and `last_seen_at` are UTC.
    A guest's member id on the wire is "g<id>"; a user's is "u<user_id>".
    """

    __tablename__ = "party_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("watch_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="guest")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[WatchSession] = relationship(back_populates="participants")

    @property
    def member_id(self) -> str:
        """The id the wire protocol uses: "u<user id>" for a user, "g<participant id>" for a guest."""
        return f"u{self.user_id}" if self.user_id is not None else f"g{self.id}"

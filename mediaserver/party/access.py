"""Who may act in a party: finding a party by its code, creating one, and turning a guest token or a
logged-in user into a participant. Shared by the HTTP routes (`web/parties.py`) and the socket
handlers (`events.py`); the database and Redis are its I/O.
"""
from __future__ import annotations

import secrets

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import tokens
from ..db import fits_id
from ..exceptions import TokenError
from ..models import Episode, MediaFile, User, utcnow
from . import state, store
from .model import HOST, QueueItem
from .records import Participant, WatchSession

#: Invite codes: 10 characters from an alphabet without look-alikes (0/O, 1/l/I): about 50 bits,
#: too many to guess, short enough to read out.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
MAX_NAME_CHARS = 40


class PartyError(Exception):
    """A party request refused; `status` is the HTTP status it maps to (400, 401, 403, 404, 409)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def title_of(media: MediaFile) -> str:
    """A display title: the movie's, "Show S01E02 Title" for an episode, else from the file name."""
    from ..web.library import title_from_path

    if media.movie is not None:
        return media.movie.title + (f" ({media.movie.year})" if media.movie.year else "")
    if media.episodes:
        ep: Episode = media.episodes[0]
        season = ep.season
        label = f"{season.show.title} S{season.number:02d}E{ep.number:02d}" if season is not None else ""
        return " ".join(p for p in (label, ep.title or "") if p) or title_from_path(media.path)
    return title_from_path(media.path)


def queue_item(db: Session, media_file_id: object) -> QueueItem:
    """A QueueItem for a catalogued, readable media file; PartyError 400/404 otherwise."""
    if not isinstance(media_file_id, int) or isinstance(media_file_id, bool):
        raise PartyError(400, "media_file_id must be an integer")
    # past db.MAX_ID no row exists, and the lookup would overflow (PostgreSQL: DataError; SQLite: OverflowError)
    media = db.get(MediaFile, media_file_id) if fits_id(media_file_id) else None
    if media is None:
        raise PartyError(404, f"media file {media_file_id} doesn't exist")
    if media.status != "ok":
        raise PartyError(409, f"media file {media_file_id} cannot be played: {media.error}")
    return QueueItem(0, media.id, title_of(media), media.duration_ms)


def create(db: Session, redis: Redis, host: User, media_file_id: object) -> WatchSession:
    """A new party hosted by `host` on a media file, paused at 0. Raises PartyError."""
    item = queue_item(db, media_file_id)
    row = WatchSession(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                       host_user_id=host.id, media_file_id=item.media_file_id)
    db.add(row)
    db.flush()
    db.add(Participant(session_id=row.id, user_id=host.id, display_name=host.username, role=HOST))
    party = state.new_party(row.id, row.code, f"u{host.id}", host.username, item, store.now_ms())
    store.save(redis, db, party)  # commits the rows too
    return row


def find(db: Session, code: str) -> WatchSession:
    """The running party with invite code `code`; PartyError 404 when there is none or it ended."""
    row = db.scalar(select(WatchSession).where(WatchSession.code == code)) if isinstance(code, str) else None
    if row is None:
        raise PartyError(404, "no such party: check the invite link")
    if row.ended_at is not None:
        raise PartyError(404, "this party has ended")
    return row


def add_guest(db: Session, row: WatchSession, name: object, secret: str) -> tuple[Participant, str]:
    """A guest participant with display name `name`, and its signed party token. PartyError 400 on a bad name."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_CHARS:
        raise PartyError(400, f"name must be 1 to {MAX_NAME_CHARS} characters")
    guest = Participant(session_id=row.id, display_name=name.strip(), role="guest")
    db.add(guest)
    db.commit()
    return guest, tokens.issue_party(secret, row.id, guest.id)


def participant(db: Session, row: WatchSession, token: str | None, user_id: int | None,
                secret: str) -> Participant:
    """The participant acting: the guest a party token names, else the logged-in user (a participant
    row is made on first use). PartyError 401/403 when neither grants this party."""
    if token:
        try:
            participant_id = tokens.verify_party(secret, token, row.id)
        except TokenError as exc:
            raise PartyError(403, str(exc)) from None
        guest = db.get(Participant, participant_id)
        if guest is None or guest.session_id != row.id:
            raise PartyError(403, "party token names no member of this party")
        return guest
    if user_id is None or db.get(User, user_id) is None:
        raise PartyError(401, "join the party first (POST /api/parties/<code>/join) or log in")
    member = db.scalar(select(Participant).where(Participant.session_id == row.id, Participant.user_id == user_id))
    if member is None:
        member = Participant(session_id=row.id, user_id=user_id, display_name=db.get(User, user_id).username)
        db.add(member)
        db.commit()
    return member


def mark(db: Session, member: Participant, online: bool, role: str | None = None) -> None:
    """Mirror a join (online) or a leave into the participant row, with its current role."""
    now = utcnow()
    member.last_seen_at = now
    if online:
        member.left_at = None
    else:
        member.left_at = now
    if role:
        member.role = role
    db.commit()


def end(db: Session, redis: Redis, row: WatchSession) -> None:
    """End the party: its guest tokens and stream grants stop working."""
    now = store.now_ms()
    with store.locked(redis, row.id):
        party = store.load(redis, db, row.id)
        row.ended_at = utcnow()
        if party is not None:
            party.ended_ms = now
            store.save(redis, db, party)
        db.commit()


def may_stream(db: Session, party_id: int, media_file_id: int) -> bool:
    """Does a guest stream grant for `party_id` still hold: the party runs and the title is its current one
    or in its queue?"""
    row = db.get(WatchSession, party_id)
    if row is None or row.ended_at is not None:
        return False
    snapshot = row.snapshot or {}
    queued = {item.get("media_file_id") for item in snapshot.get("queue", [])}
    return media_file_id == row.media_file_id or media_file_id in queued

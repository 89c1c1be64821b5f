"""Who may act in a party: finding a party by its code, creating one, and turning a guest token or a
logged-in user into a participant. Shared by the HTTP routes (`web/parties.py`) and the party service
(`service.py`, behind the socket); the database and Redis are its I/O.
"""
from __future__ import annotations

import secrets

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import tokens
from ..db import fits_id
from ..exceptions import MediaServerError, TokenError
from ..models import MediaFile, Participant, User, WatchSession, utcnow
from ..titles import title_of
from . import queue, state, store
from .model import HOST, QueueItem

#: Invite codes: 10 characters from an alphabet without look-alikes (0/O, 1/l/I): about 50 bits,
#: too many to guess, short enough to read out.
CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
MAX_NAME_CHARS = 40
#: A queued title's name is cut to this many characters (the party's state stays bounded: model.MAX_STATE_CHARS).
MAX_TITLE_CHARS = 200


class PartyError(MediaServerError):
    """A party request refused, with the reason in words and a reason `code`: `invalid` (malformed),
    `unauthenticated` (no credential), `forbidden` (a credential that does not grant it), `not_found`
    (no such party, or it ended; no such title) or `conflict` (a title that cannot be played). The web
    layer maps codes to HTTP statuses (`web/errors.py`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def queue_item(db: Session, media_file_id: object) -> QueueItem:
    """A QueueItem for a catalogued, readable media file; PartyError invalid (not an id), not_found or
    conflict (unreadable) otherwise."""
    if not isinstance(media_file_id, int) or isinstance(media_file_id, bool):
        raise PartyError("invalid", "media_file_id must be an integer")
    # past db.MAX_ID no row exists, and the lookup would overflow (PostgreSQL: DataError; SQLite: OverflowError)
    media = db.get(MediaFile, media_file_id) if fits_id(media_file_id) else None
    if media is None:
        raise PartyError("not_found", f"media file {media_file_id} doesn't exist")
    if media.status != "ok":
        raise PartyError("conflict", f"media file {media_file_id} cannot be played: {media.error}")
    return QueueItem(0, media.id, title_of(media)[:MAX_TITLE_CHARS], media.duration_ms)


def create(db: Session, redis: Redis, host: User, media_file_id: object, queued: object = ()) -> WatchSession:
    """A new party hosted by `host` on a media file, paused at 0, with the media files `queued` (a
    list of ids: an album's or a playlist's next tracks) in its queue, at most `queue.MAX_QUEUE`.
    Raises PartyError (nothing made)."""
    item = queue_item(db, media_file_id)
    if not isinstance(queued, (list, tuple)) or len(queued) > queue.MAX_QUEUE:
        raise PartyError("invalid", f"queue must be a list of at most {queue.MAX_QUEUE} media file ids")
    items = [queue_item(db, media_id) for media_id in queued]
    row = WatchSession(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                       host_user_id=host.id, media_file_id=item.media_file_id)
    db.add(row)
    db.flush()
    db.add(Participant(session_id=row.id, user_id=host.id, display_name=host.username, role=HOST))
    party = state.new_party(row.id, row.code, f"u{host.id}", host.username, item, store.now_ms())
    party.queue = [QueueItem(party.take_id(), i.media_file_id, i.title, i.duration_ms) for i in items]
    store.save(redis, db, party)  # commits the rows too
    return row


def find(db: Session, code: str) -> WatchSession:
    """The running party with invite code `code`; PartyError not_found when there is none or it ended."""
    row = db.scalar(select(WatchSession).where(WatchSession.code == code)) if isinstance(code, str) else None
    if row is None:
        raise PartyError("not_found", "no such party: check the invite link")
    if row.ended_at is not None:
        raise PartyError("not_found", "this party has ended")
    return row


def add_guest(db: Session, row: WatchSession, name: object, secret: str) -> tuple[Participant, str]:
    """A guest participant with display name `name`, and its signed party token. PartyError invalid on a
    bad name, conflict when the party has state.MAX_MEMBERS participants already."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME_CHARS:
        raise PartyError("invalid", f"name must be 1 to {MAX_NAME_CHARS} characters")
    members = db.scalar(select(func.count()).select_from(Participant).where(Participant.session_id == row.id))
    if members >= state.MAX_MEMBERS:
        raise PartyError("conflict", f"the party is full: at most {state.MAX_MEMBERS} members")
    guest = Participant(session_id=row.id, display_name=name.strip(), role="guest")
    db.add(guest)
    db.commit()
    return guest, tokens.issue_party(secret, row.id, guest.id)


def participant(db: Session, row: WatchSession, token: str | None, user_id: int | None,
                secret: str) -> Participant:
    """The participant acting: the guest a party token names, else the logged-in user (a participant
    row is made on first use). PartyError unauthenticated/forbidden when neither grants this party."""
    if token:
        try:
            participant_id = tokens.verify_party(secret, token, row.id)
        except TokenError as exc:
            raise PartyError("forbidden", str(exc)) from None
        guest = db.get(Participant, participant_id)
        if guest is None or guest.session_id != row.id:
            raise PartyError("forbidden", "party token names no member of this party")
        return guest
    if user_id is None or db.get(User, user_id) is None:
        raise PartyError("unauthenticated", "join the party first (POST /api/parties/<code>/join) or log in")
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


def participant_of(db: Session, party_id: int, member_id: str) -> Participant | None:
    """The participant row of wire member id `member_id` ("u<user id>" or "g<participant id>") in party
    `party_id`, or None."""
    if member_id.startswith("u"):
        return db.scalar(select(Participant).where(Participant.session_id == party_id,
                                                   Participant.user_id == int(member_id[1:])))
    row = db.get(Participant, int(member_id[1:]))
    return row if row is not None and row.session_id == party_id else None


def mirror_roles(db: Session, party) -> None:
    """Copy members' roles (after a promotion or a host handoff) from the live `party` to their rows."""
    for member in party.members.values():
        row = participant_of(db, party.id, member.id)
        if row is not None and row.role != member.role:
            row.role = member.role
    db.commit()

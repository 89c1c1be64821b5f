"""A user's own playlists (issue 14): create, rename, add tracks, reorder, remove, delete.

Positions are kept 0, 1, ..., n - 1 after every change (a playlist holds at most MAX_ITEMS entries, so
renumbering is cheap). Every function takes the owner's playlist (the web layer answers 404 for
another user's, so that its existence does not leak), flushes and commits. Bad input raises
`PlaylistError` with a message fit to show, and changes nothing.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Playlist, PlaylistItem, Track, utcnow

MAX_NAME = 200  # characters (the column's size)
MAX_ITEMS = 10_000  # entries per playlist: a day of music; bounds one answer and one renumbering
MAX_PLAYLISTS = 1_000  # per user
MAX_ADD = 1_000  # track ids per request


class PlaylistError(ValueError):
    """A bad name, too many entries or playlists, or track ids that name no track (the message says which)."""


def clean_name(name) -> str:
    """A playlist name: a string of 1 to MAX_NAME characters once trimmed, else PlaylistError."""
    if not isinstance(name, str) or not name.strip():
        raise PlaylistError("name must be a non-empty string")
    name = " ".join(name.split())
    if len(name) > MAX_NAME:
        raise PlaylistError(f"name must be at most {MAX_NAME} characters")
    return name


def _tracks(session: Session, track_ids) -> list[int]:
    """`track_ids` checked: a list of at most MAX_ADD whole numbers, each a track's id."""
    if not isinstance(track_ids, list) or len(track_ids) > MAX_ADD or not all(
            type(t) is int for t in track_ids):
        raise PlaylistError(f"track_ids must be a list of at most {MAX_ADD} track ids")
    known = set(session.scalars(select(Track.id).where(Track.id.in_(set(track_ids))))) if track_ids else set()
    unknown = sorted(set(track_ids) - known)
    if unknown:
        raise PlaylistError(f"no track with id {', '.join(map(str, unknown[:10]))}")
    return track_ids


def create(session: Session, user_id: int, name, track_ids=None) -> Playlist:
    """A new playlist of user `user_id`, with `track_ids` (optional) in that order."""
    name = clean_name(name)
    ids = _tracks(session, track_ids if track_ids is not None else [])
    if session.scalar(select(func.count()).select_from(Playlist).where(Playlist.user_id == user_id)) >= MAX_PLAYLISTS:
        raise PlaylistError(f"a user has at most {MAX_PLAYLISTS} playlists")
    playlist = Playlist(user_id=user_id, name=name)
    session.add(playlist)
    _insert(playlist, ids, None)
    session.commit()
    return playlist


def rename(session: Session, playlist: Playlist, name) -> Playlist:
    """`playlist` named `name`."""
    playlist.name = clean_name(name)
    playlist.updated_at = utcnow()
    session.commit()
    return playlist


def add(session: Session, playlist: Playlist, track_ids, index=None) -> Playlist:
    """`track_ids` inserted in that order at `index` (0 .. the length; None: at the end)."""
    ids = _tracks(session, track_ids)
    if len(playlist.items) + len(ids) > MAX_ITEMS:
        raise PlaylistError(f"a playlist holds at most {MAX_ITEMS} tracks")
    if index is not None and (type(index) is not int or not 0 <= index <= len(playlist.items)):
        raise PlaylistError(f"index must be a whole number from 0 to {len(playlist.items)}")
    _insert(playlist, ids, index)
    session.commit()
    return playlist


def move(session: Session, playlist: Playlist, item_id: int, index) -> Playlist:
    """Entry `item_id` moved to `index` (0 .. the length - 1: its place once moved)."""
    item = _item(playlist, item_id)
    if type(index) is not int or not 0 <= index < len(playlist.items):
        raise PlaylistError(f"index must be a whole number from 0 to {len(playlist.items) - 1}")
    items = [i for i in playlist.items if i is not item]
    items.insert(index, item)
    _renumber(playlist, items)
    session.commit()
    return playlist


def remove(session: Session, playlist: Playlist, item_id: int) -> Playlist:
    """Entry `item_id` taken out."""
    item = _item(playlist, item_id)
    playlist.items.remove(item)
    _renumber(playlist, list(playlist.items))
    session.commit()
    return playlist


def delete(session: Session, playlist: Playlist) -> None:
    """The playlist and its entries gone (the tracks stay)."""
    session.delete(playlist)
    session.commit()


def _item(playlist: Playlist, item_id: int) -> PlaylistItem:
    item = next((i for i in playlist.items if i.id == item_id), None)
    if item is None:
        raise LookupError(f"playlist {playlist.id} has no item {item_id}")
    return item


def _insert(playlist: Playlist, track_ids: list[int], index: int | None) -> None:
    items = list(playlist.items)
    at = len(items) if index is None else index
    items[at:at] = [PlaylistItem(track_id=track_id) for track_id in track_ids]
    _renumber(playlist, items)


def _renumber(playlist: Playlist, items: list[PlaylistItem]) -> None:
    for position, item in enumerate(items):
        item.position = position
    playlist.items = items
    playlist.updated_at = utcnow()

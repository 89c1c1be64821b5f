"""Playlists: a signed-in user's own, over JSON (docs/API.md, "Playlists"); the rules are
`library/playlists.py`. Another user's playlist answers 404, as an unknown one does."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, g, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..db import get_db
from ..library import playlists
from ..models import Album, Playlist, PlaylistItem, Track, TrackArtist
from . import music
from .auth import login_required

bp = Blueprint("playlists", __name__)


def summary_json(playlist: Playlist) -> dict:
    """`{"id", "name", "track_count", "duration_ms", "cover_url", "created_at", "updated_at"}`:
    `duration_ms` the tracks' sum in ms, `cover_url` the first track's album cover (or null), times ISO 8601 UTC."""
    tracks = [item.track for item in playlist.items]
    first = next((t.album for t in tracks if t.album.cover_image), None)
    return {"id": playlist.id, "name": playlist.name, "track_count": len(tracks),
            "duration_ms": sum(t.duration_ms or 0 for t in tracks),
            "cover_url": music.cover_url(first) if first else None,
            "created_at": playlist.created_at.isoformat(), "updated_at": playlist.updated_at.isoformat()}


def playlist_json(playlist: Playlist) -> dict:
    """The summary plus `items`: `[{"id": entry id, "track": a track as the music API gives it}]` in order."""
    return summary_json(playlist) | {"items": [{"id": item.id, "track": music.track_json(item.track)}
                                               for item in playlist.items]}


def _loads() -> tuple:
    """What `playlist_json` reads of every entry, loaded in a few queries (not one per entry)."""
    track = selectinload(Playlist.items).selectinload(PlaylistItem.track)
    return (track.selectinload(Track.album).selectinload(Album.album_artist),
            track.selectinload(Track.credits).selectinload(TrackArtist.artist))


def _own(playlist_id: int) -> Playlist:
    playlist = get_db().scalar(select(Playlist).where(Playlist.id == playlist_id, Playlist.user_id == g.user.id)
                               .options(*_loads()))
    if playlist is None:
        abort(404, f"playlist {playlist_id} doesn't exist")
    return playlist


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "the body must be a JSON object")
    return body


def _change(change, *args):
    """Run a `playlists` change; its PlaylistError is a 400, an unknown entry a 404."""
    try:
        return change(get_db(), *args)
    except playlists.PlaylistError as exc:
        get_db().rollback()
        abort(400, str(exc))
    except LookupError as exc:
        abort(404, str(exc))


@bp.get("/api/playlists")
@login_required
def api_playlists():
    """`{"items": [summary...]}`: the user's playlists, most recently changed first."""
    rows = get_db().scalars(select(Playlist).where(Playlist.user_id == g.user.id)
                            .order_by(Playlist.updated_at.desc(), Playlist.id.desc()).options(*_loads())).all()
    return {"items": [summary_json(p) for p in rows]}


@bp.post("/api/playlists")
@login_required
def api_create():
    """Body `{"name", "track_ids"?: [...]}` -> 201 with the playlist."""
    body = _body()
    playlist = _change(playlists.create, g.user.id, body.get("name"), body.get("track_ids"))
    return playlist_json(_own(playlist.id)), 201


@bp.get("/api/playlists/<int:playlist_id>")
@login_required
def api_playlist(playlist_id: int):
    """One playlist with its entries."""
    return playlist_json(_own(playlist_id))


@bp.patch("/api/playlists/<int:playlist_id>")
@login_required
def api_rename(playlist_id: int):
    """Body `{"name"}`: renamed."""
    _change(playlists.rename, _own(playlist_id), _body().get("name"))
    return playlist_json(_own(playlist_id))


@bp.delete("/api/playlists/<int:playlist_id>")
@login_required
def api_delete(playlist_id: int):
    """Deleted (its tracks stay in the library): 204."""
    playlists.delete(get_db(), _own(playlist_id))
    return "", 204


@bp.post("/api/playlists/<int:playlist_id>/items")
@login_required
def api_add(playlist_id: int):
    """Body `{"track_ids": [...], "index"?: N}`: inserted in that order at `index` (default: the end)."""
    body = _body()
    _change(playlists.add, _own(playlist_id), body.get("track_ids"), body.get("index"))
    return playlist_json(_own(playlist_id))


@bp.patch("/api/playlists/<int:playlist_id>/items/<int:item_id>")
@login_required
def api_move(playlist_id: int, item_id: int):
    """Body `{"index": N}`: the entry moved there."""
    _change(playlists.move, _own(playlist_id), item_id, _body().get("index"))
    return playlist_json(_own(playlist_id))


@bp.delete("/api/playlists/<int:playlist_id>/items/<int:item_id>")
@login_required
def api_remove(playlist_id: int, item_id: int):
    """The entry taken out."""
    _change(playlists.remove, _own(playlist_id), item_id)
    return playlist_json(_own(playlist_id))


def init_app(app: Flask) -> None:
    """Register the playlists blueprint."""
    app.register_blueprint(bp)

"""Music pages (issue 14): the albums grid, the artists, an album, an artist, the music search and the
user's playlists, every one the same shell (`templates/music.html`) with the player bar. static/js/music.js renders the view
of the URL from the JSON API (`web/music.py`, `web/search.py`) and moves between views with the
History API, so the bar's <audio> elements keep playing while the user browses; a direct load or a
reload of any of these URLs renders its view the same way.

A music file opened elsewhere (`/watch/<id>` from a title page or Files) is sent to its album's page
with the track playing (`?play=<track id>`), not to the video player."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..db import get_db
from ..models import Album, Artist, Playlist, Track
from .auth import login_required
from .pagination import get_or_404

bp = Blueprint("music_pages", __name__)


def track_page_url(track: Track) -> str:
    """Where a track plays: its album's page, starting the album at it."""
    return url_for("music_pages.album_page", album_id=track.album_id, play=track.id)


def _shell(view: str, title: str):
    """The one music page: `view` names what static/js/music.js renders first (it reads the URL too)."""
    return render_template("music.html", view=view, page_title=title)


@bp.get("/music")
@login_required
def albums_page():
    """The albums' grid (covers), sorted and searchable."""
    return _shell("albums", "Albums")


@bp.get("/music/artists")
@login_required
def artists_page():
    """Every artist."""
    return _shell("artists", "Artists")


@bp.get("/music/albums/<int:album_id>")
@login_required
def album_page(album_id: int):
    """An album with its track list; 404 page when unknown. `?play=<track id>` starts it at that track."""
    return _shell("album", get_or_404(Album, album_id).title)


@bp.get("/music/artists/<int:artist_id>")
@login_required
def artist_page(artist_id: int):
    """An artist's albums and the albums they appear on; 404 page when unknown."""
    return _shell("artist", get_or_404(Artist, artist_id).name)


@bp.get("/music/search")
@login_required
def search_page():
    """Artists, albums and tracks matching `q` (`GET /api/search`)."""
    return _shell("search", "Search music")


@bp.get("/music/playlists")
@login_required
def playlists_page():
    """The user's playlists (`/api/playlists`) and a form to make one."""
    return _shell("playlists", "Playlists")


@bp.get("/music/playlists/<int:playlist_id>")
@login_required
def playlist_page(playlist_id: int):
    """One of the user's playlists; another user's, or an unknown one, is a 404 page (as the API)."""
    found = get_db().scalar(select(Playlist).where(Playlist.id == playlist_id, Playlist.user_id == g.user.id))
    if found is None:
        abort(404, f"playlist {playlist_id} doesn't exist")
    return _shell("playlist", found.name)


def _watch_a_track():
    """Before `/watch/<id>` (web/playback.py's player page): a file that is a track opens the music
    player at its album instead of a video box. Only for a signed-in user: anyone else gets the
    route's own answer (the login page), and learns nothing of the catalog."""
    if request.endpoint != "playback.watch" or g.get("user") is None:
        return None
    track = get_db().scalar(select(Track).where(Track.media_file_id == (request.view_args or {}).get("media_id")))
    return redirect(track_page_url(track)) if track is not None else None


def init_app(app: Flask) -> None:
    """Register the music pages and the `/watch` redirect of tracks (after auth's `load_user`)."""
    app.register_blueprint(bp)
    app.before_request(_watch_a_track)

"""Search: `GET /api/search?q=` looks for movies, shows, episodes, artists, albums and tracks at once
(issue 14), with case, accents and punctuation ignored, answering each kind in its own list."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, request
from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..db import get_db
from ..models import Album, Artist, Episode, Movie, Season, Show, Track
from ..text import normalize_title
from . import music, titles
from .auth import login_required
from .pagination import int_arg

bp = Blueprint("search", __name__)

LIMIT_DEFAULT = 20  # per kind: a screen of results
LIMIT_MAX = 100


def _best_first(query, column, q: str, limit: int):
    """The rows whose `column` contains `q`: those starting with it first, then shorter (closer) ones,
    then alphabetically; at most `limit`."""
    return get_db().scalars(query.where(column.like(f"%{q}%")).order_by(
        case((column.like(f"{q}%"), 0), else_=1), func.length(column), column).limit(limit)).unique().all()


def episode_json(episode: Episode) -> dict:
    """An episode as the search lists it: `titles.episode_json` and its show's `show_id`, `show_title`."""
    show = episode.season.show
    return titles.episode_json(episode, episode.season.number) | {"show_id": show.id, "show_title": show.title}


@bp.get("/api/search")
@login_required
def api_search():
    """`GET /api/search?q=...&limit=20` -> `{"q", "movies", "shows", "episodes", "artists", "albums",
    "tracks"}`: in each list at most `limit` (1..100) items, in the shape of that kind's list route.
    400 JSON when `q` holds no letter or digit."""
    q = normalize_title(request.args.get("q", ""))  # letters, digits and spaces: nothing to escape for LIKE
    if not q:
        abort(400, "q must hold a letter or a digit")
    limit = int_arg("limit", LIMIT_DEFAULT, 1, LIMIT_MAX)
    movies = _best_first(select(Movie).options(*titles.LISTS["movies"][2]()), Movie.search_text, q, limit)
    shows = _best_first(select(Show).options(*titles.LISTS["shows"][2]()), Show.search_text, q, limit)
    episodes = _best_first(select(Episode).options(selectinload(Episode.files), selectinload(Episode.season)
                                                   .selectinload(Season.show)), Episode.search_text, q, limit)
    artists = _best_first(select(Artist), Artist.search_text, q, limit)
    albums = _best_first(select(Album).options(selectinload(Album.album_artist)), Album.search_text, q, limit)
    tracks = _best_first(select(Track).options(*music.track_loads()), Track.search_text, q, limit)
    counts = music.artist_counts([a.id for a in artists])
    totals = music.album_totals([a.id for a in albums])
    return {
        "q": request.args.get("q", ""),
        "movies": [titles.movie_json(m) for m in movies], "shows": [titles.show_json(s) for s in shows],
        "episodes": [episode_json(e) for e in episodes],
        "artists": [music.artist_json(a, counts) for a in artists],
        "albums": [music.album_json(a, totals) for a in albums], "tracks": [music.track_json(t) for t in tracks],
    }


def init_app(app: Flask) -> None:
    """Register the search blueprint."""
    app.register_blueprint(bp)

"""Movies and shows: the JSON API, posters, admin "fix match", and the pages that show them (the home
page is the movies' grid)."""
from __future__ import annotations

import os

from flask import Blueprint, Flask, abort, render_template, request, send_from_directory, url_for
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from .. import images
from ..db import get_db
from ..exceptions import TMDBError
from ..library import enrich, prefs
from ..models import Episode, Genre, MediaFile, Movie, Season, Show
from ..paths import resolved_inside
from ..scanner.match import choose
from ..text import normalize_title
from .auth import admin_required, login_required
from .errors import error_response
from .files import get_media_or_404
from .pagination import get_or_404, int_arg, ordering, paginate

bp = Blueprint("titles", __name__)

#: `sort` values -> columns. Titles sort on the normalised title ("The Matrix" under M, as Plex does).
SORTS = {"title": "search_text", "year": "year", "added": "created_at"}


def file_json(media: MediaFile) -> dict:
    """A file as a movie or episode lists it: `{"id", "path"}` (`path` relative to its library folder;
    the whole file is `GET /api/media-files/<id>`)."""
    return {"id": media.id, "path": media.path}


def poster_url(row: Movie | Show, files: list[MediaFile]) -> str | None:
    """The stored TMDB poster, else a frame of the first video file, else None."""
    if row.poster:
        return url_for("titles.image", name=row.poster)
    first = next((f for f in files if f.status == "ok"), None)
    return url_for("titles.frame", media_id=first.id) if first else None


def _common(row: Movie | Show, files: list[MediaFile]) -> dict:
    return {
        "id": row.id, "tmdb_id": row.tmdb_id, "title": row.title, "original_title": row.original_title,
        "year": row.year, "overview": row.overview, "genres": [g.name for g in row.genres],
        "poster_url": poster_url(row, files),
        "backdrop_url": url_for("titles.image", name=row.backdrop) if row.backdrop else None,
        "match_status": row.match_status,
    }


def movie_json(movie: Movie, detail: bool = False) -> dict:
    """A movie as the API gives it (docs/API.md); `detail` adds cast and match candidates."""
    data = _common(movie, movie.files) | {
        "release_date": movie.release_date, "runtime_min": movie.runtime_min,
        "files": [file_json(f) for f in movie.files],
    }
    if detail:
        data |= {"cast": movie.cast or [], "candidates": movie.candidates or []}
    return data


def episode_json(episode: Episode, season_number: int) -> dict:
    return {"id": episode.id, "season": season_number, "number": episode.number, "title": episode.title,
            "overview": episode.overview, "air_date": episode.air_date,
            "files": [file_json(f) for f in episode.files]}


def show_json(show: Show, detail: bool = False) -> dict:
    """A show with its seasons and their episodes nested, each episode listing its files."""
    files = [f for s in show.seasons for e in s.episodes for f in e.files]
    data = _common(show, files) | {
        "first_air_date": show.first_air_date,
        "seasons": [{"number": s.number, "title": s.title,
                     "episodes": [episode_json(e, s.number) for e in s.episodes]} for s in show.seasons],
    }
    if detail:
        data |= {"cast": show.cast or [], "candidates": show.candidates or []}
    return data


def _filtered(model: type[Movie] | type[Show]) -> Select:
    """`q` (title contains, any case), `genre` (exact name, any case), `year`, `sort`, `order`."""
    query = select(model)
    q = normalize_title(request.args.get("q", ""))  # letters and digits only: nothing to escape for LIKE
    if q:
        query = query.where(model.search_text.like(f"%{q}%"))
    genre = request.args.get("genre", "").strip()
    if genre:
        query = query.where(model.genres.any(func.lower(Genre.name) == genre.lower()))
    if request.args.get("year"):
        query = query.where(model.year == int_arg("year", 0, 1800, 3000))
    return query.order_by(*ordering({k: getattr(model, c) for k, c in SORTS.items()}, "title", model.id))


#: The lists: each kind's model, its JSON, and the relationships every item of a page carries.
LISTS = {
    "movies": (Movie, movie_json, lambda: (selectinload(Movie.files), selectinload(Movie.genres))),
    "shows": (Show, show_json, lambda: (selectinload(Show.genres), selectinload(Show.seasons)
                                        .selectinload(Season.episodes).selectinload(Episode.files))),
}


@bp.get("/api/library/movies", defaults={"kind": "movies"})
@bp.get("/api/library/shows", defaults={"kind": "shows"})
@login_required
def api_titles(kind: str):
    """`GET /api/library/movies|shows?q&genre&year&sort=title|year|added&order=asc|desc&page&per_page`:
    a page of movies, or of shows with their seasons and episodes nested (`paginate`'s shape)."""
    model, render, loads = LISTS[kind]
    return paginate(_filtered(model).options(*loads()), render)


@bp.get("/api/library/movies/<int:movie_id>")
@login_required
def api_movie(movie_id: int):
    """One movie with its cast and match candidates; 404 when unknown."""
    return movie_json(get_or_404(Movie, movie_id), detail=True)


@bp.get("/api/library/shows/<int:show_id>")
@login_required
def api_show(show_id: int):
    """One show with its seasons, episodes, cast and match candidates; 404 when unknown."""
    return show_json(get_or_404(Show, show_id), detail=True)


@bp.get("/api/tmdb/search")
@admin_required
def api_tmdb_search():
    """Admin "fix match" search: `?kind=movie|tv&q=...&year=N` -> `{"candidates": [...]}` scored."""
    kind, q = request.args.get("kind", "movie"), request.args.get("q", "").strip()
    if kind not in ("movie", "tv") or not q:
        return error_response(400, "give kind=movie or kind=tv and a non-empty q")
    year = int_arg("year", 0, 0, 3000) or None
    client = prefs.tmdb_client(get_db(), prefs.settings())
    if client is None:
        return error_response(409, "TMDB enrichment is off: set a TMDB key in Settings")
    try:
        found = client.search_movie(q, year) if kind == "movie" else client.search_tv(q, year)
    except TMDBError as exc:
        return error_response(502, f"TMDB: {exc}")
    finally:
        client.close()
    decision = choose(q, year, found)
    return {"candidates": [{"tmdb_id": c.tmdb_id, "title": c.title, "year": c.year, "overview": c.overview,
                            "score": round(s, 3)} for c, s in decision.scored]}


@bp.post("/api/library/<kind>/<int:row_id>/match")
@admin_required
def api_fix_match(kind: str, row_id: int):
    """Admin: `{"tmdb_id": N}` makes this movie or show that TMDB title (kept across rescans)."""
    model = {"movies": Movie, "shows": Show}.get(kind) or abort(404, f"no such collection {kind!r}")
    row = get_or_404(model, row_id)
    body = request.get_json(silent=True)
    tmdb_id = body.get("tmdb_id") if isinstance(body, dict) else None  # a list or a number: no tmdb_id
    # TMDB ids fit the 32-bit tmdb_id column; a larger one is no TMDB title (and would overflow it)
    if not isinstance(tmdb_id, int) or isinstance(tmdb_id, bool) or not 0 < tmdb_id < 2**31:
        return error_response(400, 'send JSON {"tmdb_id": <positive integer>}')
    db = get_db()
    client = prefs.tmdb_client(db, prefs.settings())
    if client is None:
        return error_response(409, "TMDB enrichment is off: set a TMDB key in Settings")
    try:
        row = enrich.apply_match(db, row, tmdb_id, client)
    except TMDBError as exc:
        db.rollback()
        return error_response(404 if exc.status == 404 else 502, f"TMDB: {exc}")
    finally:
        client.close()
    return movie_json(row, detail=True) if model is Movie else show_json(row, detail=True)


@bp.get("/images/<name>")
@login_required
def image(name: str):
    """A stored poster or backdrop (never hotlinked from TMDB); nothing that resolves outside the folder."""
    folder = prefs.settings().images_dir
    if resolved_inside(folder, name) is None:
        abort(404, f"no image {name!r}")
    return send_from_directory(folder, name, max_age=86400)


@bp.get("/api/media-files/<int:media_id>/frame.jpg")
@login_required
def frame(media_id: int):
    """A frame of the video (made on first request) standing in for a missing poster; 404 for audio, and
    for a file that resolves outside its library folder (`images.frame_for`)."""
    settings = prefs.settings()
    name = images.frame_for(get_media_or_404(media_id), settings.images_dir, settings.ffmpeg)
    if name is None:
        abort(404, f"media file {media_id} has no picture")
    return send_from_directory(settings.images_dir, name, max_age=86400)


@bp.get("/movies")
@bp.get("/")  # registered first (decorators apply bottom-up), so url_for gives "/"
@login_required
def grid_movies():
    """The home page: the movies' poster grid, with search, filters and sorting."""
    return _grid("movies")


@bp.get("/shows")
@login_required
def grid_shows():
    """The shows' poster grid."""
    return _grid("shows")


def _tmdb_on() -> bool:
    """Whether TMDB enrichment is on (a key in Settings or TMDB_API_KEY): the pages offer fix match then."""
    return prefs.tmdb_api_key(get_db(), prefs.settings()) is not None


def _grid(tab: str):
    """The poster grid page of `tab` (movies or shows); static/js/grid.js fills it from the API."""
    return render_template("grid.html", tab=tab, tmdb_on=_tmdb_on())


@bp.get("/movies/<int:movie_id>")
@login_required
def movie_page(movie_id: int):
    movie = get_or_404(Movie, movie_id)
    return render_template("movie.html", movie=movie, info=movie_json(movie, detail=True), tmdb_on=_tmdb_on())


@bp.get("/shows/<int:show_id>")
@login_required
def show_page(show_id: int):
    show = get_or_404(Show, show_id)
    return render_template("show.html", show=show, info=show_json(show, detail=True),
                           season_number=request.args.get("season", type=int), tmdb_on=_tmdb_on())


@bp.get("/episodes/<int:episode_id>")
@login_required
def episode_page(episode_id: int):
    episode = get_or_404(Episode, episode_id)
    return render_template("episode.html", episode=episode, show=episode.season.show,
                           info=episode_json(episode, episode.season.number))


def init_app(app: Flask) -> None:
    """Register the titles blueprint (and make the images folder)."""
    app.register_blueprint(bp)
    os.makedirs(os.path.join(app.config["DATA_DIR"], "images"), exist_ok=True)

"""Media files: the JSON API over the files and their transcode state, the Files page and a file's page."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, g, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..db import get_db
from ..models import Episode, Genre, MediaFile, Movie, Season, Show
from ..titles import title_from_path
from ..transcode import jobs
from .auth import login_required
from .errors import error_response
from .pagination import int_arg, ordering, paginate

bp = Blueprint("files", __name__)

def stream_json(s) -> dict:
    """The API shape of a stream (docs/API.md): sizes in px, fps in frames/s, sample_rate in Hz."""
    return {
        "index": s.index, "type": s.type, "codec": s.codec, "profile": s.profile,
        "width": s.width, "height": s.height, "fps": s.fps, "channels": s.channels,
        "sample_rate": s.sample_rate, "language": s.language, "title": s.title,
        "default": s.is_default, "bit_rate": s.bit_rate, "attached_pic": s.attached_pic,
    }


def transcode_json(media: MediaFile) -> dict:
    """`status` is `none`, `queued`, `running`, `succeeded` or `failed`; `progress` in percent."""
    job = media.latest_job
    ready = media.ready_job
    return {
        "status": job.status if job else "none",
        "progress": job.progress if job else 0.0,
        "error": job.error if job else None,
        "playable": ready is not None,
    }


def media_json(media: MediaFile) -> dict:
    """The API shape of a media file (docs/API.md). Sizes in bytes, durations in ms, bit rates in bit/s.
    `track`: `{"id", "album_id"}` when the file is a music track (it plays in the music player), else null."""
    track = media.track
    return {
        "id": media.id, "title": title_from_path(media.path), "path": media.path, "size": media.size, "status": media.status,
        "error": media.error, "container": media.container, "duration_ms": media.duration_ms,
        "bit_rate": media.bit_rate, "streams": [stream_json(s) for s in media.streams],
        "transcode": transcode_json(media),
        "track": {"id": track.id, "album_id": track.album_id} if track is not None else None,
    }


def get_media_or_404(media_id: int) -> MediaFile:
    """The media file, or abort with 404 JSON naming the id."""
    media = get_db().get(MediaFile, media_id)
    if media is None:
        abort(404, f"media file {media_id} doesn't exist")
    return media


@bp.get("/api/library/media-files")
@login_required
def api_media_files():
    """`GET /api/library/media-files?page&per_page` -> `{"items", "total", "page", "per_page"}`; 400 on bad numbers."""
    query = _filtered_files().options(selectinload(MediaFile.streams), selectinload(MediaFile.jobs),
                                      selectinload(MediaFile.track))
    return paginate(query, media_json)


#: `sort` values of the file list -> columns.
FILE_SORTS = {"path": MediaFile.path, "size": MediaFile.size, "duration": MediaFile.duration_ms,
              "added": MediaFile.id}


def _filtered_files():
    """`q` (path contains, any case), `genre`/`year` (of the file's movie or show), `sort`, `order`."""
    query = select(MediaFile)
    q = request.args.get("q", "").strip().lower()
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(MediaFile.path).like(like, escape="\\"))
    genre = request.args.get("genre", "").strip().lower()
    if genre:
        has_genre = Genre.name.ilike(genre)
        query = query.where(or_(MediaFile.movie.has(Movie.genres.any(has_genre)),
                                MediaFile.episodes.any(Episode.season.has(Season.show.has(Show.genres.any(has_genre))))))
    if request.args.get("year"):
        year = int_arg("year", 0, 1800, 3000)
        query = query.where(or_(MediaFile.movie.has(Movie.year == year),
                                MediaFile.episodes.any(Episode.season.has(Season.show.has(Show.year == year)))))
    return query.order_by(*ordering(FILE_SORTS, "path", MediaFile.id))


@bp.get("/api/media-files/<int:media_id>")
@login_required
def api_media_file(media_id: int):
    """`GET /api/media-files/<id>` -> one item; 404 when unknown."""
    return media_json(get_media_or_404(media_id))


@bp.post("/api/media-files/<int:media_id>/transcode")
@login_required
def api_transcode(media_id: int):
    """`POST /api/media-files/<id>/transcode` -> 202 `{"job_id", "status"}`; 403 for a user who may not
    queue transcodes (`User.can_transcode`: admins, and users granted it), 404 unknown file, 409
    unreadable file, 503 Redis down (errors.py's RedisError handler)."""
    if not g.user.can_transcode:
        return error_response(403, "queueing a transcode is for admins and users granted it "
                                   "(flask users set NAME --transcode)")
    media = get_media_or_404(media_id)
    try:
        job = jobs.enqueue(get_db(), media)
    except ValueError as exc:
        return error_response(409, str(exc))
    return {"job_id": job.rq_job_id, "status": job.status}, 202


@bp.get("/files")
@login_required
def index():
    """Every catalogued file with its technical facts and transcode state (static/js/library.js)."""
    return render_template("library.html")


@bp.get("/media/<int:media_id>")
@login_required
def detail(media_id: int):
    """A media file's facts and stream table."""
    media = get_media_or_404(media_id)
    return render_template("detail.html", media=media, info=media_json(media))


def init_app(app: Flask) -> None:
    """Register the files blueprint."""
    app.register_blueprint(bp)

"""Tokenized HLS serving and the player page.

`GET /api/media-files/<id>/playback` hands out `/hls/<id>/<token>/master.m3u8`; every playlist and
segment below it is reached by relative URI, so the token rides along as a path component. Serving
checks the token only (no cookie needed), and only files inside the title's published folder, after
resolving symlinks, are ever sent.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone

from flask import Blueprint, Flask, current_app, g, render_template, send_file, url_for
from werkzeug.security import safe_join

from .. import tokens
from ..db import get_db
from ..exceptions import TokenError
from ..models import User
from ..transcode.jobs import hls_root
from .auth import login_required
from .errors import error_response
from .library import get_media_or_404, media_json

bp = Blueprint("playback", __name__)

#: Content types: RFC 8216 section 4 for playlists; fMP4 segments and init segments are MP4.
CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".m4s": "video/iso.segment", ".mp4": "video/mp4"}


def issue_playback(media_id: int, user_id: int) -> dict:
    """`{"url": <absolute master playlist URL>, "expires_at": <ISO-8601 UTC>}` for a published title."""
    token, grant = tokens.issue(current_app.config["SECRET_KEY"], user_id, media_id,
                                current_app.config["TOKEN_TTL_S"], time.time())
    url = url_for("playback.hls_file", media_id=media_id, token=token, subpath="master.m3u8", _external=True)
    expires = datetime.fromtimestamp(grant.expires_s, timezone.utc).isoformat().replace("+00:00", "Z")
    return {"url": url, "expires_at": expires, "ttl_s": current_app.config["TOKEN_TTL_S"]}


@bp.get("/api/media-files/<int:media_id>/playback")
@login_required
def api_playback(media_id: int):
    """`GET /api/media-files/<id>/playback` -> `{"url", "expires_at", "ttl_s"}`; 409 when no ladder is published."""
    media = get_media_or_404(media_id)
    if media.ready_job is None:
        state = media_json(media)["transcode"]["status"]
        return error_response(409, f"media file {media_id} has no HLS ladder yet (transcode status: {state})")
    return issue_playback(media_id, g.user.id)


@bp.get("/hls/<int:media_id>/<token>/<path:subpath>")
def hls_file(media_id: int, token: str, subpath: str):
    """A playlist or segment of the title's published ladder; 403 bad token, 404 outside the folder."""
    try:
        grant = tokens.verify(current_app.config["SECRET_KEY"], token, media_id, time.time())
    except TokenError as exc:
        return error_response(403, str(exc))
    db = get_db()
    media = get_media_or_404(media_id)
    ready = media.ready_job
    if db.get(User, grant.user_id) is None:
        return error_response(403, "stream token's user no longer exists")
    if ready is None:
        return error_response(404, f"media file {media_id} has no HLS ladder")
    base = os.path.realpath(os.path.join(hls_root(), ready.output_dir))
    path = safe_join(base, subpath)
    if path is None:
        return error_response(404, "no such file")
    real = os.path.realpath(path)
    if os.path.commonpath([real, base]) != base or not os.path.isfile(real):
        return error_response(404, "no such file")
    response = send_file(real, mimetype=CONTENT_TYPES.get(os.path.splitext(real)[1], "application/octet-stream"),
                         conditional=True, max_age=0 if real.endswith(".m3u8") else 3600)
    response.headers["Cache-Control"] = "private, " + response.headers.get("Cache-Control", "no-cache")
    return response


@bp.get("/hls/<path:rest>")
def hls_without_token(rest: str):
    """Any other `/hls/...` URL lacks the `<id>/<token>/` prefix."""
    return error_response(403, "missing stream token: ask /api/media-files/<id>/playback for a URL")


@bp.get("/watch/<int:media_id>")
@login_required
def watch(media_id: int):
    """The player page."""
    media = get_media_or_404(media_id)
    return render_template("player.html", media=media, info=media_json(media))


def init_app(app: Flask) -> None:
    """Register the playback blueprint."""
    app.register_blueprint(bp)

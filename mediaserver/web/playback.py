"""Playback: the direct play / HLS decision handed to players, tokenized serving, resume positions,
and the player page.

`GET /api/media-files/<id>/playback` answers how to play a file (docs/API.md). Direct play hands out
`/media/<id>/<token>/<file name>` (the file itself, with Range: 206/416 by werkzeug); HLS hands out
`/hls/<id>/<token>/master.m3u8`, every playlist and segment below it reached by relative URI, so the
token rides along as a path component (no cookie needed: VLC or a TV can play it). A token expires
after TOKEN_TTL_S; players renew it (`player.js`), and a logged-in browser's session cookie stands in
for an expired token, so a long title always plays to its end. Only files inside the title's folder,
after resolving symlinks, are ever sent; behind nginx (MEDIASERVER_X_ACCEL_PREFIX) the app makes the
same checks and nginx sends the file (`X-Accel-Redirect`, deploy/README.md).
"""
from __future__ import annotations

import functools
import os
import time
from datetime import datetime, timezone
from urllib.parse import quote

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request, send_file, url_for
from sqlalchemy import bindparam, delete, select

from .. import tokens
from ..config import TranscodeSettings
from ..db import database, get_db
from ..exceptions import TokenError, TokenExpired
from ..models import MediaFile, PlaybackPosition, User, utcnow
from ..party import access
from ..paths import OUTSIDE_LIBRARY, is_within, resolved_inside
from ..transcode import jobs, recovery
from ..transcode.decision import DIRECT
from ..transcode.facts import media_facts, source_outside
from ..transcode.plan import Track, audio_tracks, decision_for, subtitle_tracks
from ..transcode.sources import extract_subtitles, subtitle_cache_dir
from .auth import login_required
from .caching import no_store
from .errors import error_response
from .files import get_media_or_404, media_json

bp = Blueprint("playback", __name__)

#: The largest resume point stored (ms): Number.MAX_SAFE_INTEGER, what a browser can send exactly.
MAX_POSITION_MS = 2**53 - 1

#: How long a web process remembers which ladder folder a title serves (s): see `_served_folder`.
SERVED_FOLDER_TTL_S = 1.0

#: Content types: RFC 8216 section 4 for playlists; fMP4 segments and init segments are MP4; WebVTT.
CONTENT_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".m4s": "video/iso.segment", ".mp4": "video/mp4",
                 ".vtt": "text/vtt; charset=utf-8"}


def _grant(media_id: int, user_id: int | None, party_id: int | None = None) -> tuple[str, dict]:
    ttl = current_app.config["TOKEN_TTL_S"]
    user = g.get("user")
    epoch = user.token_epoch if user is not None and user.id == user_id else 0
    token, grant = tokens.issue(current_app.config["SECRET_KEY"], user_id or 0, media_id, ttl, time.time(), party_id,
                                epoch)
    expires = datetime.fromtimestamp(grant.expires_s, timezone.utc).isoformat().replace("+00:00", "Z")
    return token, {"expires_at": expires, "ttl_s": ttl}


def _track_json(track: Track, sub_url: str | None = None) -> dict:
    return {"key": track.key, "name": track.name, "language": track.language, "default": track.default,
            "forced": track.forced, "convertible": track.convertible, "note": track.note, "url": sub_url}


def playback_info(media: MediaFile, user_id: int | None, party_id: int | None = None) -> tuple[int, dict]:
    """(HTTP status, body) of `GET /api/media-files/<id>/playback`; queues a ladder job when the file
    needs one and has none. 409 while nothing is playable yet (the body says why and how far along),
    also for a file that now resolves outside its library folder (`unreadable`, paths.OUTSIDE_LIBRARY).
    A party guest has no `user_id`: its stream token names `party_id` instead (and no resume point)."""
    facts = media_facts(media)
    error = media.error if media.status != "ok" else (OUTSIDE_LIBRARY if source_outside(media) else None)
    decision = decision_for(facts) if error is None else None
    position = get_db().get(PlaybackPosition, (user_id, media.id)) if user_id is not None else None
    body = {"media_file_id": media.id, "method": decision.method if decision else None,
            "reasons": list(decision.reasons) if decision else [], "kind": None, "url": None,
            "audio": [], "subtitles": [], "resume_ms": position.position_ms if position else None,
            "duration_ms": media.duration_ms, "transcode": None}
    if decision is None:
        body.update(status="unreadable", error=error)
        return 409, {"error": "Conflict", "message": f"this file cannot be played: {error}", **body}
    token, grant = _grant(media.id, user_id, party_id)
    body.update(grant)
    body["audio"] = [_track_json(t) for t in audio_tracks(facts)]
    subtitles = subtitle_tracks(facts)
    latest = media.latest_job
    if latest is not None and latest.status == "failed" and media.playable_job is None:
        # e.g. a file that probes fine but whose decoding stops half way: say so rather than serve it
        body.update(status="failed", error=latest.error, transcode={
            "id": latest.id, "status": latest.status, "progress": latest.progress, "attempts": latest.attempts})
        return 409, {"error": "Conflict", "message": f"this file cannot be played: {latest.error}", **body}
    if decision.method == DIRECT:
        name = _direct_name(media)
        body.update(kind="file", status="ready",
                    url=url_for("playback.direct_file", media_id=media.id, token=token, name=name, _external=True))
        body["subtitles"] = [_track_json(t, url_for("playback.direct_subtitle", media_id=media.id, token=token,
                                                     key=t.key) if t.convertible else None) for t in subtitles]
        return 200, body
    body["subtitles"] = [_track_json(t) for t in subtitles]
    job = _served_job(media)
    if job is None:
        if latest is None or latest.status in ("succeeded", "cancelled") or latest.status in jobs.ACTIVE:
            latest = jobs.enqueue(get_db(), media)
        body.update(status=latest.status, error=latest.error, transcode={
            "id": latest.id, "status": latest.status, "progress": latest.progress, "attempts": latest.attempts})
        message = (f"the transcode failed: {latest.error}" if latest.status == "failed"
                   else f"transcoding ({latest.status}, {latest.progress:.0f} %); it becomes playable in a few seconds")
        return 409, {"error": "Conflict", "message": message, **body}
    body.update(kind="hls", status="live" if job.status == "running" else "ready",
                url=url_for("playback.hls_file", media_id=media.id, token=token, subpath="master.m3u8", _external=True),
                transcode={"id": job.id, "status": job.status, "progress": job.progress, "attempts": job.attempts})
    return 200, body


def _direct_name(media: MediaFile) -> str:
    """The last component of a direct-play URL: the file's own name (its path's last part)."""
    return os.path.basename(media.path)


@bp.get("/api/media-files/<int:media_id>/playback")
@login_required
@no_store
def api_playback(media_id: int):
    """`GET /api/media-files/<id>/playback` -> how to play it (docs/API.md); 409 while not playable.
    `Cache-Control: no-store`: the body holds signed stream URLs."""
    status, body = playback_info(get_media_or_404(media_id), g.user.id)
    return jsonify(body), status


@bp.route("/api/media-files/<int:media_id>/position", methods=["GET", "PUT", "DELETE"])
@login_required
def api_position(media_id: int):
    """The user's resume point: `{"position_ms": N | null}`; PUT `{"position_ms": N}` (ms, >= 0) stores it,
    DELETE forgets it (watched to the end). 400 on a bad number."""
    media = get_media_or_404(media_id)
    db = get_db()
    row = db.get(PlaybackPosition, (g.user.id, media.id))
    if request.method == "PUT":
        body = request.get_json(silent=True)
        value = body.get("position_ms") if isinstance(body, dict) else None
        # at most JavaScript's largest exact integer: well inside the BIGINT column (a larger one overflowed: a 500)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_POSITION_MS:
            return error_response(400, f"position_ms must be a whole number of ms, from 0 to {MAX_POSITION_MS}")
        if row is None:
            row = PlaybackPosition(user_id=g.user.id, media_file_id=media.id, position_ms=value)
            db.add(row)
        row.position_ms, row.updated_at = value, utcnow()
        db.commit()
    elif request.method == "DELETE" and row is not None:
        # one statement, not the ORM's delete of the row read above: a player sends its last DELETE from
        # `pause` and `ended` at once, and the second would find the row gone (a warning, no error)
        db.execute(delete(PlaybackPosition).where(PlaybackPosition.user_id == g.user.id,
                                                     PlaybackPosition.media_file_id == media.id))
        db.commit()
        row = None
    return {"media_file_id": media.id, "position_ms": row.position_ms if row else None}


def _served_job(media: MediaFile):
    """The job whose folder players get: `playable_job`, except a live one whose heartbeat is older
    than LIVE_STALE_S (its worker died mid-encode: its half-made output is no longer served); None
    once the file resolves outside its library folder (a symlink made since; the next scan fails the
    file and deletes its ladders)."""
    if source_outside(media):
        return None
    job = media.playable_job
    if job is not None and job.status == "running":
        beat = job.heartbeat_at or job.started_at
        if beat is None or (utcnow() - recovery.aware(beat)).total_seconds() > _transcode_settings().live_stale_s:
            return media.ready_job
    return job


def _transcode_settings() -> TranscodeSettings:
    return TranscodeSettings.from_config(current_app.config)


def _check_token(media_id: int, token: str):
    """None when `token` grants `media_id`, else a 403. An expired token is still honoured for the
    logged-in browser session of the token's own user, and for a party guest while the party runs and
    holds the title. A user's token dies with the user, and with the `token_epoch` it was issued in
    (a password change, a role change, "log out everywhere")."""
    try:
        grant = tokens.verify(current_app.config["SECRET_KEY"], token, media_id, time.time())
    except TokenExpired as exc:
        user, grant = g.get("user"), exc.grant
        if user is not None and user.id == grant.user_id and user.token_epoch == grant.epoch:
            return None  # a logged-in browser keeps playing what it started (its own token only)
        if grant.party_id is not None and access.may_stream(get_db(), grant.party_id, media_id) \
                and (grant.user_id == 0 or _user_current(grant.user_id, grant.epoch)):
            return None  # so does a party guest's player (a direct-play Range request), while the party runs
        return error_response(403, str(exc))
    except TokenError as exc:
        return error_response(403, str(exc))
    if grant.party_id is not None:
        if not access.may_stream(get_db(), grant.party_id, media_id):
            return error_response(403, "stream token's party has ended")
        if grant.user_id == 0:
            return None
    if not _user_current(grant.user_id, grant.epoch):
        return error_response(403, "stream token's user no longer exists or has signed out everywhere")
    return None


def stream_token_required(view):
    """A stream route's view runs only when its `token` path component grants its `media_id`
    (`_check_token`); otherwise the answer is that 403."""
    @functools.wraps(view)
    def wrapped(media_id: int, token: str, **kwargs):
        denied = _check_token(media_id, token)
        return denied if denied is not None else view(media_id, token, **kwargs)

    return wrapped


_USER_CURRENT = select(User.id).where(User.id == bindparam("user_id"), User.token_epoch == bindparam("epoch"))


def _user_current(user_id: int, epoch: int) -> bool:
    """Does the token's user still exist, in the token's epoch? The logged-in user when it is that
    one, else one indexed query on the engine: a player's segment request often carries no cookie
    (VLC, a TV), and an ORM session opened for it alone cost more than the rest of the request
    (bench/serve.py)."""
    user = g.get("user")
    if user is not None and user.id == user_id:
        return user.token_epoch == epoch
    with database().engine.connect() as conn:
        return conn.execute(_USER_CURRENT, {"user_id": user_id, "epoch": epoch}).first() is not None


#: DATA_DIR resolved once per value (it is resolved at start already, but not when a test passes it)
_data_dir_realpath = functools.lru_cache(maxsize=16)(os.path.realpath)


def _accel_uri(real: str) -> str | None:
    """nginx's internal URI for the resolved file `real` when MEDIASERVER_X_ACCEL_PREFIX is set, else
    None: `<prefix>/data/<path under DATA_DIR>` (ladders, subtitles), or `<prefix>/files<real>` for a
    library file (deploy/nginx/mediaserver.conf maps DATA_DIR and each library folder). Percent-encoded:
    nginx unescapes the header."""
    prefix = current_app.config.get("X_ACCEL_PREFIX")
    if not prefix:
        return None
    data = _data_dir_realpath(current_app.config["DATA_DIR"])
    if is_within(real, data):
        return f"{prefix}/data/{quote(os.fsencode(os.path.relpath(real, data)))}"
    return f"{prefix}/files{quote(os.fsencode(real))}"


def _send_inside(base: str, subpath: str, max_age: int, mimetype: str | None = None):
    """Send `base/subpath` when it resolves inside `base`; 404 JSON otherwise. Behind nginx (an
    X-Accel prefix set) the answer, after the same checks, is an empty 200 naming the file in
    `X-Accel-Redirect`: nginx sends it (sendfile, Range, conditional requests) with the Content-Type
    and Cache-Control given here. `max_age` (s): how long a browser may keep the file (0: ask again
    every time); see `_cache_privately`. `mimetype` (a direct-play file's, `Decision.mime`) else by
    the file's extension (CONTENT_TYPES)."""
    real = resolved_inside(base, subpath)
    if real is None:
        return error_response(404, "no such file")
    mimetype = mimetype or CONTENT_TYPES.get(os.path.splitext(real)[1], "application/octet-stream")
    accel = _accel_uri(real)
    if accel is not None:
        response = current_app.response_class(mimetype=mimetype)
        response.headers["X-Accel-Redirect"] = accel
    else:
        response = send_file(real, mimetype=mimetype, conditional=True, max_age=max_age)
    _cache_privately(response, max_age)
    return response


def _cache_privately(response, max_age: int) -> None:
    """Make `response`'s Cache-Control `private, max-age=<max_age>` (s; a segment never changes) or, for
    0, `private, no-cache` (a playlist grows; a direct-play file and a subtitle are checked again),
    followed by what send_file set (its `max-age=0`), never `public`: the URL carries one viewer's
    token, and a shared cache must not keep the file for others."""
    directives = response.cache_control
    sent = {name: value for name, value in directives.items() if name != "public"}
    directives.clear()
    directives.private = True
    if max_age:
        directives.max_age = max_age
    else:
        directives.no_cache = True
    directives.update(sent)


@bp.get("/hls/<int:media_id>/<token>/<path:subpath>")
@stream_token_required
def hls_file(media_id: int, token: str, subpath: str):
    """A playlist or segment of the title's playable ladder; 403 bad token, 404 outside the folder.
    Playlists are never cached (a live one grows)."""
    folder = _served_folder(media_id)
    if folder is None:
        return error_response(404, f"media file {media_id} has no HLS ladder")
    return _send_inside(folder, subpath, 0 if subpath.endswith(".m3u8") else 3600)


def _served_folder(media_id: int) -> str | None:
    """The folder of the title's served ladder (`_served_job`), remembered by this process for
    SERVED_FOLDER_TTL_S: a player asks for a title's segments one after another, and looking the
    folder up (the title, then its job) cost more than all the rest of a segment request (bench/serve.py).
    A folder withdrawn meanwhile is served that much longer at most (a deleted one: 404, as a request
    racing the deletion gets anyway); a title without a ladder is never remembered."""
    cache = current_app.extensions.setdefault("served_folders", {})
    now = time.monotonic()
    folder, until = cache.get(media_id, (None, 0.0))
    if until > now:
        return folder
    job = _served_job(get_media_or_404(media_id))
    if job is None:
        return None
    folder = os.path.join(_transcode_settings().hls_root, job.output_dir)
    cache[media_id] = (folder, now + SERVED_FOLDER_TTL_S)
    return folder


@bp.get("/media/<int:media_id>/<token>/<name>")
@stream_token_required
def direct_file(media_id: int, token: str, name: str):
    """Direct play: the source file itself (Range requests answered 206, unsatisfiable ones 416), sent
    as its decision's MIME type (video/mp4, audio/flac, audio/mpeg...).
    `name` must be the file's own name, as `playback_info` puts it in the URL (404 JSON otherwise)."""
    media = get_media_or_404(media_id)
    if name != _direct_name(media):
        return error_response(404, f"media file {media_id} is not named {name!r}; ask /playback for its URL")
    decision = decision_for(media_facts(media)) if media.status == "ok" else None
    if decision is None or decision.method != DIRECT:
        return error_response(404, f"media file {media_id} is not played directly; ask /playback for its URL")
    return _send_inside(media.root, media.path, 0, decision.mime)


@bp.get("/media/<int:media_id>/<token>/subs/<key>.vtt")
@stream_token_required
def direct_subtitle(media_id: int, token: str, key: str):
    """A text subtitle of a directly played file as WebVTT (converted once, then cached)."""
    media = get_media_or_404(media_id)
    track = next((t for t in subtitle_tracks(media_facts(media)) if t.key == key), None)
    if track is None or not track.convertible:
        return error_response(404, f"media file {media_id} has no text subtitle {key!r}")
    # like the file itself (direct_file), a subtitle is read only from inside the title's library folder
    # (media_facts leaves out a sidecar that leads out of it: no track above)
    if resolved_inside(media.root, media.path) is None:
        return error_response(404, f"media file {media_id} has no text subtitle {key!r} inside its library folder")
    cache = subtitle_cache_dir(current_app.config["DATA_DIR"], media.id, f"{media.size}-{int(media.mtime)}")
    written = extract_subtitles([track], os.path.join(media.root, media.path), cache,
                                ffmpeg=current_app.config["FFMPEG"])
    if key not in written:
        return error_response(422, f"subtitle {key!r} could not be converted to WebVTT")
    return _send_inside(cache, f"{key}.vtt", 0)


@bp.get("/hls/<path:rest>")
def hls_without_token(rest: str):
    """Any other `/hls/...` URL lacks the `<id>/<token>/` prefix."""
    return error_response(403, "missing stream token: ask /api/media-files/<id>/playback for a URL")


@bp.get("/watch/<int:media_id>")
@login_required
def watch(media_id: int):
    """The player page."""
    media = get_media_or_404(media_id)
    poster = url_for("titles.frame", media_id=media.id) if any(
        s.type == "video" and not s.attached_pic for s in media.streams) else None
    return render_template("player.html", media=media, info=media_json(media), poster=poster)


def init_app(app: Flask) -> None:
    """Register the playback blueprint."""
    app.register_blueprint(bp)

"""Watch parties over HTTP: create, read, join as a guest, end; the invite/party page and its QR code;
the party's playback URLs for its members. The live timeline runs over Socket.IO (`party_socket.py`).

A guest joins with a display name and no account: `POST /api/parties/<code>/join` answers a signed
token scoped to that party and sets it as the cookie `party_<code>`; the token works for that party's
titles only and stops working when the party ends. docs/PARTY.md has the whole contract.
"""
from __future__ import annotations

import io
import logging

import segno
from flask import (Blueprint, Flask, current_app, g, jsonify, render_template, request, send_file,
                   send_from_directory, url_for)
from sqlalchemy import select

from ..db import get_db
from ..library import prefs
from ..models import MediaFile, Participant, Track, WatchSession
from ..party import access, queue, state, store
from ..paths import resolved_inside
from ..titles import title_of
from . import party_socket, ratelimit
from .auth import login_required
from .caching import no_store
from .errors import error_response
from .party_socket import NAMESPACE, room
from .playback import playback_info

bp = Blueprint("parties", __name__)
log = logging.getLogger("mediaserver.party")

COOKIE_PREFIX = "party_"
MAX_TITLES = 50


def _cookie_name(code: str) -> str:
    return COOKIE_PREFIX + code


def _token(code: str) -> str | None:
    """The guest token sent as `Authorization: Bearer ...` or as the party's cookie."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header.removeprefix("Bearer ").strip() or None
    return request.cookies.get(_cookie_name(code))


def party_member(code: str) -> tuple[WatchSession, Participant]:
    """The party and the participant making this request; PartyError otherwise."""
    db = get_db()
    row = access.find(db, code)
    member = access.participant(db, row, _token(code), g.user.id if g.get("user") else None,
                                current_app.config["SECRET_KEY"])
    return row, member


def _party_json(row: WatchSession) -> dict:
    """`GET /api/parties/<code>`'s body: the `state` event's fields, plus id, code, invite_url and queue."""
    redis, db = current_app.redis, get_db()
    party = store.load(redis, db, row.id)
    body = state.view(party, store.now_ms(), store.reports(redis, row.id)) if party else {}
    return {**body, "id": row.id, "code": row.code, "invite_url": url_for("parties.page", code=row.code,
                                                                           _external=True),
            "queue": queue.view(party) if party else {"items": [], "requests": []},
            "created_at": row.created_at.isoformat()}


@bp.post("/api/parties")
@login_required
@no_store
def create():
    """`POST /api/parties {"media_file_id": N, "queue"?: [N...]}` -> 201 `{"id", "code", "invite_url"}`;
    the caller hosts; `queue` (an album's or a playlist's next tracks, at most 200) is queued in order.
    429 past PARTY_CREATE_LIMIT_PER_USER requests a minute. `Cache-Control: no-store` (the invite code
    is what lets a guest in)."""
    slot = ratelimit.acquire({f"party-create:user:{g.user.id}": current_app.config["PARTY_CREATE_LIMIT_PER_USER"]})
    if slot.refused:
        return ratelimit.too_many(slot, "too many parties started")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, 'send a JSON object such as {"media_file_id": 1}')
    row = access.create(get_db(), current_app.redis, g.user, body.get("media_file_id"), body.get("queue", []))
    log.info("party %s created", row.id, extra={"party_id": row.id, "event": "create", "member": f"u{g.user.id}"})
    response = jsonify(id=row.id, code=row.code, invite_url=url_for("parties.page", code=row.code, _external=True))
    response.status_code = 201
    return response


@bp.get("/api/parties/<code>")
def read(code: str):
    """The party's live state (members only: a guest token or a logged-in user)."""
    row, _member_row = party_member(code)
    return jsonify(_party_json(row))


@bp.post("/api/parties/<code>/join")
@no_store
def join(code: str):
    """`{"name": "..."}` -> `{"token", "party"}`, and the token as an HttpOnly cookie for `/p/<code>`.
    429 past PARTY_JOIN_LIMIT_PER_IP requests a minute from one address (each makes a guest).
    `Cache-Control: no-store`."""
    slot = ratelimit.acquire({f"party-join:ip:{ratelimit.client_address()}":
                              current_app.config["PARTY_JOIN_LIMIT_PER_IP"]})
    if slot.refused:
        return ratelimit.too_many(slot, "too many party joins from this address")
    db = get_db()
    row = access.find(db, code)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, 'send a JSON object such as {"name": "Sam"}')
    party = _party_json(row)  # Redis first: while it is down (503) no guest row is left behind
    _guest, token = access.add_guest(db, row, body.get("name"), current_app.config["SECRET_KEY"])
    response = jsonify(token=token, party=party)
    response.set_cookie(_cookie_name(row.code), token, httponly=True, samesite="Lax",
                        secure=current_app.config.get("SECURE_COOKIES") or request.is_secure,
                        max_age=7 * 24 * 3600)
    return response


@bp.post("/api/parties/<code>/end")
@login_required
def end(code: str):
    """The host user ends the party: members get a final `state` with `ended`; guest tokens stop working."""
    db = get_db()
    row = access.find(db, code)
    if row.host_user_id != g.user.id and not g.user.is_admin:
        return error_response(403, "only the party's host (or an admin) can end it")
    access.end(db, current_app.redis, row)
    log.info("party %s ended", row.id, extra={"party_id": row.id, "event": "end", "member": f"u{g.user.id}"})
    party = store.load(current_app.redis, db, row.id)
    if party is not None:
        current_app.socketio.emit("state", state.view(party, store.now_ms()), to=room(row.id), namespace=NAMESPACE)
    current_app.socketio.emit("error", {"message": "the host ended the party"}, to=room(row.id),
                              namespace=NAMESPACE)
    return jsonify(id=row.id, code=row.code, ended=True)


@bp.get("/api/parties/<code>/playback")
@no_store
def playback(code: str):
    """How this member plays the party's title (`?media_file_id=` a queued one): the shape of
    `/api/media-files/<id>/playback`; a guest's stream URLs are scoped to the party. `Cache-Control:
    no-store`, as there."""
    row, member = party_member(code)
    wanted = row.media_file_id
    if "media_file_id" in request.args:
        wanted = request.args.get("media_file_id", type=int)
        if wanted is None or wanted < 1:
            return error_response(400, "media_file_id must be a positive whole number")
    if wanted is None or not access.may_stream(get_db(), row.id, wanted):
        return error_response(404, "that title is not in this party")
    media = get_db().get(MediaFile, wanted)
    if media is None:
        return error_response(404, f"media file {wanted} doesn't exist")
    party_id = row.id if member.user_id is None else None
    status, body = playback_info(media, member.user_id, party_id=party_id)
    if media.track is not None:
        body["track"] = _track_json(row.code, media.track)
    return jsonify(body), status


def _track_json(code: str, track: Track) -> dict:
    """A track as the party page shows it: `{"title", "artists": [names], "album", "album_artist",
    "cover_url"}`, the cover through the party (guests have no account to see `/images/` with)."""
    album = track.album
    return {"title": track.title, "artists": [a.name for a in track.artists], "album": album.title,
            "album_artist": album.album_artist.name,
            "cover_url": url_for("parties.cover", code=code, media_file_id=track.media_file_id)
            if album.cover_image else None}


@bp.get("/api/parties/<code>/cover/<int:media_file_id>")
def cover(code: str, media_file_id: int):
    """The album cover of a track the party plays or has queued (members only); 404 otherwise."""
    row, _member = party_member(code)
    db = get_db()
    media = db.get(MediaFile, media_file_id) if access.may_stream(db, row.id, media_file_id) else None
    name = media.track.album.cover_image if media is not None and media.track is not None else None
    folder = prefs.settings().images_dir
    if name is None or resolved_inside(folder, name) is None:
        return error_response(404, "no cover for that title in this party")
    return send_from_directory(folder, name, max_age=3600)


@bp.get("/api/parties/<code>/titles")
def titles(code: str):
    """Titles a member can add or request: `{"items": [{"media_file_id", "title", "duration_ms"}]}`,
    filtered by `q` (case-insensitive, in the title or path), at most 50."""
    party_member(code)
    q = (request.args.get("q") or "").strip().lower()
    db = get_db()
    items = []
    for media in db.scalars(select(MediaFile).where(MediaFile.status == "ok").order_by(MediaFile.path)):
        title = title_of(media)
        if not q or q in title.lower() or q in media.path.lower():
            items.append({"media_file_id": media.id, "title": title, "duration_ms": media.duration_ms})
            if len(items) >= MAX_TITLES:
                break
    return jsonify(items=items)


@bp.get("/p/<code>")
@no_store
def page(code: str):
    """The invite page, and for a member (guest cookie or logged-in user) the party itself, which holds
    a guest's token (`data-join-token`): `Cache-Control: no-store`."""
    db = get_db()
    row = access.find(db, code)
    media = db.get(MediaFile, row.media_file_id) if row.media_file_id else None
    info = {"id": row.id, "code": row.code, "invite_url": url_for("parties.page", code=row.code, _external=True),
            "title": title_of(media) if media else ""}
    qr_url = url_for("parties.qr", code=row.code)
    token = request.cookies.get(_cookie_name(row.code))
    try:
        member = access.participant(db, row, token, g.user.id if g.get("user") else None,
                                    current_app.config["SECRET_KEY"])
    except access.PartyError:
        return render_template("party_join.html", party=info, qr_url=qr_url)
    return render_template("party.html", party=info, qr_url=qr_url, me_name=member.display_name,
                           join_token=token if member.user_id is None else "")


@bp.get("/p/<code>/qr.svg")
def qr(code: str):
    """The invite URL as a QR code (segno), SVG."""
    row = access.find(get_db(), code)
    out = io.BytesIO()
    segno.make(url_for("parties.page", code=row.code, _external=True), error="m").save(out, kind="svg", scale=6,
                                                                                          border=2)
    out.seek(0)
    return send_file(out, mimetype="image/svg+xml", max_age=3600)


def init_app(app: Flask) -> None:
    """Register the blueprint, and the `/party` Socket.IO namespace (`party_socket.py`)."""
    app.register_blueprint(bp)
    party_socket.init_app(app)

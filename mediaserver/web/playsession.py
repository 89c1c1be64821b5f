"""The signed-in user's playback session over HTTP: `GET /api/session`, the same `session_state` the
`/session` namespace sends (`session_socket.py`, registered here), for a page that has just signed in
and offers to resume where the session stopped. docs/SESSION.md has the contract."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, g

from ..playsession.service import SessionService
from . import session_socket
from .auth import login_required
from .caching import no_store

bp = Blueprint("playsession", __name__)


@bp.get("/api/session")
@login_required
@no_store
def current_session():
    """200 `session_state` of the signed-in user (a stopped, empty one when there is none); 503 while
    Redis is down (errors.py). Not cached: it changes with every command."""
    return SessionService(current_app.redis, "http").view(g.user.id)


def init_app(app: Flask) -> None:
    """Register the blueprint, and the `/session` Socket.IO namespace (`session_socket.py`)."""
    app.register_blueprint(bp)
    session_socket.init_app(app)

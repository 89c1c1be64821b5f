"""The signed-in user's own account: change the password, see the sessions (one per signed-in
browser or script), end one, or log out everywhere; as a page (`/account`, plain forms) and as JSON
(`/api/auth/...`). A password change ends every session but the one making it (which starts afresh)
and kills the user's stream tokens; "log out everywhere" ends them all (`accounts.end_all_sessions`).
"""
from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf

from ..accounts import authenticate, end_all_sessions, end_session_by_id, sessions_of, set_password
from . import ratelimit
from .auth import login_required, login_slot, sign_in
from .errors import error_response

bp = Blueprint("account", __name__)


def _sessions_json() -> list[dict]:
    current = g.get("user_session")
    return [row.to_json(current is not None and row.id == current.id) for row in sessions_of(g.user)]


def _change_password(current: object, new: object) -> tuple[int, str]:
    """Check and apply a password change for `g.user`: (status, message). 403 wrong current password,
    400 a bad new one, 429 after too many wrong ones (the login limits, counted per account)."""
    if not isinstance(current, str) or not isinstance(new, str):
        return 400, "give the current password and the new one"
    slot = login_slot(g.user.username)
    if slot.refused:
        return 429, f"too many wrong passwords: try again in {slot.retry_after_s} s"
    if authenticate(g.user.username, current) is None:
        return 403, "the current password is wrong"
    ratelimit.release(slot)
    try:
        set_password(g.user, new)
    except ValueError as exc:
        return 400, str(exc)
    sign_in(g.user)  # this browser stays signed in, in a new session; every other one has ended
    return 200, "password changed: every other session has been logged out"


@bp.get("/account")
@login_required
def page():
    """The account page: password form, sessions, log out everywhere."""
    return render_template("account.html", sessions=_sessions_json())


@bp.post("/account/password")
@login_required
def password_form():
    """The password form (`current_password`, `new_password`, `new_password2`)."""
    if request.form.get("new_password") != request.form.get("new_password2"):
        flash("The two new passwords differ.")
        return redirect(url_for("account.page"))
    status, message = _change_password(request.form.get("current_password"), request.form.get("new_password"))
    flash(message[0].upper() + message[1:] + ".")
    return redirect(url_for("account.page"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_form(session_id: int):
    """End one session (the current one: this is a log out)."""
    current = g.get("user_session")
    end_session_by_id(g.user, session_id)
    if current is not None and current.id == session_id:
        session.clear()
        return redirect(url_for("auth.login"))
    flash("The session has been logged out.")
    return redirect(url_for("account.page"))


@bp.post("/account/logout-everywhere")
@login_required
def everywhere_form():
    """Log out every session, this one included, and kill the user's stream tokens."""
    end_all_sessions(g.user)
    session.clear()
    return redirect(url_for("auth.login"))


@bp.post("/api/auth/password")
@login_required
def api_password():
    """`POST /api/auth/password {"current_password", "new_password"}` -> `{"ok": true, "csrf_token"}`
    (this client's new session's token); 400 malformed or too short, 403 wrong current password, 429
    after too many wrong ones."""
    data = request.get_json(silent=True)
    data = data if isinstance(data, dict) else {}
    status, message = _change_password(data.get("current_password"), data.get("new_password"))
    if status != 200:
        return error_response(status, message)
    return {"ok": True, "csrf_token": generate_csrf()}


@bp.get("/api/auth/sessions")
@login_required
def api_sessions():
    """`GET /api/auth/sessions` -> `{"sessions": [{"id", "created_at", "last_seen_at", "user_agent",
    "address", "current"}, ...]}`, the most recently seen first."""
    return {"sessions": _sessions_json()}


@bp.delete("/api/auth/sessions/<int:session_id>")
@login_required
def api_end_session(session_id: int):
    """`DELETE /api/auth/sessions/<id>` -> `{"ok": true}`; 404 when the user has no such session."""
    if not end_session_by_id(g.user, session_id):
        return error_response(404, "no such session")
    return {"ok": True}


@bp.post("/api/auth/logout-everywhere")
@login_required
def api_logout_everywhere():
    """`POST /api/auth/logout-everywhere` -> `{"ok": true}`: every session of the user ends, this one
    included, and every stream token issued to the user stops working."""
    end_all_sessions(g.user)
    session.clear()
    return {"ok": True}


def init_app(app: Flask) -> None:
    """Register the account blueprint."""
    app.register_blueprint(bp)

"""Sign-in: login/logout (pages and JSON), first-run admin set-up, `login_required`/`admin_required`.

The session cookie (signed with SECRET_KEY) holds one sign-in's secret, `sid`; the server keeps a row
per sign-in (`accounts.start_session`), so logging out ends it for good: a replayed cookie names no
session any more. A request with a valid party guest's `Authorization: Bearer` token is that guest's
only: its cookie is ignored (`security.bearer_party`). Accounts and passwords are `accounts.py`'s;
the user's own account page (password, sessions) is `account.py`'s.
"""
from __future__ import annotations

import functools
import hashlib
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf

from ..accounts import authenticate, create_user, end_session, has_users, session_user, start_session
from ..models import User, utcnow
from . import ratelimit, security
from .errors import error_response

bp = Blueprint("auth", __name__)


def login_required(view):
    """A logged-in user, or 401 JSON for `/api/...`, or a redirect to the login page."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if g.user is None:
            if request.path.startswith("/api/"):
                return error_response(401, "log in first")
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view):
    """Like `login_required`, and 403 for a user who is not an admin."""
    @functools.wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not g.user.is_admin:
            abort(403, "admins only")
        return view(*args, **kwargs)

    return wrapped


def signed_in_user() -> User | None:
    """The user of this request's live session (an HTTP request's, or a Socket.IO connection's copy
    of the cookie session), or None: no session, or one that was ended. Sets `g.user_session`."""
    found = session_user(session.get("sid"), utcnow())
    g.user_session = found[0] if found else None
    return found[1] if found else None


def sign_in(user: User) -> None:
    """Start a new session for `user` in this response's cookie (the old one, if any, is dropped:
    no session fixation)."""
    session.clear()
    session["sid"] = start_session(user, request.user_agent.string, ratelimit.client_address())


def sign_out() -> None:
    """End this request's session for good and clear the cookie."""
    end_session(session.get("sid"))
    session.clear()


@bp.before_app_request
def load_user() -> None:
    """Before every request: `g.user` is the logged-in User or None (always None for a request that
    carries a valid party guest's bearer token: the cookie may not stand in for the guest)."""
    if security.bearer_party() is not None:
        g.user, g.user_session = None, None
        return
    g.user = signed_in_user()


def login_slot(username: str) -> ratelimit.Slot:
    """Count a login attempt against the limits per client address and per account (the name's case
    ignored, hashed: any length); a successful login gives it back, so only failures count."""
    account = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
    return ratelimit.acquire({f"login:ip:{ratelimit.client_address()}": current_app.config["LOGIN_LIMIT_PER_IP"],
                              f"login:account:{account}": current_app.config["LOGIN_LIMIT_PER_ACCOUNT"]})


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, else the home page. Refused: anything with a control
    character or a backslash (browsers drop tabs and newlines inside a URL and read a backslash as
    `/`, WHATWG URL standard: `/<tab>/evil.example` is `//evil.example`), a scheme, a host, or a
    leading `//`."""
    home = url_for("titles.grid_movies")
    if not target or any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return home
    return target


@bp.route("/login", methods=("GET", "POST"))
def login():
    """The login form; POST checks it and redirects to `next` (same site only), 401 on failure, 429
    (the form again, with the wait) after too many failures."""
    if not has_users():
        return redirect(url_for("auth.setup"))
    if request.method == "POST":
        slot = login_slot(request.form.get("username", ""))
        if slot.refused:
            flash(f"Too many failed logins: try again in {slot.retry_after_s} s.")
            response = make_response(render_template("login.html"), 429)
            response.headers["Retry-After"] = str(slot.retry_after_s)
            return response
        user = authenticate(request.form.get("username", ""), request.form.get("password", ""))
        if user is not None:
            ratelimit.release(slot)
            sign_in(user)
            return redirect(safe_next(request.args.get("next")))
        flash("Wrong user name or password.")
    return render_template("login.html"), (401 if request.method == "POST" else 200)


@bp.post("/logout")
def logout():
    """POST: end the session for good and go to the login page."""
    sign_out()
    return redirect(url_for("auth.login"))


@bp.route("/setup", methods=("GET", "POST"))
def setup():
    """One-time page that creates the first (admin) account; gone once any user exists."""
    if has_users():
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        if request.form.get("password") != request.form.get("password2"):
            flash("The two passwords differ.")
        else:
            try:
                user = create_user(request.form.get("username", ""), request.form.get("password", ""), True)
            except ValueError as exc:
                flash(str(exc).capitalize() + ".")
            else:
                sign_in(user)
                return redirect(url_for("titles.grid_movies"))
    return render_template("setup.html")


@bp.post("/api/auth/login")
def api_login():
    """`POST /api/auth/login` `{"username", "password"}` -> `{"user": {...}, "csrf_token"}` (the new
    session's token); 400 malformed, 401 wrong, 429 after too many failures (`Retry-After`)."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("username"), str) \
            or not isinstance(data.get("password"), str):
        return error_response(400, 'send JSON {"username": "...", "password": "..."}')
    slot = login_slot(data["username"])
    if slot.refused:
        return ratelimit.too_many(slot, "too many failed logins")
    user = authenticate(data["username"], data["password"])
    if user is None:
        return error_response(401, "wrong user name or password")
    ratelimit.release(slot)
    sign_in(user)
    return {"user": user.to_json(), "csrf_token": generate_csrf()}


@bp.get("/api/auth/csrf")
def api_csrf():
    """`GET /api/auth/csrf` -> `{"csrf_token"}`: the session's CSRF token, for scripts; send it as the
    `X-CSRFToken` header of every POST, PUT, PATCH and DELETE (with the session cookie this sets)."""
    response = make_response({"csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/auth/logout")
def api_logout():
    """`POST /api/auth/logout` -> `{"ok": true}`: the session ends for good (its cookie is dead)."""
    sign_out()
    return {"ok": True}


@bp.get("/api/auth/me")
@login_required
def api_me():
    """`GET /api/auth/me` -> `{"user": {...}}`."""
    return {"user": g.user.to_json()}


def init_app(app: Flask) -> None:
    """Register the auth blueprint."""
    app.register_blueprint(bp)

"""Browser-facing protections: CSRF tokens on every state-changing request, security headers on every
response, cookie flags. README "Security" explains the choices.

CSRF (Flask-WTF's CSRFProtect): every POST, PUT, PATCH and DELETE carries the session's token, as the
form field `csrf_token` (server-rendered forms) or the header `X-CSRFToken` (static/js/csrf.js;
scripts take one from `GET /api/auth/csrf`). The one exemption is a request whose `Authorization:
Bearer` header holds a valid party guest token (`bearer_party`): a browser never adds that header to
a cross-site request (it is not CORS-safelisted, and the app answers no CORS preflight), so such a
request cannot be forged, and its credential is the header alone: the session cookie is then ignored
(auth.load_user). Any other `Authorization` header changes nothing: the cookie needs its CSRF token. Socket.IO is not HTTP and not
covered here: engine.io refuses browser connections from another origin (`cors_allowed_origins`'
same-origin default, see `create_app`).
"""
from __future__ import annotations

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.routing import IntegerConverter

from .. import tokens
from ..db import MAX_ID
from ..exceptions import TokenError
from .errors import error_response, wants_json

csrf = CSRFProtect()

#: Methods that change state; every other one is read-only in this app.
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))
CSRF_MESSAGE = "CSRF token missing or invalid"
#: The largest request body (413 above it): the biggest real one is the settings form, a few kB.
MAX_BODY_BYTES = 1024 * 1024

PERMISSIONS_POLICY = ("accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
                      "microphone=(), payment=(), usb=(), fullscreen=(self), picture-in-picture=(self)")


class Int64Converter(IntegerConverter):
    """`<int:...>` up to `db.MAX_ID` (SQL INTEGER, 32-bit on PostgreSQL): a larger id matches no route
    (404) instead of overflowing the database (a 500). create_app installs it before any route is added."""

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits, min, max, signed)


def content_security_policy() -> str:
    """The app's CSP: scripts, styles, fonts and frames from this origin only (no inline script;
    inline `style` attributes only, for the title pages' backdrop), media also from `blob:` (hls.js
    feeds MSE through a blob URL), images also from `data:` (the favicon), Socket.IO's WebSocket to
    this host, and no framing by anyone (clickjacking)."""
    host = request.host
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
        f"connect-src 'self' ws://{host} wss://{host}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def _security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Stream URLs carry their token in the path: never send them to another site as a Referer.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure and current_app.config.get("SECURE_COOKIES"):  # served over https, and meant to be
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def bearer_party() -> tuple[int, int] | None:
    """`(party_id, participant_id)` of the party guest token in this request's `Authorization:
    Bearer` header when its signature is valid (whether the party still runs is the route's
    question), else None. Read once per request."""
    if "bearer_party" not in g:
        header = request.headers.get("Authorization", "")
        found = None
        if header.startswith("Bearer "):
            try:
                found = tokens.read_party(current_app.config["SECRET_KEY"], header.removeprefix("Bearer ").strip())
            except TokenError:
                found = None
        g.bearer_party = found
    return g.bearer_party


def _csrf_protect() -> None:
    """Before every request: check the CSRF token of a state-changing one (CSRFError -> 400)."""
    if request.method in UNSAFE_METHODS and bearer_party() is None:
        csrf.protect(apply_exemptions=True)  # no endpoint (404/405): nothing to protect


def _csrf_failed(exc: CSRFError):
    if wants_json():  # Flask-WTF logged the reason (missing, expired, no session, mismatch) at INFO
        return error_response(400, CSRF_MESSAGE)
    return render_template("error.html", status=400,
                           message=f"{CSRF_MESSAGE}: the form was not sent from this site or has expired. "
                                   "Go back, reload the page and try again."), 400


def init_app(app: Flask) -> None:
    """CSRF protection, security headers and cookie flags for `app`."""
    # create_app makes the session cookie HttpOnly and SameSite=Lax; Secure behind TLS (MEDIASERVER_SECURE_COOKIES)
    app.config["SESSION_COOKIE_SECURE"] = bool(app.config.get("SECURE_COOKIES"))
    # A token lives as long as its session (not Flask-WTF's default hour): a player page left open
    # for a long film still saves its resume point. The session's token changes at every login.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False  # _csrf_protect decides (the Bearer exemption)
    if app.config.get("MAX_CONTENT_LENGTH") is None:  # nothing is uploaded: bodies are small JSON and forms
        app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    csrf.init_app(app)
    app.before_request(_csrf_protect)
    app.register_error_handler(CSRFError, _csrf_failed)
    app.after_request(_security_headers)

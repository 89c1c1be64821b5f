"""JSON errors for `/api/...` and `/hls/...`, HTML pages elsewhere; never a stack trace (microblog's errors).

Also the net under the routes: a value the database refuses (DataError: 400), Redis down (503 with
Retry-After), a refused party request (`party.access.PartyError`: its reason code mapped to a status
by PARTY_STATUSES), anything unexpected (500, the session rolled back).
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from redis.exceptions import LockError, RedisError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from ..db import close_db
from ..party.access import PartyError

log = logging.getLogger("mediaserver.web")

#: `PartyError.code` -> HTTP status: a malformed request, no credential, a credential that does not
#: grant this party, no such party (or it ended), a title that cannot be played.
PARTY_STATUSES = {"invalid": 400, "unauthenticated": 401, "forbidden": 403, "not_found": 404, "conflict": 409}

#: What a request that needs Redis (the job queues, watch parties) answers while Redis is down: 503
#: with this message and `Retry-After: REDIS_RETRY_AFTER_S`. The library, sign-in and published
#: streams need only the database and the disk, and keep working (issue 6).
REDIS_UNAVAILABLE = "the job queue and watch parties (Redis) are unavailable; try again shortly"
REDIS_RETRY_AFTER_S = 5
#: A party's write lock held by someone else for its whole wait (live.LOCK_TIMEOUT_S): Redis is up.
PARTY_BUSY = "the party is busy; try again"


def wants_json() -> bool:
    """API and stream URLs get JSON errors; pages get an HTML page."""
    return request.path.startswith(("/api/", "/hls/", "/media/"))


def error_response(status: int, message: str):
    """`{"error": "<HTTP reason>", "message": "..."}` with HTTP status `status` (microblog's shape)."""
    response = jsonify(error=HTTP_STATUS_CODES.get(status, "Unknown Error"), message=message)
    response.status_code = status
    return response


def _handle_http(exc: HTTPException):
    message = exc.description or exc.name
    if wants_json():
        response = error_response(exc.code or 500, message)
        for name, value in exc.get_headers():  # e.g. 416's Content-Range, 405's Allow
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    return render_template("error.html", status=exc.code, message=message), exc.code


def unavailable(message: str, retry_after_s: int = REDIS_RETRY_AFTER_S):
    """503 with `message` and a Retry-After: JSON for API and stream URLs, an HTML page otherwise."""
    if wants_json():
        response = error_response(503, message)
    else:
        response = current_app.make_response((render_template("error.html", status=503, message=message), 503))
    response.headers["Retry-After"] = str(retry_after_s)
    return response


def party_status(exc: PartyError) -> int:
    """The HTTP status of a refused party request (PARTY_STATUSES; 400 for a code it does not know)."""
    return PARTY_STATUSES.get(exc.code, 400)


def _handle_party(exc: PartyError):
    status = party_status(exc)
    if wants_json():
        return error_response(status, str(exc))
    return render_template("error.html", status=status, message=str(exc)), status


def _handle_data_error(exc: DataError):
    """A value the database refuses to hold or compare (past a column's range or length, a NUL in
    text): PostgreSQL raises DataError where SQLite stores or finds nothing. Routes check what they
    read; this is the net under them: a 400 that says so (the request's session rolled back), never a 500."""
    close_db()
    log.warning("value refused by the database on %s %s: %s", request.method, request.path,
                str(exc.orig or exc).splitlines()[0])
    message = "a value in the request is one the database cannot hold (out of range, too long, or a NUL character)"
    if wants_json():
        return error_response(400, message)
    return render_template("error.html", status=400, message=message), 400


def _handle_redis(exc: RedisError):
    """Redis down (refused, timed out, reset) or refusing: 503, the request's session rolled back so
    that nothing it half wrote is kept (routes write their rows after, or undo them on, Redis's answer)."""
    close_db()
    if isinstance(exc, LockError):
        return unavailable(PARTY_BUSY, 1)
    log.warning("Redis unavailable on %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc)
    return unavailable(REDIS_UNAVAILABLE)


def _handle_unexpected(exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    close_db()  # rolls back the request's session
    if wants_json():
        return error_response(500, "internal error; the server log has the details")
    return render_template("error.html", status=500, message="Something went wrong."), 500


def init_app(app: Flask) -> None:
    """Register the error handlers: every HTTP error, a 400 for values the database refuses, a refused
    party request, a 503 for Redis down, and a 500 for anything unexpected (Flask picks the handler of
    the closest class)."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(DataError, _handle_data_error)
    app.register_error_handler(PartyError, _handle_party)
    app.register_error_handler(RedisError, _handle_redis)
    app.register_error_handler(Exception, _handle_unexpected)

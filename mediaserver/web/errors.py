"""JSON errors for `/api/...` and `/hls/...`, HTML pages elsewhere; never a stack trace (microblog's errors)."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger("mediaserver.web")


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


def _handle_unexpected(exc: Exception):
    from ..db import close_db

    log.exception("unhandled error on %s %s", request.method, request.path)
    close_db()  # rolls back the request's session
    if wants_json():
        return error_response(500, "internal error; the server log has the details")
    return render_template("error.html", status=500, message="Something went wrong."), 500


def init_app(app: Flask) -> None:
    """Register the error handlers (every HTTP error, and a 500 for anything unexpected)."""
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(Exception, _handle_unexpected)

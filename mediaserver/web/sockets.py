"""What the Socket.IO namespaces share (`party_socket.py`'s `/party`, `session_socket.py`'s `/session`):
refusing an event with `error {message}`, the bound on an event's size, the `time_ping` answer, and
the error handler that turns a handler's exception into an answer. Called from inside an event
handler (Flask-SocketIO's `emit` answers the sender).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import request
from flask_socketio import emit
from redis.exceptions import LockError, RedisError

from .. import timeline
from ..live import now_ms
from .errors import REDIS_RETRY_AFTER_S, REDIS_UNAVAILABLE


def refuse(message: str, **ack) -> dict:
    """`error {message}` to the sender; returns the ack `{"ok": false, "message", **ack}`."""
    emit("error", {"message": message})
    return {"ok": False, "message": message, **ack}


def too_big(event: str, data: object, most: int = timeline.MAX_EVENT_CHARS, **ack) -> dict | None:
    """The refusal of an event whose data is over `most` characters of JSON (`timeline.oversized`), else
    None."""
    if timeline.oversized(data, most):
        return refuse(f"{event}: data over {most} characters of JSON", **ack)
    return None


def time_pong(data: object) -> dict | None:
    """`time_ping {client_ms}` -> `time_pong {client_ms, server_ms}` to the sender, at once (the server
    clock read first: the client's offset estimate takes half the RTT around it). Returns the ack: None,
    or a refusal for bad data."""
    server_ms = now_ms()
    try:
        if (refused := too_big("time_ping", data)) is not None:
            return refused
        client_ms = timeline.parse_time_ping(data)
    except timeline.Rejected as exc:
        return refuse(str(exc))
    emit("time_pong", {"client_ms": client_ms, "server_ms": server_ms})
    return None


def error_handler(log: logging.Logger, label: str, busy: str, known: tuple[type[Exception], ...]
                  ) -> Callable[[Exception], dict | bool]:
    """A namespace's error handler (Flask-SocketIO's `on_error`): an event whose handler raised answers
    its sender `error {message}` and the ack `{"ok": false, "message"[, "retry_after_s"]}` rather than
    nothing (the client would wait out its own timeout). A busy lock says `busy`; Redis down
    (ConnectionError, TimeoutError: `REDIS_UNAVAILABLE`) is logged as one line; an exception of `known`
    types answers its own message; anything unexpected is logged with its traceback as "<label> event
    <name> failed". A failing `connect` refuses the connection."""

    def handle(exc: Exception):
        event = (getattr(request, "event", None) or {}).get("message")
        retry = {}  # a passing failure: the ack says when to try again
        if isinstance(exc, LockError):
            message, retry = busy, {"retry_after_s": 1}
        elif isinstance(exc, RedisError):
            log.warning("%s event %s: Redis is unavailable (%s: %s)", label, event, type(exc).__name__, exc)
            message, retry = REDIS_UNAVAILABLE, {"retry_after_s": REDIS_RETRY_AFTER_S}
        elif isinstance(exc, known):
            message = str(exc)
        else:
            log.error("%s event %s failed", label, event, exc_info=exc)
            message = "internal error; the server log has the details"
        if event == "connect":
            return False
        emit("error", {"message": message})
        return {"ok": False, "message": message, **retry}

    return handle

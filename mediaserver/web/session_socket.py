"""The `/session` Socket.IO namespace: the transport of a user's playback session (one active device,
every device controls it). Each handler checks the connection's login, calls the session service
(`playsession/service.py`) and emits what it returns; the wire contract is in docs/SESSION.md.

Only a signed-in user connects: the login cookie's session, checked on connect and again on every event
(a logged-out session stops at once); a party guest's token is no login here. One room per user
(`session:<user id>`): every connection of the user is in it, registered as a device or not, and every
web process shares rooms through the Socket.IO message queue on Redis, so `session_state` reaches the
user's devices wherever they are connected. Each process runs a loop while it has connections (every
TICK_S): it renews its liveness in Redis (so its devices count as online) and, for the sessions whose
state it last sent while playing, sends the new state when the playing track ends. Nothing here depends
on the async mode (threading or eventlet): the loop runs as Socket.IO's background task.
"""
from __future__ import annotations

import logging
import threading
import uuid

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, Namespace, emit, join_room, leave_room
from redis.exceptions import LockError, RedisError

from ..db import get_db
from ..live import now_ms
from ..playsession import commands, state
from ..playsession.service import BUSY, Applied, Refused, SessionService
from ..playsession.state import PlaySession
from ..timeline import Rejected
from .auth import signed_in_user
from .errors import REDIS_UNAVAILABLE
from .sockets import error_handler, refuse, time_pong, too_big

log = logging.getLogger("mediaserver.playsession")

NAMESPACE = "/session"
TICK_S = 0.25  # loop period (s): a track's end is sent within 0.25 s
SIGN_IN = "sign in first: the playback session is a signed-in user's"
CLOSE_AFTER_S = 0.1  # a connection whose login ended is closed this long after its answer went out (s)


def room(user_id: int) -> str:
    """The Socket.IO room of a user's devices."""
    return f"session:{user_id}"


class SessionNamespace(Namespace):
    """Handlers for `/session`. `self.connections` maps this process's socket ids to (user id, device id
    or None before `register`); `self.ends` maps user ids to (rev, server ms) of the playing track's end
    in the last state this process sent."""

    def __init__(self, app: Flask) -> None:
        super().__init__(NAMESPACE)
        self.app = app
        self.service = SessionService(app.redis, uuid.uuid4().hex)
        self.connections: dict[str, tuple[int, str | None]] = {}
        self.ends: dict[int, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self._loop_running = False

    # --- connection -------------------------------------------------------------------------------
    def on_connect(self, auth=None):
        """A signed-in user's connection joins the user's room and gets the current `session_state`
        (what a page shows to offer "resume"; while Redis is down, `error {message}` instead: connecting
        needs no Redis); any other is refused (`connect_error {message}`)."""
        user = signed_in_user()
        if user is None:
            raise ConnectionRefusedError(SIGN_IN)
        join_room(room(user.id))
        with self._lock:
            self.connections[request.sid] = (user.id, None)
            if not self._loop_running:
                self._loop_running = True
                self.socketio.start_background_task(self._loop)
        try:
            emit("session_state", self.service.view(user.id))
        except RedisError as exc:
            log.warning("session connect: Redis is unavailable (%s: %s)", type(exc).__name__, exc)
            emit("error", {"message": REDIS_UNAVAILABLE})

    def on_disconnect(self, reason=None):
        """A closed connection: its device goes offline once it has no other connection open."""
        with self._lock:
            user_id, device_id = self.connections.pop(request.sid, (None, None))
        if device_id is None:
            return
        try:
            left = self.service.leave(user_id, request.sid, device_id)
        except (RedisError, LockError):
            log.warning("session %s: could not record device %s leaving", user_id, device_id, exc_info=True)
            return
        if left is not None:
            self._broadcast(*left)

    def on_register(self, data=None):
        """`register {device_id, name}`: this connection is that device, online. Answers (the ack)
        `{"ok": true, "device_id", "rev", "server_ms"}` or `{"ok": false, "message"}`; sends
        `session_state` to all the user's devices."""
        user_id = self._user()
        if user_id is None:
            return refuse(SIGN_IN)
        if (refused := too_big("register", data)) is not None:
            return refused
        try:
            session, now = self.service.register(user_id, request.sid, data)
        except Rejected as exc:
            return refuse(str(exc))
        device_id = commands.parse_register(data)[0]
        with self._lock:
            self.connections[request.sid] = (user_id, device_id)
        self._broadcast(session, now)
        return {"ok": True, "device_id": device_id, "rev": session.rev, "server_ms": now}

    def on_time_ping(self, data=None):
        """`time_ping {client_ms}` -> `time_pong {client_ms, server_ms}` to the sender, at once."""
        return time_pong(data)

    def on_command(self, data=None):
        """`command {action, rev, event_id, ...}` (docs/SESSION.md): `session_state` to all the user's
        devices when it changed the session, `rejected {event_id, reason, code, state}` to the sender when
        refused. Answers (the ack) `{"ok": true, "rev"}` when taken (or a repeated `event_id` ignored),
        else `{"ok": false, "message", "code", "rev"}`; `rev` is the session's after the command."""
        if (refused := too_big("command", data, commands.MAX_EVENT_CHARS, rev=None)) is not None:
            return refused
        user_id = self._user()
        if user_id is None:
            return refuse(SIGN_IN, rev=None)
        device_id = self.connections.get(request.sid, (None, None))[1]
        if device_id is None:
            return refuse("command: register this device first", rev=None)
        result = self.service.command(get_db(), user_id, device_id, data)
        event_id = data.get("event_id") if isinstance(data, dict) else None
        if isinstance(result, Refused):
            emit("rejected", {"event_id": event_id, "reason": result.reason, "code": result.code,
                              "state": result.state})
            return {"ok": False, "message": result.reason, "code": result.code, "rev": result.state["rev"]}
        return self._send(result, event_id)

    # --- helpers ----------------------------------------------------------------------------------
    def _send(self, result: Applied, event_id) -> dict:
        outcome, session = result.outcome, result.session
        if outcome.rejected:
            emit("rejected", {"event_id": event_id, "reason": outcome.rejected, "code": outcome.code,
                              "state": state.view(session, result.now_ms)})
        if outcome.changed:
            self._broadcast(session, result.now_ms)
        if outcome.rejected:
            return {"ok": False, "message": outcome.rejected, "code": outcome.code, "rev": session.rev}
        return {"ok": True, "rev": session.rev}

    def _user(self) -> int | None:
        """The connection's user while its login session is live (checked anew: a log out ends it), else
        None: the connection leaves the user's room at once and is closed just after the answer (its
        device then goes offline, `on_disconnect`)."""
        entry = self.connections.get(request.sid)
        user = signed_in_user()
        if entry is not None and user is not None and user.id == entry[0]:
            return user.id
        if entry is not None:
            leave_room(room(entry[0]))
        self.socketio.start_background_task(self._close, request.sid)
        return None

    def _close(self, sid: str) -> None:
        self.socketio.sleep(CLOSE_AFTER_S)
        self.socketio.server.disconnect(sid, namespace=NAMESPACE)

    def _broadcast(self, session: PlaySession, now: int) -> None:
        """`session_state` to all the user's devices (every process: the message queue); remembers when
        the playing track ends, for the loop."""
        self.emit("session_state", state.view(session, now), room=room(session.user_id))
        end = state.track_end_ms(session)
        with self._lock:
            if end is None:
                self.ends.pop(session.user_id, None)
            else:
                self.ends[session.user_id] = (session.rev, end)

    def _loop(self) -> None:
        """Every TICK_S while this process has connections: renew its liveness, send the states of
        sessions whose playing track has ended."""
        while True:
            self.socketio.sleep(TICK_S)
            with self._lock:
                if not self.connections:
                    self._loop_running = False
                    return
                now = now_ms()
                due = [(user_id, rev) for user_id, (rev, end) in self.ends.items() if now >= end]
                for user_id, _ in due:
                    del self.ends[user_id]
            try:
                self.service.alive()
                for user_id, rev in due:
                    ended = self.service.track_ended(user_id, rev)
                    if ended is not None:
                        self._broadcast(*ended)
            except RedisError:  # Redis down: the next tick tries again (a track's end waits for a command)
                log.warning("session loop: Redis is unavailable", exc_info=True)
            except Exception:
                log.exception("session loop failed")


def init_app(app: Flask) -> None:
    """Register the `/session` namespace and its error handler on `app.socketio`."""
    app.socketio.on_namespace(SessionNamespace(app))
    app.socketio.on_error(NAMESPACE)(error_handler(log, "session", BUSY, ()))

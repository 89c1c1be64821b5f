"""The `/party` Socket.IO namespace (Flask-SocketIO, flack's class-based style): the transport of watch
parties. Each handler reads the request (`request.sid`, the session's user), calls the party service
(`party/service.py`) and emits what it returns; the wire contract is in docs/PARTY.md.

One room per party (`party:<id>`). Every web process shares rooms through the Socket.IO message queue
on Redis, and party state through `party/store.py`, so members on different processes share a party.
Each process runs a timer loop while it has members connected (`service.tick` every TICK_S: waits,
host handoff, end of title, presence and the `state` heartbeat). Nothing here depends on the async
mode (threading or eventlet): the loop runs as Socket.IO's background task and sleeps with it.
"""
from __future__ import annotations

import logging
import threading
import uuid

from flask import Flask, request
from flask_socketio import Namespace, emit, join_room, leave_room
from redis.exceptions import LockError, RedisError

from .. import metrics
from ..db import get_db
from ..party import access, commands
from ..party.model import Party, PartyTimings, Rejected
from ..party.service import Applied, PartyService, Refused
from ..party.store import now_ms
from .auth import signed_in_user
from .errors import PARTY_BUSY
from .sockets import error_handler, refuse, time_pong, too_big

log = logging.getLogger("mediaserver.party")

NAMESPACE = "/party"
TICK_S = 0.25  # timer loop period (s): barrier and grace deadlines land within 0.25 s


def room(party_id: int) -> str:
    """The Socket.IO room of a party."""
    return f"party:{party_id}"


class PartyNamespace(Namespace):
    """Handlers for `/party`, one method per client event. `self.members` maps this process's socket
    ids to (party id, member id); `service` holds the use cases."""

    def __init__(self, app: Flask) -> None:
        super().__init__(NAMESPACE)
        self.app = app
        self.members: dict[str, tuple[int, str]] = {}
        self.service = PartyService(app.redis, app.config["SECRET_KEY"], uuid.uuid4().hex,
                                    PartyTimings.from_config(app.config), int(TICK_S * 1000))
        self._ticker_lock = threading.Lock()
        self._ticker_running = False
        # `report`s since the last tick: {party id: {member id: (drift ms, rtt ms, at ms)}}, written to
        # Redis once a tick in one round trip (500 guests send 250 reports a second)
        self._reports: dict[int, dict[str, tuple[int, int, int]]] = {}

    # --- connection -------------------------------------------------------------------------
    def on_connect(self, auth=None):
        """Accept every connection; `join` says who it is."""
        with self._ticker_lock:
            if not self._ticker_running:
                self._ticker_running = True
                self.socketio.start_background_task(self._ticker)

    def on_disconnect(self, reason=None):
        """A closed connection leaves the party once the member has no other connection open."""
        self._depart(request.sid)

    def on_join(self, data=None):
        """`join {code, token}`: the guest token, or else the session's user (while that session is
        live: `auth.signed_in_user`), identifies the member.

        Answers (Socket.IO ack) `{"ok": true, "member_id", "role", "server_ms"}` or `{"ok": false,
        "message"}`; sends the party's `state` to the room and its `queue` to the joiner.
        """
        if (refused := too_big("join", data)) is not None:
            return refused
        data = data if isinstance(data, dict) else {}
        db = get_db()
        try:
            user = signed_in_user()
            row, member = self.service.identify(db, data.get("code"), data.get("token"), user.id if user else None)
        except access.PartyError as exc:
            return refuse(str(exc))
        sid = request.sid
        if sid in self.members:
            self._depart(sid)
        join_room(room(row.id))
        self.members[sid] = (row.id, member.member_id)
        try:
            party, now = self.service.join(db, row, member, sid)
        except LockError:
            self._depart(sid)
            return {"ok": False, "message": PARTY_BUSY}
        except (RedisError, access.PartyError) as exc:  # not joined (Redis down, the party full)
            self.members.pop(sid, None)
            leave_room(room(row.id))
            if isinstance(exc, RedisError):  # `socket_error` answers the sender
                raise
            return refuse(str(exc))
        self._broadcast(party, now)
        emit("queue", self.service.queue_view(party))
        return {"ok": True, "member_id": member.member_id, "role": party.members[member.member_id].role,
                "server_ms": now}

    def on_leave(self, data=None):
        """`leave {}`: leave the party (the connection stays open)."""
        self._depart(request.sid)

    def on_time_ping(self, data=None):
        """`time_ping {client_ms}` -> `time_pong {client_ms, server_ms}` to the sender, at once."""
        return time_pong(data)

    def on_report(self, data=None):
        """`report {drift_ms, rtt_ms}` (`commands.parse_report`: checked before anything is recorded):
        kept for the member list and the play lead-in (no lock, no broadcast; written to Redis by the
        next tick)."""
        entry = self.members.get(request.sid)
        if entry is None:
            return None
        try:
            if (refused := too_big("report", data)) is not None:
                return refused
            drift, rtt = commands.parse_report(data)
        except Rejected as exc:
            return refuse(str(exc))
        metrics.party_drift(drift)
        with self._ticker_lock:  # stored by the next tick (within TICK_S)
            self._reports.setdefault(entry[0], {})[entry[1]] = (drift, rtt, now_ms())
        return None

    # --- commands: each goes through the party service (docs/PARTY.md has their data) -----------
    def on_play(self, data=None):
        """`play {rev, event_id}`."""
        return self._command("play", data)

    def on_pause(self, data=None):
        """`pause {rev, position_ms, event_id}`."""
        return self._command("pause", data)

    def on_seek(self, data=None):
        """`seek {rev, position_ms, event_id}`."""
        return self._command("seek", data)

    def on_buffering(self, data=None):
        """`buffering {position_ms}`: this member's player stalled."""
        return self._command("buffering", data)

    def on_ready(self, data=None):
        """`ready {position_ms}`: this member's player can play at the room's position."""
        return self._command("ready", data)

    def on_set_control(self, data=None):
        """`set_control {mode}` (the host's)."""
        return self._command("set_control", data)

    def on_set_role(self, data=None):
        """`set_role {member_id, role}` (the host's)."""
        return self._command("set_role", data)

    def on_skip(self, data=None):
        """`skip {}`: the next queued title."""
        return self._command("skip", data)

    def on_set_queue_mode(self, data=None):
        """`set_queue_mode {mode}`: once or circulate (whoever may control)."""
        return self._command("set_queue_mode", data)

    def on_nudge(self, data=None):
        """`nudge {item_id}`: that queued item plays next (whoever may control)."""
        return self._command("nudge", data)

    def on_queue_add(self, data=None):
        """`queue_add {media_file_id}` (the host's and cohosts')."""
        return self._command("queue_add", data)

    def on_queue_remove(self, data=None):
        """`queue_remove {item_id}`."""
        return self._command("queue_remove", data)

    def on_queue_move(self, data=None):
        """`queue_move {item_id, index}`."""
        return self._command("queue_move", data)

    def on_request(self, data=None):
        """`request {kind, payload}`: a guest asks for a queue change."""
        return self._command("request", data)

    def on_decide(self, data=None):
        """`decide {request_id, approve}`."""
        return self._command("decide", data)

    def on_chat(self, data=None):
        """`chat {text}`."""
        return self._command("chat", data)

    def on_react(self, data=None):
        """`react {emoji}`."""
        return self._command("react", data)

    def _command(self, event: str, data) -> dict:
        """Run `event` through the service; `state` to the room when it changed, its other events to the
        room, `rejected {event_id, reason, code, state}` to the sender when refused.

        Answers (the Socket.IO ack) `{"ok": true, "rev"}` when the party took the command (or ignored a
        repeated `event_id`), else `{"ok": false, "message"[, "code"], "rev"}`: `rev` is the party's
        revision after the command (null when there is no party), the one a client's next `play`,
        `pause` or `seek` carries (party-commands.js sends one at a time)."""
        if (refused := too_big(event, data, rev=None)) is not None:
            return refused
        entry = self.members.get(request.sid)
        if entry is None:
            return refuse(f"{event}: join a party first", rev=None)
        party_id, member_id = entry
        result = self.service.command(get_db(), party_id, member_id, event, data)
        event_id = data.get("event_id") if isinstance(data, dict) else None
        if result is None:
            return refuse("this party no longer exists", rev=None)
        if isinstance(result, Refused):
            emit("rejected", {"event_id": event_id, "reason": result.reason, "code": result.code,
                              "state": result.state})
            return {"ok": False, "message": result.reason, "code": result.code,
                    "rev": result.state["rev"] if result.state else None}
        if not result.outcome.ignored:
            self._send(result, event_id)
        if result.outcome.rejected:
            return {"ok": False, "message": result.outcome.rejected, "code": result.outcome.code,
                    "rev": result.party.rev}
        return {"ok": True, "rev": result.party.rev}

    def _send(self, result: Applied, event_id) -> None:
        outcome = result.outcome
        if outcome.rejected:
            emit("rejected", {"event_id": event_id, "reason": outcome.rejected, "code": outcome.code,
                              "state": self.service.view(result.party, result.now_ms, result.reports)})
        if outcome.changed:
            self._broadcast(result.party, result.now_ms, result.reports)
        for name, payload in outcome.emits:
            self.emit(name, payload, room=room(result.party.id))

    # --- helpers ----------------------------------------------------------------------------
    def _broadcast(self, party: Party, now: int, reports: dict | None = None) -> None:
        """`state` to the party's room (the heartbeat then waits a whole beat from now)."""
        self.emit("state", self.service.view(party, now, reports), room=room(party.id))
        self.service.broadcasted(party.id)

    def _depart(self, sid: str) -> None:
        entry = self.members.pop(sid, None)
        if entry is None:
            return
        party_id, member_id = entry
        leave_room(room(party_id), sid=sid, namespace=NAMESPACE)
        try:
            left = self.service.leave(get_db(), party_id, sid, member_id)
        except (RedisError, LockError):
            log.warning("party %s: could not record %s leaving", party_id, member_id, exc_info=True)
            return
        if left is not None:
            self._broadcast(*left)

    def _ticker(self) -> None:
        """Run the party timers every TICK_S while this process has members connected."""
        redis_down = False
        while True:
            self.socketio.sleep(TICK_S)
            with self._ticker_lock:
                if not self.members:
                    self._ticker_running = False
                    return
                pending, self._reports = self._reports, {}
            try:
                self.service.put_reports(pending)  # lost, not retried, when Redis is down
                with self.app.app_context():
                    for update in self.service.tick(get_db()):
                        if update.changed:
                            self._broadcast(update.party, update.now_ms)
                        for name, payload in update.emits:
                            self.emit(name, payload, room=room(update.party_id))
            except RedisError as exc:  # a failing tick must not end the loop; Redis down is said once
                if isinstance(exc, LockError):
                    log.exception("party timer failed")
                elif not redis_down:
                    log.warning("party timers paused: Redis is unavailable (%s: %s); retrying every %s s",
                                type(exc).__name__, exc, TICK_S)
                redis_down = redis_down or not isinstance(exc, LockError)
            except Exception:
                log.exception("party timer failed")
            else:
                if redis_down:
                    log.info("party timers resumed: Redis is back")
                redis_down = False


#: The `/party` namespace's error handler (`sockets.error_handler`): an event whose handler raised
#: answers `error {message}` and `{"ok": false, "message"[, "retry_after_s"]}` (party.js re-joins after
#: `retry_after_s`); a PartyError says its own message.
socket_error = error_handler(log, "party", PARTY_BUSY, (access.PartyError,))


def init_app(app: Flask) -> None:
    """Register the `/party` namespace and its error handler on `app.socketio`."""
    app.socketio.on_namespace(PartyNamespace(app))
    app.socketio.on_error(NAMESPACE)(socket_error)

"""The `/party` Socket.IO namespace (Flask-SocketIO, flack's class-based style): thin handlers that
load a party, call the pure `state.py`, save it and emit. The wire contract is in docs/PARTY.md.

One room per party (`party:<id>`). Every web process shares rooms through the Socket.IO message queue
on Redis, and party state through `store.py`, so members on different processes share a party.
Each process runs a timer loop while it has members connected: barrier deadlines, host handoff,
end of title and presence (`state.tick`), and the `state` heartbeat every 5 s (one process per party
per beat, elected in Redis). Nothing here depends on the async mode (threading or eventlet).
"""
from __future__ import annotations

import logging
import threading
import uuid

from flask import Flask, current_app, request, session
from flask_socketio import Namespace, emit, join_room, leave_room
from redis.exceptions import LockError, RedisError
from sqlalchemy import select

from .. import metrics
from ..db import get_db
from . import access, queue, state, store
from .model import Party
from .records import Participant, WatchSession

log = logging.getLogger("mediaserver.party")

NAMESPACE = "/party"
HEARTBEAT_MS = 5_000    # issue 5: `state` on every change and every 5 s
TICK_S = 0.25           # timer loop period (s): barrier and grace deadlines land within 0.25 s
#: Events that go through `state.apply` (the rest have handlers of their own).
COMMANDS = ("play", "pause", "seek", "buffering", "ready", "set_control", "set_role", "skip",
            "queue_add", "queue_remove", "queue_move", "request", "decide", "chat", "react")


def room(party_id: int) -> str:
    """The Socket.IO room of a party."""
    return f"party:{party_id}"


class PartyNamespace(Namespace):
    """Handlers for `/party`. `self.members` maps this process's socket ids to (party id, member id)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(NAMESPACE)
        self.app = app
        self.members: dict[str, tuple[int, str]] = {}
        self.process_id = uuid.uuid4().hex  # this web process, for connection bookkeeping in Redis
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

    def on_join(self, data):
        """`join {code, token}`: the guest token, or else the session's user, identifies the member.

        Answers (Socket.IO ack) `{"ok": true, "member_id", "role"}` or `{"ok": false, "message"}`;
        sends the party's `state` to the room and its `queue` to the joiner.
        """
        data = data if isinstance(data, dict) else {}
        db, redis = get_db(), current_app.redis
        try:
            row = access.find(db, data.get("code"))
            member = access.participant(db, row, data.get("token") or None, session.get("user_id"),
                                        current_app.config["SECRET_KEY"])
        except access.PartyError as exc:
            emit("error", {"message": str(exc)})
            return {"ok": False, "message": str(exc)}
        sid = request.sid
        if sid in self.members:
            self._depart(sid)
        now = store.now_ms()
        join_room(room(row.id))
        self.members[sid] = (row.id, member.member_id)
        try:
            store.connect(redis, row.id, sid, self.process_id, member.member_id)
            store.touch(redis, row.id, member.member_id, now)
            with store.locked(redis, row.id):
                party = self._load(row)
                state.join(party, member.member_id, member.display_name, now)
                store.save(redis, db, party)
        except LockError:
            self._depart(sid)
            return {"ok": False, "message": "the party is busy; try again"}
        except RedisError:  # Redis down: not joined; `socket_error` answers the sender
            self.members.pop(sid, None)
            leave_room(room(row.id))
            raise
        role = party.members[member.member_id].role
        access.mark(db, member, True, role)
        self._broadcast(party, now)
        emit("queue", queue.view(party))
        log.info("party %s: %s joined", row.id, member.member_id,
                 extra={"party_id": row.id, "event": "join", "member": member.member_id, "role": role})
        return {"ok": True, "member_id": member.member_id, "role": role, "server_ms": now}

    def on_leave(self, data=None):
        """`leave {}`: leave the party (the connection stays open)."""
        self._depart(request.sid)

    def on_time_ping(self, data):
        """`time_ping {client_ms}` -> `time_pong {client_ms, server_ms}` to the sender, at once."""
        server_ms = store.now_ms()
        client_ms = data.get("client_ms") if isinstance(data, dict) else None
        if not isinstance(client_ms, (int, float)) or isinstance(client_ms, bool):
            emit("error", {"message": "time_ping needs client_ms, a number of ms"})
            return
        emit("time_pong", {"client_ms": client_ms, "server_ms": server_ms})

    def on_report(self, data):
        """`report {drift_ms, rtt_ms}`: kept for the member list and the play lead-in (no lock, no broadcast;
        written to Redis by the next tick)."""
        entry = self.members.get(request.sid)
        if entry is None or not isinstance(data, dict):
            return
        drift, rtt = data.get("drift_ms"), data.get("rtt_ms")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (drift, rtt)):
            emit("error", {"message": "report needs drift_ms and rtt_ms, numbers of ms"})
            return
        metrics.party_drift(drift)
        with self._ticker_lock:  # stored by the next tick (within TICK_S)
            self._reports.setdefault(entry[0], {})[entry[1]] = (int(drift), max(0, min(int(rtt), 60_000)),
                                                                store.now_ms())

    # --- commands ---------------------------------------------------------------------------
    def command(self, event: str, data) -> None:
        """Any event of COMMANDS: apply it under the party's lock, then emit what the Outcome says."""
        entry = self.members.get(request.sid)
        if entry is None:
            emit("error", {"message": f"{event}: join a party first"})
            return
        party_id, member_id = entry
        data = data if isinstance(data, dict) else {}
        db, redis = get_db(), current_app.redis
        try:
            data = _with_catalog_facts(db, event, data)
        except access.PartyError as exc:
            self._reject(party_id, data, str(exc), "invalid")
            return
        now = store.now_ms()
        try:
            with store.locked(redis, party_id):
                party = store.load(redis, db, party_id)
                if party is None:
                    emit("error", {"message": "this party no longer exists"})
                    return
                member_reports = store.reports(redis, party_id)
                outcome = state.apply(party, member_id, event, data, now, store.max_rtt_ms(party, member_reports))
                if not outcome.ignored:
                    store.save(redis, db, party, durable=outcome.changed or bool(outcome.emits))
        except LockError:
            self._reject(party_id, data, "the party is busy; try again", "busy")
            return
        store.touch(redis, party_id, member_id, now)
        if outcome.ignored:
            return
        log.info("party %s: %s from %s", party_id, event, member_id, extra={"party_id": party_id, "event": event,
                 "member": member_id, "outcome": "rejected" if outcome.rejected else "applied"})
        if outcome.rejected:
            emit("rejected", {"event_id": data.get("event_id"), "reason": outcome.rejected, "code": outcome.code,
                              "state": state.view(party, now, member_reports)})
        if outcome.changed:
            self._broadcast(party, now, member_reports)
        for name, payload in outcome.emits:
            self.emit(name, payload, room=room(party_id))
        if event == "set_role" and outcome.changed:
            _mirror_roles(db, party)

    # --- helpers ----------------------------------------------------------------------------
    def _reject(self, party_id: int, data: dict, reason: str, code: str) -> None:
        """`rejected` to the sender with the party's current state (read without the lock)."""
        party, now = store.load(current_app.redis, get_db(), party_id), store.now_ms()
        emit("rejected", {"event_id": data.get("event_id"), "reason": reason, "code": code,
                          "state": state.view(party, now, store.reports(current_app.redis, party_id)) if party
                          else None})

    def _load(self, row: WatchSession) -> Party:
        party = store.load(current_app.redis, get_db(), row.id)
        if party is None:  # a party made before its snapshot existed cannot happen; be explicit anyway
            raise access.PartyError(409, "this party's state is missing")
        return party

    def _broadcast(self, party: Party, now: int, member_reports: dict | None = None) -> None:
        """`state` to the party's room; the 5 s heartbeat then waits 5 s from now (no `state` goes out
        for nothing right after one, whose fan-out to a big party would delay the next command's)."""
        redis = self.app.redis
        if member_reports is None:
            member_reports = store.reports(redis, party.id)
        self.emit("state", state.view(party, now, member_reports), room=room(party.id))
        store.postpone(redis, party.id, "beat", HEARTBEAT_MS - 50)

    def _depart(self, sid: str) -> None:
        entry = self.members.pop(sid, None)
        if entry is None:
            return
        party_id, member_id = entry
        leave_room(room(party_id), sid=sid, namespace=NAMESPACE)
        redis, db = current_app.redis, get_db()
        try:
            if store.disconnect(redis, party_id, sid, member_id):
                return  # still connected from another device or tab
            now = store.now_ms()
            with store.locked(redis, party_id):
                party = store.load(redis, db, party_id)
                if party is None:
                    return
                rtt = store.max_rtt_ms(party, store.reports(redis, party_id))
                if not state.leave(party, member_id, now, rtt).changed:
                    return
                store.save(redis, db, party)
            self._broadcast(party, now)
            log.info("party %s: %s left", party_id, member_id, extra={"party_id": party_id, "event": "leave",
                                                                      "member": member_id})
            row = _participant(db, party_id, member_id)
            if row is not None:
                access.mark(db, row, False)
        except (RedisError, LockError):
            log.warning("party %s: could not record %s leaving", party_id, member_id, exc_info=True)

    def _ticker(self) -> None:
        """Run party timers every TICK_S while this process has members connected."""
        redis_down = False
        while True:
            self.socketio.sleep(TICK_S)
            with self._ticker_lock:
                if not self.members:
                    self._ticker_running = False
                    return
            with self._ticker_lock:
                pending, self._reports = self._reports, {}
            try:
                store.alive(self.app.redis, self.process_id)
                store.put_reports(self.app.redis, pending)  # lost, not retried, when Redis is down
                with self.app.app_context():
                    self._tick_all()
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

    def _tick_all(self) -> None:
        redis, db = self.app.redis, get_db()
        for party_id in store.active_ids(redis):
            now = store.now_ms()
            changed, emits, party = False, [], None
            if store.elect(redis, party_id, "tick", int(TICK_S * 1000) - 50):
                # A first look without the lock (the RTTs only move a released wait's anchor, not
                # whether the tick acts): most ticks change nothing, and then the party's commands
                # never wait for the timer. A tick that acts runs again under the lock.
                party = store.load(redis, db, party_id)
                if party is None:
                    redis.srem(store.ACTIVE, party_id)
                    continue
                outcome = state.tick(party, now, store.seen(redis, party_id), 0)
                if outcome.changed or outcome.emits:
                    with store.locked(redis, party_id):
                        party = store.load(redis, db, party_id)
                        if party is None:
                            redis.srem(store.ACTIVE, party_id)
                            continue
                        member_reports = store.reports(redis, party_id)
                        outcome = state.tick(party, now, store.seen(redis, party_id),
                                             store.max_rtt_ms(party, member_reports))
                        if outcome.changed or outcome.emits:
                            store.save(redis, db, party)
                changed, emits = outcome.changed, outcome.emits
            if store.elect(redis, party_id, "beat", HEARTBEAT_MS - 50):  # no `state` for 5 s
                changed = True
                party = party or store.load(redis, db, party_id)
            if party is not None and changed:
                self._broadcast(party, now)
            for name, payload in emits:
                self.emit(name, payload, room=room(party_id))
            if emits and party is not None:
                _mirror_roles(db, party)


def socket_error(exc: Exception):
    """The `/party` namespace's error handler (Flask-SocketIO's `on_error`, registered by
    web/parties.py): an event whose handler raised answers its sender `error {message}` and the ack
    `{"ok": false, "message"[, "retry_after_s"]}` rather than nothing (the client would wait out its own timeout).
    Redis down (ConnectionError, TimeoutError: `REDIS_UNAVAILABLE`) is logged as one line; anything
    unexpected with its traceback. A failing `connect` refuses the connection."""
    from ..web.errors import PARTY_BUSY, REDIS_RETRY_AFTER_S, REDIS_UNAVAILABLE

    event = (getattr(request, "event", None) or {}).get("message")
    retry = {}  # a passing failure: the ack says when to try again (party.js re-joins then)
    if isinstance(exc, LockError):
        message, retry = PARTY_BUSY, {"retry_after_s": 1}
    elif isinstance(exc, RedisError):
        log.warning("party event %s: Redis is unavailable (%s: %s)", event, type(exc).__name__, exc)
        message, retry = REDIS_UNAVAILABLE, {"retry_after_s": REDIS_RETRY_AFTER_S}
    elif isinstance(exc, access.PartyError):
        message = str(exc)
    else:
        log.error("party event %s failed", event, exc_info=exc)
        message = "internal error; the server log has the details"
    if event == "connect":
        return False
    emit("error", {"message": message})
    return {"ok": False, "message": message, **retry}


def _command_handler(event: str):
    def handler(self: PartyNamespace, data=None):
        return self.command(event, data)

    handler.__name__ = handler.__qualname__ = f"on_{event}"
    handler.__doc__ = f"`{event}`: see PartyNamespace.command and docs/PARTY.md."
    return handler


for _event in COMMANDS:
    setattr(PartyNamespace, f"on_{_event}", _command_handler(_event))


def _with_catalog_facts(db, event: str, data: dict) -> dict:
    """A `queue_add` or an add `request` gets the title and duration from the catalog (PartyError if
    the file is unknown or unreadable); other events pass through."""
    if event == "queue_add":
        item = access.queue_item(db, data.get("media_file_id"))
        return {**data, "title": item.title, "duration_ms": item.duration_ms}
    if event == "request" and data.get("kind") == "add" and isinstance(data.get("payload"), dict):
        item = access.queue_item(db, data["payload"].get("media_file_id"))
        return {**data, "payload": {"media_file_id": item.media_file_id, "title": item.title,
                                    "duration_ms": item.duration_ms}}
    return data


def _participant(db, party_id: int, member_id: str) -> Participant | None:
    if member_id.startswith("u"):
        return db.scalar(select(Participant).where(Participant.session_id == party_id,
                                                   Participant.user_id == int(member_id[1:])))
    row = db.get(Participant, int(member_id[1:]))
    return row if row is not None and row.session_id == party_id else None


def _mirror_roles(db, party: Party) -> None:
    """Copy members' roles (after a promotion or a host handoff) to their participant rows."""
    for member in party.members.values():
        row = _participant(db, party.id, member.id)
        if row is not None and row.role != member.role:
            row.role = member.role
    db.commit()

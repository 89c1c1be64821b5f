"""What the `/party` socket handlers call (`web/party_socket.py`): joining, a member's command,
leaving, the members' reports and the timers. Each is a use case over the party's store (Redis, with
the database as its durable copy: `store.py`), the participant rows (`access.py`) and the pure state
machine (`commands.py`, `state.py`). Nothing here knows Socket.IO: every call returns what the
transport sends (the room's `state`, further room events, or a rejection for the sender).

A command's path: `commands.parse` (shape) -> the catalog's facts for a queued title -> under the
party's lock (`store.locked`, across processes): load, `state.apply`, save -> the outcome. Every web
process runs `tick` while it has members connected; one process per party acts on each tick and on
each heartbeat (elected in Redis), so timers neither double up nor stop when a process dies.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from redis import Redis
from redis.exceptions import LockError
from sqlalchemy.orm import Session

from ..models import Participant, WatchSession
from . import access, commands, queue, state, store
from .model import Outcome, Party, PartyTimings, Rejected

log = logging.getLogger("mediaserver.party")

#: What a command refused for a passing reason (another holder of the party's lock) says.
BUSY = "the party is busy; try again"


@dataclass
class Applied:
    """A command `state.apply` took: `outcome` says what to send (`state` to the room when changed,
    its `emits` to the room, `rejected` to the sender); `party` and `reports` are as saved, at `now_ms`."""

    party: Party
    outcome: Outcome
    now_ms: int
    reports: dict[str, dict]


@dataclass
class Refused:
    """A command refused before the state machine could judge it (malformed, a title that cannot be
    queued, the party's lock busy): `reason`, `code` (invalid, busy) and the party's current `state`
    view (None when the party is gone)."""

    reason: str
    code: str
    state: dict | None


@dataclass
class TickUpdate:
    """What one tick did to party `party_id`: broadcast `party`'s `state` when `changed` (or its
    heartbeat is due), then send `emits` to its room."""

    party_id: int
    party: Party | None
    now_ms: int
    changed: bool
    emits: list[tuple[str, dict]] = field(default_factory=list)


class PartyService:
    """The party use cases for one web process (`process_id`), over `redis`, with the party timers
    `timings` (ms) and the tick period `tick_ms` of the transport's timer loop; `secret` signs and
    checks guest tokens (the app's SECRET_KEY)."""

    def __init__(self, redis: Redis, secret: str, process_id: str, timings: PartyTimings, tick_ms: int) -> None:
        self.redis, self.secret, self.process_id = redis, secret, process_id
        self.timings, self.tick_ms = timings, tick_ms

    # --- joining and leaving ----------------------------------------------------------------------
    def identify(self, db: Session, code: object, token: object, user_id: int | None
                 ) -> tuple[WatchSession, Participant]:
        """The running party of invite code `code` and the participant joining it: the guest `token`
        names, else the logged-in user. Raises PartyError."""
        row = access.find(db, code)
        return row, access.participant(db, row, token if isinstance(token, str) and token else None, user_id,
                                       self.secret)

    def join(self, db: Session, row: WatchSession, member: Participant, sid: str) -> tuple[Party, int]:
        """Record connection `sid` of `member` and put it in the party (`state.join`: loading until its
        player is ready); mirror it into its row. Returns (party, now ms). Raises PartyError when the
        party's state is missing or the party is full (conflict), LockError when its lock stays busy,
        RedisError when Redis is down."""
        now = store.now_ms()
        store.connect(self.redis, row.id, sid, self.process_id, member.member_id)
        store.touch(self.redis, row.id, member.member_id, now)
        with store.locked(self.redis, row.id):
            party = store.load(self.redis, db, row.id)
            if party is None:  # a party made before its snapshot existed cannot happen; be explicit anyway
                raise access.PartyError("conflict", "this party's state is missing")
            try:
                state.join(party, member.member_id, member.display_name, now)
                store.save(self.redis, db, party)
            except Rejected as exc:  # full: the member is not added
                store.disconnect(self.redis, row.id, sid, member.member_id)
                raise access.PartyError("conflict", str(exc)) from None
        access.mark(db, member, True, party.members[member.member_id].role)
        log.info("party %s: %s joined", row.id, member.member_id, extra={
            "party_id": row.id, "event": "join", "member": member.member_id,
            "role": party.members[member.member_id].role})
        return party, now

    def leave(self, db: Session, party_id: int, sid: str, member_id: str) -> tuple[Party, int] | None:
        """Connection `sid` closed: when it was the member's last live one, the member leaves
        (`state.leave`). Returns (party, now ms) to broadcast, or None when nothing changed. Raises
        RedisError or LockError (the transport logs them: nobody is left to answer)."""
        if store.disconnect(self.redis, party_id, sid, member_id):
            return None  # still connected from another device or tab
        now = store.now_ms()
        with store.locked(self.redis, party_id):
            party = store.load(self.redis, db, party_id)
            if party is None:
                return None
            rtt = store.max_rtt_ms(party, store.reports(self.redis, party_id))
            if not state.leave(party, member_id, now, rtt).changed:
                return None
            store.save(self.redis, db, party)
        log.info("party %s: %s left", party_id, member_id,
                 extra={"party_id": party_id, "event": "leave", "member": member_id})
        row = access.participant_of(db, party_id, member_id)
        if row is not None:
            access.mark(db, row, False)
        return party, now

    # --- commands ---------------------------------------------------------------------------------
    def command(self, db: Session, party_id: int, member_id: str, event: str, data: object) -> Applied | Refused | None:
        """Member `member_id`'s event `event` with payload `data` (any JSON value; `commands.parse`
        judges it). Returns Applied, Refused, or None when the party no longer exists. Raises
        RedisError when Redis is down."""
        try:
            command = self._with_catalog_facts(db, commands.parse(event, data))
        except (Rejected, access.PartyError) as exc:
            return self._refused(db, party_id, str(exc), "invalid")
        now = store.now_ms()
        try:
            with store.locked(self.redis, party_id):
                party = store.load(self.redis, db, party_id)
                if party is None:
                    return None
                reports = store.reports(self.redis, party_id)
                outcome = state.apply(party, member_id, command, now, store.max_rtt_ms(party, reports), self.timings)
                if not outcome.ignored:
                    store.save(self.redis, db, party, durable=outcome.changed or bool(outcome.emits))
        except LockError:
            return self._refused(db, party_id, BUSY, "busy")
        except Rejected as exc:  # the state would outgrow its bound: nothing was saved
            return self._refused(db, party_id, str(exc), "invalid")
        store.touch(self.redis, party_id, member_id, now)
        if not outcome.ignored:
            log.info("party %s: %s from %s", party_id, event, member_id, extra={
                "party_id": party_id, "event": event, "member": member_id,
                "outcome": "rejected" if outcome.rejected else "applied"})
        if isinstance(command, commands.SetRole) and outcome.changed:
            access.mirror_roles(db, party)
        return Applied(party, outcome, now, reports)

    def _with_catalog_facts(self, db: Session, command: commands.Command) -> commands.Command:
        """A queued title (`queue_add`, or a request to add) gets its title and duration from the
        catalog (PartyError when the file is unknown or unreadable); other commands pass through."""
        change = command.change if isinstance(command, commands.RequestChange) else command
        if not isinstance(change, commands.QueueAdd):
            return command
        item = access.queue_item(db, change.media_file_id)
        added = commands.QueueAdd(item.media_file_id, item.title, item.duration_ms)
        return commands.RequestChange(added) if isinstance(command, commands.RequestChange) else added

    def _refused(self, db: Session, party_id: int, reason: str, code: str) -> Refused:
        """A refusal with the party's current state, read without the lock."""
        party = store.load(self.redis, db, party_id)
        return Refused(reason, code, self.view(party, store.now_ms()) if party is not None else None)

    # --- views, reports and timers ------------------------------------------------------------------
    def view(self, party: Party, now_ms: int, reports: dict[str, dict] | None = None) -> dict:
        """The `state` event's body (`state.view`), with the members' last reports (read when not given)."""
        return state.view(party, now_ms, store.reports(self.redis, party.id) if reports is None else reports)

    def queue_view(self, party: Party) -> dict:
        """The `queue` event's body (`queue.view`)."""
        return queue.view(party)

    def broadcasted(self, party_id: int) -> None:
        """A `state` went out to the room now: the next heartbeat waits a whole `heartbeat_ms` (no
        `state` for nothing right after one, whose fan-out to a big party would delay the next command's)."""
        store.postpone(self.redis, party_id, "beat", self.timings.heartbeat_ms - 50)

    def put_reports(self, pending: dict[int, dict[str, tuple[int, int, int]]]) -> None:
        """Store the reports gathered since the last tick, `{party id: {member id: (drift_ms, rtt_ms,
        at_ms)}}`, in one round trip, and mark this process alive. Raises RedisError."""
        store.alive(self.redis, self.process_id)
        store.put_reports(self.redis, pending)

    def tick(self, db: Session) -> Iterator[TickUpdate]:
        """Run every running party's timers (`state.tick`: presence, waits, host handoff, end of title)
        and its heartbeat, where this process wins the party's election; yields a TickUpdate per party
        that needs one, as soon as it is done. Raises RedisError, LockError."""
        for party_id in store.active_ids(self.redis):
            now = store.now_ms()
            changed, emits, party = False, [], None
            if store.elect(self.redis, party_id, "tick", self.tick_ms - 50):
                # A first look without the lock (the RTTs only move a released wait's anchor, not
                # whether the tick acts): most ticks change nothing, and then the party's commands
                # never wait for the timer. A tick that acts runs again under the lock.
                party = store.load(self.redis, db, party_id)
                if party is None:
                    store.forget(self.redis, party_id)
                    continue
                outcome = state.tick(party, now, store.seen(self.redis, party_id), 0, self.timings)
                if outcome.changed or outcome.emits:
                    with store.locked(self.redis, party_id):
                        party = store.load(self.redis, db, party_id)
                        if party is None:
                            store.forget(self.redis, party_id)
                            continue
                        reports = store.reports(self.redis, party_id)
                        outcome = state.tick(party, now, store.seen(self.redis, party_id),
                                             store.max_rtt_ms(party, reports), self.timings)
                        if outcome.changed or outcome.emits:
                            store.save(self.redis, db, party)
                changed, emits = outcome.changed, outcome.emits
            if store.elect(self.redis, party_id, "beat", self.timings.heartbeat_ms - 50):  # no `state` for a while
                changed = True
                party = party or store.load(self.redis, db, party_id)
            if emits and party is not None:
                access.mirror_roles(db, party)
            if changed or emits:
                yield TickUpdate(party_id, party, now, changed and party is not None, emits)

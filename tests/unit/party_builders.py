"""Builders shared by the party core's unit tests: parties in each room state at fixed times (ms), and
`apply_event`, a client event run the way the party service runs it."""
import json
from dataclasses import replace

from mediaserver.party import commands, state
from mediaserver.party.model import WAITING, Outcome, QueueItem, Rejected

T0 = 1_700_000_000_000
DUR = 600_000
SETTLED = T0 + 5_000  # after a play at T0 (anchor T0 + 300) has settled (T0 + 2 300)


def apply_event(party, who, event, data, now, rtt=0, timings=state.DEFAULT_TIMINGS):
    """`commands.parse` then `state.apply`, as the party service runs an event (a parse error becomes
    the rejection the socket sends). A queued title's `title` and `duration_ms`, which the service
    takes from the catalog, come from the event's data here."""
    try:
        command = commands.parse(event, data)
    except Rejected as exc:
        return Outcome(rejected=str(exc), code=exc.code)
    if isinstance(command, commands.QueueAdd):
        command = replace(command, title=data.get("title"), duration_ms=data.get("duration_ms"))
    elif isinstance(command, commands.RequestChange) and isinstance(command.change, commands.QueueAdd):
        payload = data["payload"]
        command = commands.RequestChange(replace(command.change, title=payload.get("title"),
                                                 duration_ms=payload.get("duration_ms")))
    return state.apply(party, who, command, now, rtt, timings)


def send(party, who, event, now, rtt=0, **data):
    return apply_event(party, who, event, data, now, rtt)


def make(*guests, now=T0):
    """A paused party at 0 on title 1 (600 s), its host u1 and `guests` online and ready."""
    party = state.new_party(7, "ABCD", "u1", "Host", QueueItem(0, 1, "One", DUR), now)
    for mid in ("u1", *guests):
        state.join(party, mid, mid.upper(), now)
        send(party, mid, "ready", now)
    return party


def playing(*guests, at=0):
    """Playing from `at`, started by the host at T0: anchored at T0 + 300, settled from T0 + 2 300."""
    party = make(*guests)
    if at:
        send(party, "u1", "seek", T0, rev=party.rev, position_ms=at)
    assert send(party, "u1", "play", T0, rev=party.rev).changed
    return party


def waiting():
    """g1 stalled at SETTLED while playing from 0: waiting at 4 700 for g1 until SETTLED + 10 s."""
    party = playing("g1", "g2")
    send(party, "g1", "buffering", SETTLED)
    assert party.state == WAITING
    return party


def snapshot(party):
    return json.dumps(party.to_dict(), sort_keys=True)


def in_state(name):
    return {"paused": lambda: make("g1", "g2"), "playing": lambda: playing("g1", "g2"), "waiting": waiting}[name]()

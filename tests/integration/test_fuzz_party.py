"""Fuzzing the `/party` namespace with hypothesis (issue 13): every client event, from the host and from a
guest, with generated data (arbitrary JSON, the event's own keys with values of any type, NaN and
infinities, huge numbers, long and odd strings, junk keys) against a live server (tests/party_world.py).

After each example: no answer and no `error` says "internal error", the server logged no error, both
peers are still connected, the party's stored state stays small (a 2-member party: far under
model.MAX_STATE_CHARS), its HTTP view answers, and another connection still gets its `time_pong`.

Reproducible: `derandomize=True`, no example database; MEDIASERVER_FUZZ_EXAMPLES raises the number of
examples per event and sender for a deeper run (default 40: about 20 s in all).
"""
from __future__ import annotations

import json
import logging
import math
import os

import pytest
import socketio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import Redis

from mediaserver.web.party_socket import PartyNamespace
from tests.helpers import TEST_REDIS_URL
from tests.party_peer import NS, Peer
from tests.party_world import server  # noqa: F401 (a fixture)

MAX_EXAMPLES = int(os.environ.get("MEDIASERVER_FUZZ_EXAMPLES", "40"))
#: Each client event's keys (docs/PARTY.md): the fuzzer gives them values of any type.
EVENT_KEYS = {
    "join": ("code", "token"), "leave": (), "play": ("rev", "event_id"), "pause": ("position_ms", "rev", "event_id"),
    "seek": ("position_ms", "rev", "event_id"), "buffering": ("position_ms",), "ready": ("position_ms",),
    "time_ping": ("client_ms",), "report": ("drift_ms", "rtt_ms"), "set_control": ("mode",),
    "set_role": ("member_id", "role"), "skip": (), "queue_add": ("media_file_id",), "queue_remove": ("item_id",),
    "queue_move": ("item_id", "index"), "request": ("kind", "payload"), "decide": ("request_id", "approve"),
    "chat": ("text",), "react": ("emoji",), "set_queue_mode": ("mode",), "nudge": ("item_id",),
}
#: A 2-member party's state stays far under this (characters of JSON in Redis).
SMALL_STATE_CHARS = 60_000

HUGE = [2**31 - 1, 2**31, 2**53 + 1, 2**63, 2**64, 10**30, -(2**31) - 1]
numbers = st.one_of(st.integers(-5, 5), st.integers(), st.sampled_from(HUGE + [-x for x in HUGE]),
                    st.floats(), st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0, 0.5]))
strings = st.one_of(st.text(max_size=30), st.sampled_from([
    "", " ", "\x00", "\ud800", "\u202e", "💥" * 600, "a" * 5_000, "u1", "g2", "host", "cohost", "everyone", "add",
    "move", "remove", "once", "circulate", "<script>", "'; DROP TABLE watch_sessions; --", "a\nforged log line"]))
scalars = st.one_of(st.none(), st.booleans(), numbers, strings)
json_values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)), max_leaves=10)
#: A value for a key the event reads: mostly the edge cases (non-finite, huge, negative, wrong type).
edge_values = st.sampled_from(HUGE + [math.nan, math.inf, -math.inf, 1e308, -1, 0, 1, 0.5, True, False, None, "",
                                      "1", "a" * 5_000, "\ud800", [], {}, [1], {"a": 1}])
key_values = st.one_of(edge_values, edge_values, edge_values, scalars, json_values)


def event_data(event: str):
    keys = EVENT_KEYS[event]
    own = {k: key_values for k in keys}
    if event == "request":
        payload_keys = ("media_file_id", "item_id", "index", "title", "duration_ms")
        own["payload"] = st.one_of(st.fixed_dictionaries({}, optional={k: key_values for k in payload_keys}), json_values)
        own["kind"] = st.one_of(st.sampled_from(["add", "remove", "move"]), key_values)
    return st.one_of(
        st.fixed_dictionaries(own),
        st.fixed_dictionaries({}, optional=own),
        st.fixed_dictionaries(own, optional={k: v for k, v in {"junk": json_values, "event_id": key_values}.items()
                                             if k not in own}),
        json_values,
        st.none(),
    )


class ErrorLog(logging.Handler):
    """Every ERROR (or worse) record of the app's loggers while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_every_party_event_is_fuzzed():
    handlers = {name.removeprefix("on_") for name in vars(PartyNamespace) if name.startswith("on_")}
    assert handlers - {"connect", "disconnect"} == set(EVENT_KEYS)


@pytest.fixture(scope="module")
def fuzzed(server):
    """One party for the module's examples: its host, a guest, and a connection in no party; every
    ERROR the app logs meanwhile is collected."""
    from tests.party_world import Party

    world = Party(server)
    world.guest_peer = world.guest("Fuzz")
    world.observer = Peer(world.url)
    world.errors = ErrorLog()
    logging.getLogger("mediaserver").addHandler(world.errors)
    yield world
    logging.getLogger("mediaserver").removeHandler(world.errors)
    for peer in world.peers + [world.observer]:
        if peer.sio.connected:
            peer.close()


def stored_chars(world) -> int:
    return len(Redis.from_url(TEST_REDIS_URL).get(f"mediaserver:party:{world.id}:state"))


@pytest.mark.parametrize("who", ["host", "guest"])
@pytest.mark.parametrize("event", sorted(EVENT_KEYS))
def test_no_party_event_breaks_the_party_or_the_server(fuzzed, event, who):
    world = fuzzed
    peers = {"host": world.host, "guest": world.guest_peer}
    token = world.tokens[world.guest_peer.member_id]

    def rejoin():
        assert world.host.join(world.code)["ok"] and world.guest_peer.join(world.code, token)["ok"]

    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                     HealthCheck.data_too_large])
    @given(event_data(event))
    def run(data):
        peer = peers[who]
        mark = peer.mark()
        try:
            ack = peer.sio.call(event, data, namespace=NS, timeout=5)
        except socketio.exceptions.TimeoutError:
            pytest.fail(f"no answer to {event} {data!r}")
        assert ack is None or isinstance(ack, dict), ack
        assert "internal error" not in json.dumps(ack), ack
        assert peer.sio.connected, f"the {who} was disconnected"
        answers = peer.received("error", mark)
        assert not [a for a in answers if "internal error" in a.get("message", "")], answers
        assert not world.errors.records, [r.getMessage() for r in world.errors.records]
        assert stored_chars(world) < SMALL_STATE_CHARS
        if event in ("join", "leave"):
            rejoin()

    rejoin()
    run()
    assert world.http_state()["party"] == world.code  # the server still serves the party...
    observed = world.observer.mark()
    world.observer.sio.emit("time_ping", {"client_ms": 1}, namespace=NS)
    assert world.observer.wait("time_pong", since=observed)[0]["client_ms"] == 1  # ...and others

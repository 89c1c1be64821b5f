"""Issue 13's reproductions against a live party server (tests/party_world.py): what guests send cannot
blow up the party's state, delay every play, or leave NaN and 309-digit numbers behind. The rules
themselves are unit-tested (tests/unit/test_party_bounds.py); here the socket, Redis and `/metrics` are."""
import json
import math

import requests
from redis import Redis

from tests.helpers import TEST_REDIS_URL, csrf_session
from tests.party_peer import NS, now_ms
from tests.party_world import eid, member
from tests.party_world import party, server  # noqa: F401 (fixtures)


def stored(party) -> str:
    """The party's live state in Redis (JSON)."""
    return Redis.from_url(TEST_REDIS_URL).get(f"mediaserver:party:{party.id}:state").decode()


def stored_chars(party) -> int:
    return len(stored(party))


def call(peer, event: str, data) -> dict:
    return peer.sio.call(event, data, namespace=NS, timeout=5)


def test_guests_sending_900_kb_requests_leave_the_state_as_small_as_it_was(party, server):
    call(party.host, "queue_add", {"media_file_id": server.flower})
    before = stored_chars(party)
    guests = [party.guest(f"Guest {i}") for i in range(4)]
    grown_by_joins = stored_chars(party)
    for guest in guests:
        for _ in range(5):  # engine.io drops a connection whose packet is over 64 kB: each guest once
            if guest.sio.connected:
                guest.sio.emit("request", {"kind": "move", "payload": {"item_id": 1, "index": 0, "junk": "J" * 900_000}},
                               namespace=NS)
    answer = requests.get(f"{party.url}/api/parties/{party.code}", cookies=party.session.cookies)
    assert answer.status_code == 200 and len(answer.content) < 5_000
    # the guests dropped went offline (a few characters each); no request was stored
    assert stored_chars(party) < grown_by_joins + 200 and grown_by_joins < before + 1_500
    assert json.loads(stored(party))["requests"] == {}
    assert party.http_state()["members"]  # the server still answers
    mark = party.host.mark()
    party.host.sio.emit("time_ping", {"client_ms": 7}, namespace=NS)
    assert party.host.wait("time_pong", since=mark)[0]["client_ms"] == 7


def test_event_data_over_4096_characters_is_refused_and_changes_nothing(party):
    guest = party.guest("Sam")
    before = stored_chars(party)
    for event, data in [("request", {"kind": "add", "payload": {"media_file_id": 1}, "junk": "J" * 5_000}),
                        ("chat", {"text": "hi", "junk": "J" * 5_000}), ("report", {"drift_ms": 0, "rtt_ms": 0, "j": "J" * 5_000}),
                        ("join", {"code": party.code, "token": "J" * 5_000}), ("time_ping", {"client_ms": 1, "j": "J" * 5_000})]:
        mark = guest.mark()
        ack = call(guest, event, data)
        assert ack["ok"] is False and "over 4096 characters" in ack["message"], (event, ack)
        assert "over 4096" in guest.wait("error", since=mark)[0]["message"]
    assert guest.sio.connected and stored_chars(party) == before


def test_a_guest_claiming_a_60_s_rtt_delays_a_play_by_2_s_at_most(party):
    guest = party.guest("Slow")
    call(guest, "report", {"drift_ms": 0, "rtt_ms": 60_000})
    time_to_store = 0.6  # reports reach Redis on the next tick of the server's timer loop (0.25 s)
    deadline = now_ms() + time_to_store * 1000
    while now_ms() < deadline:
        if member(party.http_state(), guest.member_id)["rtt_ms"] == 60_000:
            break
    assert member(party.http_state(), guest.member_id)["rtt_ms"] == 60_000
    mark = party.host.mark()
    sent = now_ms()
    assert call(party.host, "play", {"rev": 0, "event_id": eid()})["ok"]
    playing = party.state(party.host, lambda s: s["state"] == "playing", mark)
    assert playing["anchor_server_ms"] - sent <= 2_000 + 100  # the lead is capped at 2 s


def test_reports_of_nan_infinity_and_1e308_are_refused_before_anything_is_recorded(party):
    guest = party.guest("Odd")
    for drift in (math.nan, math.inf, -math.inf, 1e308):
        mark = guest.mark()
        ack = call(guest, "report", {"drift_ms": drift, "rtt_ms": 10})
        assert ack["ok"] is False and ack["message"].startswith("report needs drift_ms"), ack
        assert "internal error" not in guest.wait("error", since=mark)[0]["message"]
    assert call(guest, "report", {"drift_ms": 1e308, "rtt_ms": 1e308})["ok"] is False
    state = party.http_state()
    assert member(state, guest.member_id)["drift_ms"] is None  # nothing recorded
    assert all(len(str(m["drift_ms"])) < 12 for m in state["members"])
    metrics = requests.get(party.url + "/metrics").text
    drift_lines = [line for line in metrics.splitlines() if "party_drift" in line and not line.startswith("#")]
    assert drift_lines and not [line for line in drift_lines if "nan" in line.lower()]


def test_a_guest_cannot_join_a_party_of_1000_members(party, server):
    from mediaserver.db import get_db
    from mediaserver.models import Participant
    from mediaserver.party import state

    with server.app_context():
        db = get_db()
        db.add_all(Participant(session_id=party.id, display_name=f"Guest {i}") for i in range(state.MAX_MEMBERS - 1))
        db.commit()
    answer = csrf_session().post(f"{party.url}/api/parties/{party.code}/join", json={"name": "One too many"})
    assert answer.status_code == 409 and answer.json()["message"] == "the party is full: at most 1000 members"


def test_a_logged_out_cookie_joins_no_party(party):
    """Issue 13, item 5: the socket asks for a live session too, not only a signed cookie."""
    copied = party.cookie
    assert party.session.post(party.url + "/api/auth/logout").json() == {"ok": True}
    ack = party.peer(copied).join(party.code)
    assert ack["ok"] is False and ack["message"], ack

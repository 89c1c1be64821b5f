"""Socket data parsed into typed commands (party/commands.py) before the state machine sees it; the
party timers read from configuration (model.PartyTimings)."""
import pytest

from mediaserver.party import commands
from mediaserver.party.model import PartyTimings, Rejected


@pytest.mark.parametrize("event, data, command", [
    ("play", {"rev": 3, "event_id": "e1"}, commands.Play(3, "e1")),
    ("pause", {"rev": 3, "position_ms": 1_500}, commands.Pause(3, 1_500)),
    ("seek", {"rev": 0, "position_ms": 0, "event_id": "e2"}, commands.Seek(0, 0, "e2")),
    ("set_control", {"mode": "everyone"}, commands.SetControl("everyone")),
    ("set_role", {"member_id": "g4", "role": "cohost"}, commands.SetRole("g4", "cohost")),
    ("queue_add", {"media_file_id": 12}, commands.QueueAdd(12)),
    ("queue_move", {"item_id": 2, "index": 0}, commands.QueueMove(2, 0)),
    ("request", {"kind": "remove", "payload": {"item_id": 5}}, commands.RequestChange(commands.QueueRemove(5))),
    ("decide", {"request_id": 9, "approve": 1}, commands.Decide(9, True)),
    ("chat", {"text": "  hello  "}, commands.Message("chat", "text", "hello")),
    ("react", {"emoji": "🎉"}, commands.Message("react", "emoji", "🎉")),
])
def test_each_event_becomes_its_command(event, data, command):
    assert commands.parse(event, data) == command


def test_fields_an_event_does_not_have_are_dropped():
    junk = "J" * 900_000
    command = commands.parse("request", {"kind": "move", "payload": {"item_id": 1, "index": 0, "junk": junk},
                                         "junk": junk})
    assert command == commands.RequestChange(commands.QueueMove(1, 0))
    assert command.kind == "move" and command.change.payload() == {"item_id": 1, "index": 0}
    assert commands.parse("play", {"rev": 1, "junk": junk}) == commands.Play(1)


@pytest.mark.parametrize("event, data, message", [
    ("play", {}, "rev must be an integer from -2147483648 to 2147483647"),
    ("play", {"rev": True}, "rev must be an integer"),
    ("pause", {"rev": 1, "position_ms": "10"}, "position_ms must be an integer"),
    ("seek", {"rev": 1, "position_ms": -1}, "position_ms must be an integer from 0"),
    ("seek", {"rev": 1, "position_ms": 2**31}, "position_ms must be an integer from 0 to 2147483647"),
    ("play", {"rev": 10**400}, "rev must be an integer from -2147483648"),
    ("queue_move", {"item_id": 2, "index": -1}, "index must be an integer"),
    ("decide", {"request_id": 2**63, "approve": True}, "no such pending request"),
    ("seek", {"rev": 1, "position_ms": 0, "event_id": "x" * 65}, "event_id must be 1 to 64 letters"),
    ("seek", {"rev": 1, "position_ms": 0, "event_id": "a\nb"}, "event_id must be 1 to 64 letters"),
    ("play", {"rev": 1, "event_id": ""}, "event_id must be 1 to 64 letters"),
    ("set_control", {"mode": "anyone"}, "mode must be one of host, everyone"),
    ("set_role", {"member_id": ["g1"], "role": "cohost"}, "no such member"),
    ("set_role", {"member_id": "g1" * 13, "role": "cohost"}, "no such member"),
    ("set_role", {"member_id": "g1", "role": "admin"}, "role must be host, cohost or guest"),
    ("queue_add", {"media_file_id": "12"}, "media_file_id must be an integer"),
    ("queue_remove", {"item_id": None}, "no such queue item"),
    ("request", {"kind": "rename", "payload": {}}, "a request needs kind add, remove or move"),
    ("request", {"kind": "add", "payload": [12]}, "a request needs kind add, remove or move"),
    ("decide", {"request_id": "9"}, "no such pending request"),
    ("chat", {"text": "   "}, "chat text must be 1 to 500 characters"),
    ("react", {"emoji": "x" * 17}, "emoji must be 1 to 16 characters"),
    ("dance", {}, "unknown event 'dance'"),
])
def test_malformed_data_is_refused_naming_the_field(event, data, message):
    with pytest.raises(Rejected, match=message) as refused:
        commands.parse(event, data)
    assert refused.value.code == "invalid"


@pytest.mark.parametrize("data", [None, [], "play", 3])
def test_data_that_is_not_an_object_is_taken_as_empty(data):
    assert commands.parse("buffering", data) == commands.Buffering()
    with pytest.raises(Rejected, match="rev must be an integer"):
        commands.parse("play", data)


def test_the_party_timers_come_from_configuration_with_issue_5s_defaults():
    assert PartyTimings.from_config({}) == PartyTimings(10_000, 30_000, 30_000, 15_000, 5_000)
    shortened = PartyTimings.from_config({"PARTY_HOST_GRACE_MS": 3_000, "PARTY_HEARTBEAT_MS": "2000"})
    assert (shortened.host_grace_ms, shortened.heartbeat_ms, shortened.rebuffer_wait_ms) == (3_000, 2_000, 10_000)

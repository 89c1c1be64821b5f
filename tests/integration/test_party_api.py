"""Watch parties over HTTP (web/parties.py): create, join as a guest, read, play, end, the QR code.

Real SQLite and Redis; one app and one scanned two-title library for the module (a scan takes a
second). Every test makes its own party, so tests do not share state.
"""
import shutil
import time
from urllib.parse import quote, urlparse

import pytest
from redis import Redis

from mediaserver import create_app, tokens
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import Participant
from tests.helpers import MEDIA, NO_RATE_LIMITS, PASSWORD, TEST_REDIS_URL, app_config, clip, media_id

BBB, FLOWER = "Movies/BBB (2008).mp4", "Movies/Flower.mp4"
BBB_CLIP = "video/bbb_h264_aac_720p_30s.mp4"


@pytest.fixture(scope="module")
def papp(tmp_path_factory):
    base = tmp_path_factory.mktemp("party_api")
    library = base / "lib"
    for name, rel in {BBB: BBB_CLIP, FLOWER: "video/flower.mp4"}.items():
        # copies: the stream routes refuse symlinks that lead out of the library (docs/API.md)
        (library / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip(rel), library / name)
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    # every party of the module is alice's, every guest joins from 127.0.0.1: no rate limits (test_security)
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(library)], **NO_RATE_LIMITS))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
        create_user("bob", PASSWORD)
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    app.bbb, app.flower = media_id(app, BBB), media_id(app, FLOWER)
    yield app
    conn.flushdb()


def login(app, username="alice"):
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    return client


@pytest.fixture
def host(papp):
    return login(papp)


@pytest.fixture
def party(papp, host):
    """A fresh party on BBB hosted by alice: its create response's body."""
    response = host.post("/api/parties", json={"media_file_id": papp.bbb})
    assert response.status_code == 201, response.json
    return response.json


def join(papp, code, name="Sam"):
    """A new anonymous client joined as a guest: (client, response)."""
    guest = papp.test_client()
    return guest, guest.post(f"/api/parties/{code}/join", json={"name": name})


def test_create_answers_201_with_id_code_and_invite_url(papp, host):
    response = host.post("/api/parties", json={"media_file_id": papp.bbb})
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"id", "code", "invite_url"} and isinstance(body["id"], int)
    assert len(body["code"]) == 10 and urlparse(body["invite_url"]).path == f"/p/{body['code']}"
    other = host.post("/api/parties", json={"media_file_id": papp.bbb}).json
    assert other["code"] != body["code"] and other["id"] != body["id"]
    state = host.get(f"/api/parties/{body['code']}").json
    assert (state["state"], state["position_ms"], state["rev"], state["control_mode"]) == ("paused", 0, 0, "host")
    assert state["media_file_id"] == papp.bbb and state["duration_ms"] == 30023 and "BBB" in state["title"]
    assert state["host"] == "u1" and [m["role"] for m in state["members"]] == ["host"]


@pytest.mark.parametrize("kwargs, status", [
    ({"json": {}}, 400),
    ({"json": {"media_file_id": "1"}}, 400),
    ({"json": {"media_file_id": True}}, 400),
    ({"json": [1]}, 400),
    ({"data": "{not json", "content_type": "application/json"}, 400),
    ({"data": "media_file_id=1", "content_type": "application/x-www-form-urlencoded"}, 400),
    ({"json": {"media_file_id": 99999}}, 404),
    ({"json": {"media_file_id": 2**63}}, 404),  # past SQLite's 64-bit INTEGER: was an OverflowError (500)
])
def test_create_refuses_bad_bodies_and_unknown_media_with_json_errors(host, kwargs, status):
    response = host.post("/api/parties", **kwargs)
    assert response.status_code == status and response.is_json
    assert response.json["message"] and response.json["error"]


def test_create_needs_a_login(papp):
    response = papp.test_client().post("/api/parties", json={"media_file_id": papp.bbb})
    assert response.status_code == 401 and response.is_json


def test_join_answers_a_token_and_sets_it_as_an_httponly_cookie(papp, party):
    guest, response = join(papp, party["code"], "  Sam  ")
    assert response.status_code == 200
    token = response.json["token"]
    assert response.json["party"]["code"] == party["code"] and response.json["party"]["id"] == party["id"]
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"party_{party['code']}="))
    assert cookie.startswith(f"party_{party['code']}={token};")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert guest.get_cookie(f"party_{party['code']}").value == token
    participant_id = tokens.verify_party(papp.config["SECRET_KEY"], token, party["id"])
    with papp.app_context():
        guest_row = get_db().get(Participant, participant_id)
        assert (guest_row.display_name, guest_row.role, guest_row.user_id) == ("Sam", "guest", None)


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {"name": "x" * 41}, {"name": 5}, {}, [], "Sam"])
def test_join_refuses_an_empty_or_too_long_name(papp, party, body):
    response = papp.test_client().post(f"/api/parties/{party['code']}/join", json=body)
    assert response.status_code == 400 and response.is_json
    assert not response.headers.getlist("Set-Cookie")


def test_join_accepts_a_40_character_name_and_refuses_invalid_json(papp, party):
    assert join(papp, party["code"], "x" * 40)[1].status_code == 200
    response = papp.test_client().post(f"/api/parties/{party['code']}/join", data="{\"name\": ",
                                       content_type="application/json")
    assert response.status_code == 400 and response.is_json


def test_join_an_unknown_code_is_404(papp):
    response = join(papp, "nosuchcode")[1]
    assert response.status_code == 404 and response.is_json
    assert papp.test_client().get("/api/parties/nosuchcode").status_code == 404


def test_the_state_is_readable_by_cookie_bearer_and_the_host_user(papp, host, party):
    code = party["code"]
    guest, joined = join(papp, code)
    token = joined.json["token"]
    by_cookie = guest.get(f"/api/parties/{code}")
    by_bearer = papp.test_client().get(f"/api/parties/{code}", headers={"Authorization": f"Bearer {token}"})
    by_host = host.get(f"/api/parties/{code}")
    for response in (by_cookie, by_bearer, by_host):
        assert response.status_code == 200, response.json
        body = response.json
        assert body["code"] == code and body["id"] == party["id"] and body["state"] == "paused"
        assert body["queue"] == {"items": [], "requests": [], "mode": "once"} and isinstance(body["server_ms"], int)
        assert abs(body["server_ms"] - time.time_ns() // 1_000_000) < 5_000


def test_a_stranger_is_401_and_forged_or_other_party_tokens_are_403(papp, host, party):
    code = party["code"]
    stranger = papp.test_client().get(f"/api/parties/{code}")
    assert stranger.status_code == 401 and stranger.is_json
    other = host.post("/api/parties", json={"media_file_id": papp.bbb}).json
    other_token = join(papp, other["code"])[1].json["token"]
    own_token = join(papp, code)[1].json["token"]
    wrong_secret = tokens.issue_party("another-secret-0123456789", party["id"], 1)
    forged = own_token[:-3] + ("AAA" if not own_token.endswith("AAA") else "BBB")
    for bad in (other_token, wrong_secret, forged, "garbage"):
        by_bearer = papp.test_client().get(f"/api/parties/{code}", headers={"Authorization": f"Bearer {bad}"})
        with_cookie = papp.test_client()
        with_cookie.set_cookie(f"party_{code}", bad)
        by_cookie = with_cookie.get(f"/api/parties/{code}")
        for response in (by_bearer, by_cookie):
            assert response.status_code == 403 and response.is_json, bad
    # a token signed for this party naming a participant of another party
    stray = tokens.issue_party(papp.config["SECRET_KEY"], party["id"], tokens.verify_party(
        papp.config["SECRET_KEY"], other_token, other["id"]))
    response = papp.test_client().get(f"/api/parties/{code}", headers={"Authorization": f"Bearer {stray}"})
    assert response.status_code == 403


def test_a_guest_streams_the_party_title_and_nothing_else(papp, party):
    code = party["code"]
    guest, _ = join(papp, code)
    body = guest.get(f"/api/parties/{code}/playback").json
    assert (body["media_file_id"], body["method"], body["kind"]) == (papp.bbb, "direct", "file")
    assert body["resume_ms"] is None
    path = urlparse(body["url"]).path
    data = (MEDIA / BBB_CLIP).read_bytes()
    part = papp.test_client().get(path, headers={"Range": "bytes=100-1099"})  # the URL alone is enough
    assert part.status_code == 206 and part.data == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    refused = guest.get(f"/api/parties/{code}/playback?media_file_id={papp.flower}")
    assert refused.status_code == 404 and refused.is_json
    # a party-scoped stream token for a title outside the party opens nothing
    stray, _ = tokens.issue(papp.config["SECRET_KEY"], 0, papp.flower, 600, time.time(), party["id"])
    assert papp.test_client().get(f"/media/{papp.flower}/{stray}/Flower.mp4").status_code == 403
    assert papp.test_client().get(f"/api/parties/{code}/playback").status_code == 401


def test_an_expired_guest_stream_token_plays_on_while_the_party_runs_and_not_after(papp, host, party):
    # a direct-play guest keeps sending Range requests with the URL it got: longer than the token's TTL
    expired, _ = tokens.issue(papp.config["SECRET_KEY"], 0, papp.bbb, 60, time.time() - 120, party["id"])
    name = quote(BBB.rsplit("/", 1)[1])  # the file's own name, as /playback puts it in the URL
    path = f"/media/{papp.bbb}/{expired}/{name}"
    assert papp.test_client().get(path, headers={"Range": "bytes=0-9"}).status_code == 206
    lone, _ = tokens.issue(papp.config["SECRET_KEY"], 0, papp.bbb, 60, time.time() - 120)  # no party, no user
    assert papp.test_client().get(f"/media/{papp.bbb}/{lone}/{name}").status_code == 403
    assert host.post(f"/api/parties/{party['code']}/end").status_code == 200
    refused = papp.test_client().get(path, headers={"Range": "bytes=0-9"})
    assert refused.status_code == 403 and refused.json["message"] == "stream token has expired"


def test_titles_lists_the_library_for_members_only(papp, party):
    code = party["code"]
    guest, _ = join(papp, code)
    everything = guest.get(f"/api/parties/{code}/titles").json["items"]
    assert sorted(i["media_file_id"] for i in everything) == sorted([papp.bbb, papp.flower])
    assert [i["media_file_id"] for i in guest.get(f"/api/parties/{code}/titles?q=flow").json["items"]] == [
        papp.flower]
    assert guest.get(f"/api/parties/{code}/titles?q=zzz").json == {"items": []}
    assert papp.test_client().get(f"/api/parties/{code}/titles").status_code == 401


def test_after_end_the_guest_token_its_stream_and_new_joins_stop_working(papp, host, party):
    code = party["code"]
    guest, joined = join(papp, code)
    token = joined.json["token"]
    stream = urlparse(guest.get(f"/api/parties/{code}/playback").json["url"]).path
    assert papp.test_client().get(stream, headers={"Range": "bytes=0-9"}).status_code == 206
    assert login(papp, "bob").post(f"/api/parties/{code}/end").status_code == 403  # not the host
    assert guest.post(f"/api/parties/{code}/end").status_code == 401
    ended = host.post(f"/api/parties/{code}/end")
    assert ended.status_code == 200 and ended.json == {"id": party["id"], "code": code, "ended": True}
    assert guest.get(f"/api/parties/{code}").status_code == 404
    bearer = papp.test_client().get(f"/api/parties/{code}", headers={"Authorization": f"Bearer {token}"})
    assert bearer.status_code == 404 and bearer.is_json
    assert guest.get(f"/api/parties/{code}/playback").status_code == 404
    dead = papp.test_client().get(stream, headers={"Range": "bytes=0-9"})
    assert dead.status_code == 403 and dead.is_json
    refused = join(papp, code)[1]
    assert refused.status_code == 404 and refused.is_json and not refused.headers.getlist("Set-Cookie")
    assert host.post(f"/api/parties/{code}/end").status_code == 404
    assert papp.test_client().get(f"/p/{code}/qr.svg").status_code == 404


def test_the_invite_qr_code_is_an_svg(papp, party):
    response = papp.test_client().get(f"/p/{party['code']}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith((b"<?xml", b"<svg")) and b"<svg" in response.data
    assert b"<path" in response.data
    assert papp.test_client().get("/p/nosuchcode/qr.svg").status_code == 404

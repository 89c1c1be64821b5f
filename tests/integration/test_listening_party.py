"""Listening parties over HTTP and Socket.IO (issue 14): a party started from an album with its next
tracks queued, the track's title, artists and cover for every member (a guest through the party), and
`set_queue_mode` / `nudge` through the `/party` namespace."""
import pytest
from redis import Redis

from mediaserver.accounts import create_user
from tests.helpers import NO_RATE_LIMITS, PASSWORD, TEST_REDIS_URL, app_config
from tests.music_library import library  # noqa: F401
from tests.party_world import party, server  # noqa: F401 (fixtures)


@pytest.fixture
def lapp(tmp_path, library, redis_db):  # noqa: F811
    from mediaserver import create_app

    Redis.from_url(TEST_REDIS_URL).flushdb()
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], **NO_RATE_LIMITS))
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    with app.app_context():
        create_user("alice", PASSWORD)
        create_user("bob", PASSWORD)
    return app


def login(app, name="alice"):
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    return client


def album_files(client, title):
    album = next(a for a in client.get("/api/library/albums").json["items"] if a["title"] == title)
    return [t["media_file_id"] for t in client.get(f"/api/library/albums/{album['id']}").json["tracks"]]


def test_a_party_started_from_an_album_queues_its_next_tracks_and_shows_each_track(lapp):
    alice = login(lapp)
    first, *rest = album_files(alice, "Night Album")
    made = alice.post("/api/parties", json={"media_file_id": first, "queue": rest})
    assert made.status_code == 201, made.json
    code = made.json["code"]
    party = alice.get(f"/api/parties/{code}").json
    assert party["title"] == "Solar Band – Dawn" and party["queue_mode"] == "once"
    assert [i["title"] for i in party["queue"]["items"]] == ["Solar Band, Guest Star – Noon", "Solar Band – Dusk"]
    guest = lapp.test_client()
    token = guest.post(f"/api/parties/{code}/join", json={"name": "Sam"}).json["token"]
    answer = guest.get(f"/api/parties/{code}/playback?media_file_id={rest[0]}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.json
    track = answer.json["track"]
    assert (track["title"], track["artists"], track["album"], track["album_artist"]) == \
        ("Noon", ["Solar Band", "Guest Star"], "Night Album", "Solar Band")
    cover = guest.get(track["cover_url"], headers={"Authorization": f"Bearer {token}"})
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg"
    # a file outside the party has no cover for its members; a stranger sees none at all
    outside = album_files(alice, "Tagless")[0]
    assert guest.get(f"/api/parties/{code}/cover/{outside}", headers={"Authorization": f"Bearer {token}"}
                     ).status_code == 404
    assert lapp.test_client().get(track["cover_url"]).status_code == 401


@pytest.mark.parametrize("queue, words", [
    ("3", "queue must be a list"), ([999999], "media file 999999 doesn't exist"), (list(range(1, 300)), "at most 200"),
])
def test_a_bad_queue_makes_no_party(lapp, queue, words):
    alice = login(lapp)
    first = album_files(alice, "Night Album")[0]
    answer = alice.post("/api/parties", json={"media_file_id": first, "queue": queue})
    assert answer.status_code in (400, 404) and words in answer.json["message"], answer.json


def test_the_queue_mode_and_a_nudge_reach_every_member_over_the_socket(party, server):  # noqa: F811
    sam = party.guest("Sam")
    for _ in range(2):
        party.host.send("queue_add", {"media_file_id": server.flower})
    items = sam.wait("queue", lambda q: len(q["items"]) == 2)[0]["items"]
    mark = sam.mark()
    party.host.send("set_queue_mode", {"mode": "circulate"})
    assert party.state(sam, lambda s: s["queue_mode"] == "circulate", mark)["queue_mode"] == "circulate"
    assert sam.wait("queue", lambda q: q["mode"] == "circulate", mark)[0]["items"] == items
    party.host.send("nudge", {"item_id": items[1]["id"]})
    nudged = sam.wait("queue", lambda q: q["items"][0]["id"] == items[1]["id"], mark)[0]
    assert [i["id"] for i in nudged["items"]] == [items[1]["id"], items[0]["id"]]
    mark = sam.mark()
    sam.send("nudge", {"item_id": items[0]["id"]})  # a guest in host mode
    refused = sam.wait("rejected", since=mark)[0]
    assert refused["code"] == "forbidden" and "host" in refused["reason"], refused

"""A user's own playlists over the API: create, rename, add, reorder, remove, delete; bad input a 400
that changes nothing; another user's playlist a 404; entries gone with their tracks."""
import pytest
from sqlalchemy import select

from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.library import playlists
from mediaserver.models import MediaFile, Playlist, PlaylistItem
from tests.helpers import PASSWORD
from tests.music_library import library, music_app  # noqa: F401


@pytest.fixture
def world(music_app):  # noqa: F811
    assert music_app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    with music_app.app_context():
        create_user("alice", PASSWORD)
        create_user("bob", PASSWORD)
    clients = {}
    for name in ("alice", "bob"):
        clients[name] = music_app.test_client()
        assert clients[name].post("/api/auth/login", json={"username": name, "password": PASSWORD}).status_code == 200
    tracks = {t["title"]: t["id"] for t in clients["alice"].get("/api/library/tracks?per_page=500").json["items"]}
    return music_app, clients, tracks


def titles(answer):
    return [item["track"]["title"] for item in answer["items"]]


def test_a_playlist_is_made_renamed_filled_reordered_emptied_and_deleted(world):
    _, clients, ids = world
    alice = clients["alice"]
    made = alice.post("/api/playlists", json={"name": "  Road   trip ", "track_ids": [ids["Noon"], ids["Dawn"]]})
    assert made.status_code == 201, made.json
    playlist = made.json
    assert (playlist["name"], titles(playlist), playlist["track_count"]) == ("Road trip", ["Noon", "Dawn"], 2)
    assert playlist["cover_url"] and 1800 <= playlist["duration_ms"] <= 2400
    url = f"/api/playlists/{playlist['id']}"
    assert alice.patch(url, json={"name": "Evening"}).json["name"] == "Evening"
    # inserted in order at an index, the same track twice allowed
    added = alice.post(f"{url}/items", json={"track_ids": [ids["One"], ids["Two"]], "index": 1}).json
    assert titles(added) == ["Noon", "One", "Two", "Dawn"]
    assert titles(alice.post(f"{url}/items", json={"track_ids": [ids["Noon"]]}).json) == \
        ["Noon", "One", "Two", "Dawn", "Noon"]
    entries = alice.get(url).json["items"]
    moved = alice.patch(f"{url}/items/{entries[3]['id']}", json={"index": 0}).json
    assert titles(moved) == ["Dawn", "Noon", "One", "Two", "Noon"]
    removed = alice.delete(f"{url}/items/{entries[0]['id']}").json  # the first "Noon" only
    assert titles(removed) == ["Dawn", "One", "Two", "Noon"]
    listed = alice.get("/api/playlists").json["items"]
    assert [(p["name"], p["track_count"]) for p in listed] == [("Evening", 4)]
    assert alice.delete(url).status_code == 204
    assert alice.get(url).status_code == 404 and alice.get("/api/playlists").json == {"items": []}
    assert alice.get("/api/library/tracks").json["total"] == 6  # the tracks stay


@pytest.mark.parametrize("method, path, body, words", [
    ("post", "", {"name": ""}, "name must be a non-empty string"),
    ("post", "", {"name": "x" * 201}, "at most 200 characters"),
    ("post", "", {"name": "x", "track_ids": [999999]}, "no track with id 999999"),
    ("post", "", {"name": "x", "track_ids": ["1"]}, "track_ids must be a list"),
    ("post", "", [1, 2], "the body must be a JSON object"),
    ("post", "/{id}/items", {"track_ids": "Noon"}, "track_ids must be a list"),
    ("post", "/{id}/items", {"track_ids": [], "index": 9}, "index must be a whole number from 0 to 1"),
    ("patch", "/{id}/items/{item}", {"index": -1}, "index must be a whole number from 0 to 0"),
    ("patch", "/{id}/items/{item}", {"index": True}, "index must be a whole number"),
    ("patch", "/{id}", {"name": None}, "name must be a non-empty string"),
])
def test_a_bad_request_is_a_400_that_says_why_and_changes_nothing(world, method, path, body, words):
    _, clients, ids = world
    alice = clients["alice"]
    playlist = alice.post("/api/playlists", json={"name": "Keep", "track_ids": [ids["Dusk"]]}).json
    url = "/api/playlists" + path.format(id=playlist["id"], item=playlist["items"][0]["id"])
    response = getattr(alice, method)(url, json=body)
    assert response.status_code == 400 and words in response.json["message"], response.json
    after = alice.get(f"/api/playlists/{playlist['id']}").json
    assert (after["name"], titles(after)) == ("Keep", ["Dusk"])
    assert len(alice.get("/api/playlists").json["items"]) == 1


def test_another_users_playlist_is_not_found_and_cannot_be_changed(world):
    _, clients, ids = world
    mine = clients["alice"].post("/api/playlists", json={"name": "Mine", "track_ids": [ids["Dawn"]]}).json
    bob, url = clients["bob"], f"/api/playlists/{mine['id']}"
    assert bob.get("/api/playlists").json == {"items": []}
    for response in (bob.get(url), bob.patch(url, json={"name": "Taken"}), bob.delete(url),
                     bob.post(f"{url}/items", json={"track_ids": [ids["Noon"]]}),
                     bob.delete(f"{url}/items/{mine['items'][0]['id']}")):
        assert response.status_code == 404 and response.json["message"] == f"playlist {mine['id']} doesn't exist"
    assert titles(clients["alice"].get(url).json) == ["Dawn"] and clients["alice"].get(url).json["name"] == "Mine"
    assert clients["alice"].delete(f"{url}/items/999999").status_code == 404


def test_entries_go_with_their_tracks_when_the_files_leave_the_library(world, library):  # noqa: F811
    app, clients, ids = world
    alice = clients["alice"]
    playlist = alice.post("/api/playlists", json={"name": "Mixed", "track_ids": [ids["One"], ids["Dawn"], ids["Two"]]}).json
    (library / "Mixes" / "Summer" / "01 One.ogg").unlink()
    assert app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    assert titles(alice.get(f"/api/playlists/{playlist['id']}").json) == ["Dawn", "Two"]
    with app.app_context():
        assert get_db().scalar(select(MediaFile).where(MediaFile.path == "Mixes/Summer/01 One.ogg")) is None
        positions = get_db().scalars(select(PlaylistItem.position).order_by(PlaylistItem.position)).all()
        assert len(positions) == 2  # the rows left; their order is still the playlist's


def test_the_limits_hold(world, monkeypatch):
    app, clients, ids = world
    monkeypatch.setattr(playlists, "MAX_ITEMS", 3)
    monkeypatch.setattr(playlists, "MAX_PLAYLISTS", 2)
    alice = clients["alice"]
    first = alice.post("/api/playlists", json={"name": "A", "track_ids": [ids["Dawn"], ids["Noon"]]}).json
    full = alice.post(f"/api/playlists/{first['id']}/items", json={"track_ids": [ids["One"], ids["Two"]]})
    assert full.status_code == 400 and "at most 3 tracks" in full.json["message"]
    assert alice.post("/api/playlists", json={"name": "B"}).status_code == 201
    third = alice.post("/api/playlists", json={"name": "C"})
    assert third.status_code == 400 and "at most 2 playlists" in third.json["message"]
    with app.app_context():
        assert get_db().scalar(select(Playlist).where(Playlist.name == "C")) is None

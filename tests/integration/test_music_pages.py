"""The music pages (web/music_pages.py) over the library of tests/music_library.py: every view is the one
shell with the player bar, an unknown album or artist is a 404 page, and a track's file opened as a
title (`/watch/<id>`, the Files page) goes to its album's page, playing it."""
import pytest

from mediaserver.accounts import create_user
from tests.helpers import PASSWORD
from tests.music_library import library, music_app  # noqa: F401


@pytest.fixture
def pages(music_app):  # noqa: F811
    result = music_app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    with music_app.app_context():
        create_user("alice", PASSWORD)
    client = music_app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return client


def test_every_music_view_is_the_shell_with_the_player_bar(pages):
    album = next(a for a in pages.get("/api/library/albums").json["items"] if a["title"] == "Night Album")
    for url in ("/music", "/music/artists", f"/music/albums/{album['id']}", f"/music/artists/{album['album_artist_id']}",
                "/music/search?q=dawn"):
        page = pages.get(url)
        assert page.status_code == 200, url
        html = page.get_data(as_text=True)
        assert 'id="player-bar"' in html and html.count('class="music-audio"') == 2 and "js/music.js" in html, url
    assert "<title>Night Album</title>" in pages.get(f"/music/albums/{album['id']}").get_data(as_text=True)
    assert pages.get("/music/albums/999999").status_code == 404
    assert pages.get("/music/artists/999999").status_code == 404
    assert 'href="/music"' in pages.get("/").get_data(as_text=True)  # the site's navigation


def test_a_track_opened_as_a_title_plays_in_the_music_player(pages):
    files = pages.get("/api/library/media-files?per_page=500").json["items"]
    dawn = next(f for f in files if f["path"].endswith("01 Dawn.flac"))
    track = next(t for t in pages.get("/api/library/tracks?q=dawn").json["items"])
    assert dawn["track"] == {"id": track["id"], "album_id": track["album_id"]}
    watch = pages.get(f"/watch/{dawn['id']}")
    assert watch.status_code == 302
    assert watch.headers["Location"] == f"/music/albums/{track['album_id']}?play={track['id']}"
    detail = pages.get(f"/media/{dawn['id']}").get_data(as_text=True)
    assert f"/music/albums/{track['album_id']}?play={track['id']}" in detail
    anonymous = pages.application.test_client()
    assert anonymous.get(f"/watch/{dawn['id']}").headers["Location"].startswith("/login")

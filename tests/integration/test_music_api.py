"""The music API and the search over the library built by tests/music_library.py (plus an album with
accented names, and a show with an episode), after a real `flask scan`."""
import pytest
from mutagen.flac import FLAC

from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import Episode, Season, Show
from tests.helpers import PASSWORD
from tests.music_library import library, music_app, tag_vorbis, tone  # noqa: F401


@pytest.fixture
def api(music_app, library):  # noqa: F811
    for number, title in ((1, "Déjà Vu"), (2, "Naïve Song")):
        tag_vorbis(FLAC(tone(library / "Café Tacvba" / "Été" / f"0{number} {title}.flac", 700 + number)), title=title,
                   artist="Café Tacvba", album="Été Indien", tracknumber=str(number), date="1999")
    result = music_app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    with music_app.app_context():
        create_user("alice", PASSWORD)
        show = Show(title="Ça Commence", match_status="off")
        show.seasons.append(Season(number=1, episodes=[Episode(number=1, title="L'Éclair")]))
        get_db().add(show)
        get_db().commit()
    client = music_app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return client


def get(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.json)
    return response.json


def album_id(client, title):
    return next(a["id"] for a in get(client, "/api/library/albums?per_page=500")["items"] if a["title"] == title)


def artist_id(client, name):
    return next(a["id"] for a in get(client, "/api/library/artists?per_page=500")["items"] if a["name"] == name)


def test_albums_are_listed_with_their_artist_tracks_duration_and_cover(api):
    page = get(api, "/api/library/albums")
    assert (page["total"], page["page"], page["per_page"]) == (4, 1, 50)
    # sorted on the folded title: "Été Indien" as "ete indien"
    assert [a["title"] for a in page["items"]] == ["Été Indien", "Night Album", "Summer Mix", "Tagless"]
    night = page["items"][1]
    assert (night["album_artist"], night["track_count"], night["year"], night["is_compilation"]) == \
        ("Solar Band", 3, 2004, False)
    assert 2700 <= night["duration_ms"] <= 3600  # three 1 s tones
    summer = page["items"][2]
    assert (summer["album_artist"], summer["is_compilation"], summer["cover_url"]) == ("Various Artists", True, None)
    cover = api.get(night["cover_url"])
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg"
    assert [a["title"] for a in get(api, "/api/library/albums?sort=year&order=desc")["items"]][:2] == \
        ["Night Album", "Été Indien"]
    by_artist = get(api, f"/api/library/albums?artist_id={artist_id(api, 'Solar Band')}")["items"]
    assert [a["title"] for a in by_artist] == ["Night Album"]
    assert [a["title"] for a in get(api, "/api/library/albums?q=ETE")["items"]] == ["Été Indien"]
    second = get(api, "/api/library/albums?per_page=3&page=2")
    assert [a["title"] for a in second["items"]] == ["Tagless"] and second["total"] == 4


def test_an_album_lists_its_tracks_in_disc_and_track_order_with_every_field(api):
    album = get(api, f"/api/library/albums/{album_id(api, 'Night Album')}")
    assert album["disc_count"] == 2 and album["track_count"] == 3
    tracks = album["tracks"]
    assert [(t["disc_number"], t["track_number"], t["title"]) for t in tracks] == \
        [(1, 1, "Dawn"), (1, 2, "Noon"), (2, 3, "Dusk")]
    noon = tracks[1]
    assert [a["name"] for a in noon["artists"]] == ["Solar Band", "Guest Star"]
    assert (noon["album"], noon["album_id"], noon["album_artist"], noon["cover_url"]) == \
        ("Night Album", album["id"], "Solar Band", album["cover_url"])
    assert noon["media_file_id"] > 0 and 900 <= noon["duration_ms"] <= 1200
    played = api.get(f"/api/media-files/{noon['media_file_id']}")
    assert played.status_code == 200 and played.json["path"].endswith("02 Noon.mp3")


def test_an_artist_has_their_albums_and_the_albums_they_appear_on(api):
    solar = get(api, f"/api/library/artists/{artist_id(api, 'Solar Band')}")
    assert [a["title"] for a in solar["albums"]] == ["Night Album"] and solar["appears_on"] == []
    assert (solar["album_count"], solar["track_count"]) == (1, 3) and solar["cover_url"]
    guest = get(api, f"/api/library/artists/{artist_id(api, 'Guest Star')}")  # the second artist of "A; B"
    assert guest["albums"] == [] and [a["title"] for a in guest["appears_on"]] == ["Night Album"]
    assert guest["track_count"] == 1
    xeno = get(api, f"/api/library/artists/{artist_id(api, 'Xeno')}")
    assert [a["title"] for a in xeno["appears_on"]] == ["Summer Mix"]
    various = get(api, f"/api/library/artists/{artist_id(api, 'Various Artists')}")
    assert [a["title"] for a in various["albums"]] == ["Summer Mix"] and various["track_count"] == 0
    names = [a["name"] for a in get(api, "/api/library/artists")["items"]]
    assert names == ["Café Tacvba", "Folk Duo", "Guest Star", "Solar Band", "Various Artists", "Xeno", "Yara"]
    assert [a["name"] for a in get(api, "/api/library/artists?q=star&order=desc")["items"]] == ["Guest Star"]


def test_tracks_filter_by_album_and_artist_and_sort_by_album_order(api):
    guest = artist_id(api, "Guest Star")
    assert [t["title"] for t in get(api, f"/api/library/tracks?artist_id={guest}")["items"]] == ["Noon"]
    night = album_id(api, "Night Album")
    assert [t["title"] for t in get(api, f"/api/library/tracks?album_id={night}&sort=title")["items"]] == \
        ["Dawn", "Dusk", "Noon"]
    by_album = [t["title"] for t in get(api, "/api/library/tracks?sort=album&per_page=500")["items"]]
    assert by_album.index("Dawn") + 1 == by_album.index("Noon") and by_album.index("Noon") + 1 == by_album.index("Dusk")
    assert get(api, "/api/library/tracks")["total"] == 8
    assert [t["title"] for t in get(api, "/api/library/tracks?q=naive")["items"]] == ["Naïve Song"]


def test_search_finds_every_kind_by_a_part_of_its_name_without_accents(api):
    found = get(api, "/api/search?q=cafe")
    assert [a["name"] for a in found["artists"]] == ["Café Tacvba"]
    assert set(found) == {"q", "movies", "shows", "episodes", "artists", "albums", "tracks"}
    assert [a["title"] for a in get(api, "/api/search?q=ete ind")["albums"]] == ["Été Indien"]
    assert [t["title"] for t in get(api, "/api/search?q=DEJA")["tracks"]] == ["Déjà Vu"]
    episodes = get(api, "/api/search?q=eclair")["episodes"]
    assert [(e["title"], e["show_title"], e["season"], e["number"]) for e in episodes] == \
        [("L'Éclair", "Ça Commence", 1, 1)]
    assert [s["title"] for s in get(api, "/api/search?q=ca commence")["shows"]] == ["Ça Commence"]
    # names starting with q first, then the shorter: "noon", "naive song", then "one" (3) before "dawn" (4)
    assert [t["title"] for t in get(api, "/api/search?q=n&limit=3")["tracks"]] == ["Noon", "Naïve Song", "One"]
    assert get(api, "/api/search?q=zzzz") == {"q": "zzzz", "movies": [], "shows": [], "episodes": [], "artists": [],
                                              "albums": [], "tracks": []}


@pytest.mark.parametrize("url, status, words", [
    ("/api/library/albums?sort=colour", 400, "sort must be one of"),
    ("/api/library/tracks?order=sideways", 400, "order must be asc or desc"),
    ("/api/library/artists?page=0", 400, "page must be between"),
    ("/api/library/albums?artist_id=abc", 400, "artist_id must be a whole number"),
    ("/api/library/albums/999999", 404, "album 999999 doesn't exist"),
    ("/api/library/artists/999999", 404, "artist 999999 doesn't exist"),
    ("/api/search?q=%21%3F", 400, "q must hold a letter or a digit"),
    ("/api/search?q=a&limit=1000", 400, "limit must be between"),
])
def test_a_bad_request_gets_a_json_error_that_says_what_is_wrong(api, url, status, words):
    response = api.get(url)
    assert response.status_code == status and words in response.json["message"], response.json


def test_nothing_of_the_music_is_shown_to_a_visitor_who_is_not_signed_in(api, music_app):
    for url in ("/api/library/albums", "/api/library/artists", "/api/library/tracks", "/api/search?q=cafe"):
        assert music_app.test_client().get(url).status_code == 401

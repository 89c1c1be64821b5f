"""The catalog against the fake TMDB: names, NFO and ids, scored matching, shows, rescans, fix match."""
import os
import textwrap

import pytest

from mediaserver import create_app
from tests.helpers import PASSWORD, app_config, link_clip, make_library, run_worker

LIBRARY = {
    "Movies/RoboCop (1987)/RoboCop (1987).mkv": "video/flower.mp4",
    "Movies/RoboCop (2014)/RoboCop.2014.1080p.BluRay.x264-GRP.mkv": "video/friday.mp4",
    "Movies/Amelie (2001)/Amelie (2001).mp4": "video/crystal.mp4",
    "Movies/Rocky II.mkv": "video/rabbit320.mp4",
    "Movies/Rocky 2 (1979).mp4": "video/bt601.mov",
    "Movies/Matrix [tmdbid-603]/movie.mp4": "video/sample_portrait.mp4",
    "Movies/Some Film/Some Film.mp4": "video/rabbit320.webm",
    "Movies/Zzyzx Quorblat (2011).mp4": "video/flower.webm",
    "Shows/The Office (2001)/Season 01/The Office - S01E01.mkv": "video/friday_multitrack.mkv",
    "Shows/The Office (2005)/Season 02/The Office - S02E01.mkv": "video/sample_with_srt.mkv",
    "Shows/The Office (2005)/Season 02/The Office - S02E01.en.srt": "subtitles/typical.srt",
}
NFO = textwrap.dedent("""\
    <?xml version="1.0" encoding="UTF-8"?>
    <movie><title>Big Buck Bunny</title><year>2008</year>
    <uniqueid type="tmdb" default="true">10378</uniqueid></movie>""")


@pytest.fixture
def catalog_app(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "library", LIBRARY)
    (library / "Movies" / "Some Film" / "movie.nfo").write_text(NFO)
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key,
                                TMDB_API_BASE=fake_tmdb.base_url))
    app.test_cli_runner().invoke(args=["users", "create", "alice", "--password", PASSWORD, "--admin"])
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    app.library = library
    return app


@pytest.fixture
def client(catalog_app):
    client = catalog_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    return client


def movies_by_file(client):
    return {f["path"]: m for m in client.get("/api/library/movies?per_page=100").json["items"] for f in m["files"]}


def test_movies_are_matched_by_confidence_not_by_first_result(client):
    movies = movies_by_file(client)
    assert movies["Movies/RoboCop (1987)/RoboCop (1987).mkv"]["tmdb_id"] == 5548
    assert movies["Movies/RoboCop (2014)/RoboCop.2014.1080p.BluRay.x264-GRP.mkv"]["tmdb_id"] == 97020
    amelie = movies["Movies/Amelie (2001)/Amelie (2001).mp4"]
    assert (amelie["tmdb_id"], amelie["title"], amelie["year"]) == (194, "Amélie", 2001)
    assert movies["Movies/Rocky II.mkv"]["tmdb_id"] == movies["Movies/Rocky 2 (1979).mp4"]["tmdb_id"] == 1367
    assert movies["Movies/Rocky II.mkv"]["id"] == movies["Movies/Rocky 2 (1979).mp4"]["id"]  # one movie, two files


def test_ids_in_names_and_nfo_override_the_search(client, fake_tmdb):
    movies = movies_by_file(client)
    matrix = movies["Movies/Matrix [tmdbid-603]/movie.mp4"]
    assert (matrix["tmdb_id"], matrix["title"], matrix["match_status"]) == (603, "The Matrix", "id")
    bunny = movies["Movies/Some Film/Some Film.mp4"]
    assert (bunny["tmdb_id"], bunny["match_status"]) == (10378, "nfo")
    searched = [p["query"] for path, p in fake_tmdb.requests if path.endswith("/search/movie")]
    assert not any("matrix" in q.lower() or "some film" in q.lower() for q in searched)


def test_a_made_up_title_stays_unmatched_with_its_candidates(client):
    movie = movies_by_file(client)["Movies/Zzyzx Quorblat (2011).mp4"]
    assert movie["tmdb_id"] is None and movie["match_status"] == "unmatched"
    detail = client.get(f"/api/library/movies/{movie['id']}").json
    assert detail["candidates"] and all({"tmdb_id", "title", "year", "score"} <= set(c) for c in detail["candidates"])
    assert all(c["score"] < 0.75 for c in detail["candidates"])


def test_shows_are_told_apart_by_year_and_episodes_get_their_titles(client):
    shows = {s["tmdb_id"]: s for s in client.get("/api/library/shows").json["items"]}
    assert set(shows) == {2996, 2316}
    (uk_episode,) = shows[2996]["seasons"][0]["episodes"]
    assert uk_episode["files"][0]["path"] == "Shows/The Office (2001)/Season 01/The Office - S01E01.mkv"
    (season,) = shows[2316]["seasons"]
    (episode,) = season["episodes"]
    assert (season["number"], episode["season"], episode["number"], episode["title"]) == (2, 2, 1, "The Dundies")
    assert episode["files"] == [{"id": episode["files"][0]["id"],
                                 "path": "Shows/The Office (2005)/Season 02/The Office - S02E01.mkv"}]


def test_details_genres_cast_and_downloaded_posters(catalog_app, client):
    movie = movies_by_file(client)["Movies/RoboCop (1987)/RoboCop (1987).mkv"]
    detail = client.get(f"/api/library/movies/{movie['id']}").json
    assert detail["genres"] and detail["cast"] and detail["overview"] and detail["runtime_min"]
    assert detail["poster_url"].startswith("/images/tmdb-w500-")
    poster = client.get(detail["poster_url"])
    assert poster.status_code == 200 and poster.data.startswith(b"\x89PNG")
    unmatched = movies_by_file(client)["Movies/Zzyzx Quorblat (2011).mp4"]
    frame = client.get(unmatched["poster_url"])  # a frame grabbed with ffmpeg stands in
    assert frame.status_code == 200 and frame.data[:2] == b"\xff\xd8"


def test_filters_and_sorting(client):
    assert client.get("/api/library/movies?q=robo").json["total"] == 2
    assert client.get("/api/library/movies?q=AMÉLIE").json["total"] == 1
    assert [m["year"] for m in client.get("/api/library/movies?q=robocop&sort=year&order=desc").json["items"]] == \
           [2014, 1987]
    genre = client.get("/api/library/movies/" + str(movies_by_file(client)["Movies/Rocky II.mkv"]["id"])).json["genres"][0]
    by_genre = client.get(f"/api/library/movies?genre={genre.lower()}").json
    assert by_genre["total"] >= 1 and all(genre in m["genres"] for m in by_genre["items"])
    assert client.get("/api/library/movies?year=2014").json["total"] == 1
    assert client.get("/api/library/shows?q=office&year=2005").json["total"] == 1
    assert client.get("/api/library/movies?sort=rating").status_code == 400


def test_sidecar_subtitles_are_linked(catalog_app):
    from sqlalchemy import select

    from mediaserver.db import get_db
    from mediaserver.models import MediaFile

    with catalog_app.app_context():
        media = get_db().scalar(select(MediaFile).where(MediaFile.path.like("%S02E01.mkv")))
        assert [(s.path, s.language, s.forced) for s in media.subtitles] == [
            ("Shows/The Office (2005)/Season 02/The Office - S02E01.en.srt", "eng", False)]


def test_a_rescan_sends_no_request_and_a_new_version_of_a_known_title_neither(catalog_app, client, fake_tmdb):
    fake_tmdb.reset()
    assert catalog_app.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    link_clip("video/crystal.mp4", catalog_app.library / "Movies" / "RoboCop (2014)" / "RoboCop (2014).mp4")
    result = catalog_app.test_cli_runner().invoke(args=["scan"])
    assert "added 1," in result.output
    assert fake_tmdb.requests == []
    robocops = client.get("/api/library/movies?q=robocop&year=2014").json["items"]
    assert len(robocops) == 1 and len(robocops[0]["files"]) == 2


def test_fix_match_survives_rescans_and_moves(catalog_app, client):
    zzyzx = movies_by_file(client)["Movies/Zzyzx Quorblat (2011).mp4"]
    found = client.get("/api/tmdb/search?kind=movie&q=The Matrix").json["candidates"]
    assert found[0]["tmdb_id"] == 603
    response = client.post(f"/api/library/movies/{zzyzx['id']}/match", json={"tmdb_id": 10378})
    assert response.status_code == 200 and response.json["match_status"] == "manual"
    assert response.json["title"] == "Big Buck Bunny"
    run_worker(catalog_app)
    file_id = zzyzx["files"][0]["id"]
    ladder = client.get(f"/api/media-files/{file_id}").json["transcode"]
    os.makedirs(catalog_app.library / "Elsewhere")
    os.rename(catalog_app.library / "Movies" / "Zzyzx Quorblat (2011).mp4",
              catalog_app.library / "Elsewhere" / "renamed.mp4")
    assert "moved or renamed: 1" in catalog_app.test_cli_runner().invoke(args=["scan"]).output
    movie = movies_by_file(client)["Elsewhere/renamed.mp4"]
    assert (movie["tmdb_id"], movie["match_status"], movie["files"][0]["id"]) == (10378, "manual", file_id)
    assert client.get(f"/api/media-files/{file_id}").json["transcode"] == ladder


def test_fix_match_needs_an_admin_and_a_valid_id(catalog_app, client):
    movie_id = movies_by_file(client)["Movies/Zzyzx Quorblat (2011).mp4"]["id"]
    assert client.post(f"/api/library/movies/{movie_id}/match", json={"tmdb_id": "x"}).status_code == 400
    assert client.post(f"/api/library/movies/{movie_id}/match", json={"tmdb_id": 424242}).status_code == 404
    catalog_app.test_cli_runner().invoke(args=["users", "create", "bob", "--password", PASSWORD])
    bob = catalog_app.test_client()
    bob.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert bob.post(f"/api/library/movies/{movie_id}/match", json={"tmdb_id": 603}).status_code == 403


def test_without_a_key_titles_come_from_names(tmp_path, redis_db):
    library = make_library(tmp_path / "lib", {"Movies/RoboCop (1987)/RoboCop (1987).mkv": "video/flower.mp4"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=None))
    result = app.test_cli_runner().invoke(args=["scan"])
    assert "no TMDB key" in result.output
    app.test_cli_runner().invoke(args=["users", "create", "alice", "--password", PASSWORD])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    (movie,) = c.get("/api/library/movies").json["items"]
    assert (movie["title"], movie["year"], movie["tmdb_id"], movie["match_status"]) == ("RoboCop", 1987, None, "off")


def test_pages_show_posters_details_seasons_and_episodes(client):
    home = client.get("/")
    assert home.status_code == 200 and b'data-tab="movies"' in home.data and b"TMDB enrichment is off" not in home.data
    movie = movies_by_file(client)["Movies/RoboCop (1987)/RoboCop (1987).mkv"]
    page = client.get(f"/movies/{movie['id']}").data.decode()
    assert "RoboCop" in page and "Cast:" in page and "RoboCop (1987).mkv" in page and "Fix match" in page
    us = next(s for s in client.get("/api/library/shows").json["items"] if s["tmdb_id"] == 2316)
    page = client.get(f"/shows/{us['id']}").data.decode()
    assert "Season 2" in page and "The Dundies" in page
    episode_id = us["seasons"][0]["episodes"][0]["id"]
    page = client.get(f"/episodes/{episode_id}").data.decode()
    assert "The Dundies" in page and "S02E01" in page and "The Office - S02E01.mkv" in page
    assert client.get("/movies/9999").status_code == 404 and client.get("/episodes/9999").status_code == 404


def test_titles_whose_files_are_all_gone_leave_the_catalog(catalog_app, client):
    (catalog_app.library / "Movies" / "Rocky II.mkv").unlink()
    os.unlink(catalog_app.library / "Shows" / "The Office (2005)" / "Season 02" / "The Office - S02E01.mkv")
    result = catalog_app.test_cli_runner().invoke(args=["scan"])
    assert "removed 2" in result.output
    rocky = client.get("/api/library/movies?q=rocky").json["items"]
    assert len(rocky) == 1 and [f["path"] for f in rocky[0]["files"]] == ["Movies/Rocky 2 (1979).mp4"]
    assert [s["tmdb_id"] for s in client.get("/api/library/shows").json["items"]] == [2996]


def test_music_is_not_filed_as_a_movie(tmp_path, redis_db):
    library = make_library(tmp_path / "lib", {"Music/Outfoxing.mp3": "audio/outfoxing.mp3",
                                              "Music/Bear.flac": "audio/bear_with_picture.flac"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)]))
    output = app.test_cli_runner().invoke(args=["scan"]).output
    assert "catalog: 0 movie file(s), 0 episode file(s), 0 unmatched, 2 music track(s)" in output  # issue 14


def test_an_id_arriving_later_adopts_the_unmatched_title(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "lib", {"Movies/Zzyzx Quorblat (2011).mkv": "video/flower.mp4"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key,
                                TMDB_API_BASE=fake_tmdb.base_url))
    runner = app.test_cli_runner()
    runner.invoke(args=["scan"])
    link_clip("video/friday.mp4", library / "Movies" / "Zzyzx Quorblat (2011) [tmdbid-603].mkv")
    link_clip("video/crystal.mp4", library / "Movies" / "Zzyzx Quorblat (2011) Extended.mkv")
    runner.invoke(args=["scan"])
    runner.invoke(args=["users", "create", "alice", "--password", PASSWORD])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    items = c.get("/api/library/movies").json["items"]
    assert [(m["tmdb_id"], len(m["files"])) for m in items] == [(603, 3)]


def test_merging_shows_that_share_a_season(catalog_app, client):
    os.makedirs(catalog_app.library / "Shows" / "Qwxz Blorp" / "Season 02")  # stays unmatched
    link_clip("video/rabbit320.mp4",
              catalog_app.library / "Shows" / "Qwxz Blorp" / "Season 02" / "Qwxz Blorp - S02E02.mkv")
    catalog_app.test_cli_runner().invoke(args=["scan"])
    shows = {s["title"]: s for s in client.get("/api/library/shows").json["items"]}
    stray = shows["Qwxz Blorp"]
    assert stray["tmdb_id"] is None
    response = client.post(f"/api/library/shows/{stray['id']}/match", json={"tmdb_id": 2316})
    assert response.status_code == 200
    (season,) = response.json["seasons"]
    assert [(e["number"], e["title"]) for e in season["episodes"]] == [(1, "The Dundies"), (2, "Sexual Harassment")]
    assert len(client.get("/api/library/shows").json["items"]) == 2


def test_a_moved_file_brings_its_new_sidecars(catalog_app):
    from sqlalchemy import select

    from mediaserver.db import get_db
    from mediaserver.models import MediaFile

    lib = catalog_app.library
    os.makedirs(lib / "Archive")
    os.rename(lib / "Movies" / "Rocky II.mkv", lib / "Archive" / "Rocky II.mkv")
    link_clip("subtitles/friday.vtt", lib / "Archive" / "Rocky II.fr.forced.vtt")
    catalog_app.test_cli_runner().invoke(args=["scan"])
    with catalog_app.app_context():
        media = get_db().scalar(select(MediaFile).where(MediaFile.path == "Archive/Rocky II.mkv"))
        assert [(s.path, s.language, s.forced, s.format) for s in media.subtitles] == [
            ("Archive/Rocky II.fr.forced.vtt", "fre", True, "webvtt")]


def test_media_files_can_be_filtered_and_sorted(client):
    def paths(query):
        return [i["path"] for i in client.get(f"/api/library/media-files?{query}").json["items"]]

    assert paths("q=robocop") == ["Movies/RoboCop (1987)/RoboCop (1987).mkv",
                                  "Movies/RoboCop (2014)/RoboCop.2014.1080p.BluRay.x264-GRP.mkv"]
    assert paths("year=2005") == ["Shows/The Office (2005)/Season 02/The Office - S02E01.mkv"]
    assert "Movies/Amelie (2001)/Amelie (2001).mp4" in paths("genre=romance")
    sizes = [i["size"] for i in client.get("/api/library/media-files?sort=size&order=desc").json["items"]]
    assert sizes == sorted(sizes, reverse=True) and len(sizes) == 10
    assert client.get("/api/library/media-files?sort=nope").status_code == 400


def test_titles_sort_without_their_article_and_unknown_years_last(client):
    titles = [m["title"] for m in client.get("/api/library/movies?per_page=100").json["items"]]
    assert titles.index("The Matrix") > titles.index("Big Buck Bunny")  # under M
    years = [m["year"] for m in client.get("/api/library/movies?sort=year&order=desc").json["items"]]
    assert years == sorted(years, reverse=True)


def test_an_imdb_id_in_the_name_or_nfo_is_translated_and_overrides_the_search(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "lib", {
        "Movies/Some Thing [imdbid-tt0133093]/Some Thing.mkv": "video/flower.mp4",
        "Movies/Other/Other.mkv": "video/friday.mp4",
    })
    (library / "Movies" / "Other" / "Other.nfo").write_text(
        '<movie><title>Other</title><uniqueid type="imdb">tt1234721</uniqueid></movie>')
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key,
                                TMDB_API_BASE=fake_tmdb.base_url))
    app.test_cli_runner().invoke(args=["scan"])
    app.test_cli_runner().invoke(args=["users", "create", "alice", "--password", PASSWORD])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    found = {m["files"][0]["path"]: (m["tmdb_id"], m["title"]) for m in c.get("/api/library/movies").json["items"]}
    assert found == {"Movies/Some Thing [imdbid-tt0133093]/Some Thing.mkv": (603, "The Matrix"),
                     "Movies/Other/Other.mkv": (97020, "RoboCop")}
    assert not [p for p, _ in fake_tmdb.requests if "/search/" in p]


def test_an_episode_file_named_by_its_title_finds_its_number(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "lib", {"Shows/Breaking Bad (2008)/Season 01/Pilot.mkv": "video/flower.mp4",
                                              "Shows/Breaking Bad (2008)/Season 01/Unknown Thing.mkv": "video/friday.mp4"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key,
                                TMDB_API_BASE=fake_tmdb.base_url))
    output = app.test_cli_runner().invoke(args=["scan"]).output
    assert "1 episode file(s) without an episode number" in output
    app.test_cli_runner().invoke(args=["users", "create", "alice", "--password", PASSWORD])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert c.get("/api/library/movies").json["total"] == 0  # never a film called "Breaking Bad"
    (show,) = c.get("/api/library/shows").json["items"]
    (episode,) = show["seasons"][0]["episodes"]
    assert (show["tmdb_id"], episode["number"], episode["title"]) == (1396, 1, "Pilot")


def test_without_a_key_the_page_says_why_it_cannot_be_matched(tmp_path, redis_db):
    library = make_library(tmp_path / "lib", {"Movies/RoboCop (1987)/RoboCop (1987).mkv": "video/flower.mp4"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=None))
    app.test_cli_runner().invoke(args=["scan"])
    app.test_cli_runner().invoke(args=["users", "create", "root", "--password", PASSWORD, "--admin"])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "root", "password": PASSWORD})
    page = c.get("/movies/1").data.decode()
    assert "TMDB enrichment is off" in page and "Fix match" not in page
    assert "TMDB enrichment is off" in c.get("/").data.decode()

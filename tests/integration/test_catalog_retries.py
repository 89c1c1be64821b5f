"""The catalog when TMDB fails or has no key yet: later scans retry, nothing is lost or blocked."""

from mediaserver import create_app
from tests.helpers import PASSWORD, app_config, make_library


def test_a_tmdb_outage_is_retried_by_the_next_scan_and_keeps_subtitles(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "lib", {
        "Movies/RoboCop (1987)/RoboCop (1987).mkv": "video/flower.mp4",
        "Movies/RoboCop (1987)/RoboCop (1987).en.srt": "subtitles/typical.srt",
        "Movies/Amelie (2001)/Amelie (2001).mp4": "video/crystal.mp4",
        "Movies/Rocky II.mkv": "video/rabbit320.mp4",
        "Movies/The Matrix (1999).mkv": "video/bt601.mov",
    })
    down = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key,
                                 TMDB_API_BASE="http://127.0.0.1:1/3", TMDB_MAX_RETRIES=0))
    result = down.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0 and "TMDB unreachable" in result.output
    up = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key,
                               TMDB_API_BASE=fake_tmdb.base_url))
    up.test_cli_runner().invoke(args=["users", "create", "alice", "--password", PASSWORD])
    c = up.test_client()
    c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    before = {m["title"]: m for m in c.get("/api/library/movies").json["items"]}
    assert {m["match_status"] for m in before.values()} == {"error"}  # the breaker stopped asking after 3
    assert up.test_cli_runner().invoke(args=["scan"]).exit_code == 0
    after = {m["files"][0]["path"]: m for m in c.get("/api/library/movies").json["items"]}
    assert after["Movies/RoboCop (1987)/RoboCop (1987).mkv"]["tmdb_id"] == 5548
    assert after["Movies/Amelie (2001)/Amelie (2001).mp4"]["tmdb_id"] == 194
    assert after["Movies/The Matrix (1999).mkv"]["tmdb_id"] == 603
    from sqlalchemy import select

    from mediaserver.db import get_db
    from mediaserver.models import MediaFile

    with up.app_context():
        robocop = get_db().scalar(select(MediaFile).where(MediaFile.path.like("%RoboCop (1987).mkv")))
        assert [s.language for s in robocop.subtitles] == ["eng"]


def test_a_key_added_later_matches_titles_made_without_one(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "lib", {"Movies/RoboCop (2014)/RoboCop (2014).mkv": "video/flower.mp4"})
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)], TMDB_API_BASE=fake_tmdb.base_url))
    runner = app.test_cli_runner()
    runner.invoke(args=["scan"])
    runner.invoke(args=["users", "create", "alice", "--password", PASSWORD, "--admin"])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert c.get("/api/library/movies").json["items"][0]["match_status"] == "off"
    c.post("/admin/settings", data={"tmdb_api_key": fake_tmdb.api_key})
    runner.invoke(args=["scan"])
    (movie,) = c.get("/api/library/movies").json["items"]
    assert (movie["tmdb_id"], movie["match_status"]) == (97020, "matched")


def _movies(app):
    app.test_cli_runner().invoke(args=["users", "create", "viewer", "--password", PASSWORD])
    c = app.test_client()
    c.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
    return c.get("/api/library/movies?per_page=100").json["items"]


def test_ids_seen_while_tmdb_was_down_get_their_details_later(tmp_path, fake_tmdb, redis_db):
    library = make_library(tmp_path / "lib", {"Movies/Matrix [tmdbid-603]/movie.mp4": "video/flower.mp4",
                                              "Movies/Thing [imdbid-tt0133093]/movie.mp4": "video/friday.mp4"})
    settings = dict(LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key, TMDB_MAX_RETRIES=0)
    create_app(app_config(tmp_path, TMDB_API_BASE="http://127.0.0.1:1/3", **settings)).test_cli_runner().invoke(
        args=["scan"])
    up = create_app(app_config(tmp_path, TMDB_API_BASE=fake_tmdb.base_url, **settings))
    up.test_cli_runner().invoke(args=["scan"])
    (movie,) = _movies(up)  # the IMDb id was kept for a later scan, not filed under "Thing"
    assert (movie["tmdb_id"], movie["title"], movie["match_status"]) == (603, "The Matrix", "id")
    assert movie["overview"] and movie["genres"] and len(movie["files"]) == 2


def test_a_title_that_keeps_failing_does_not_hold_up_the_others(tmp_path, fake_tmdb, redis_db):
    fake_tmdb.slow_s = 3  # "Slow Answer" always times out
    library = make_library(tmp_path / "lib", {"Movies/Slow Answer.mkv": "video/friday.mp4",
                                              "Movies/RoboCop (1987).mkv": "video/flower.mp4",
                                              "Movies/Amelie (2001).mp4": "video/crystal.mp4"})
    settings = dict(LIBRARY_ROOTS=[str(library)], TMDB_API_KEY=fake_tmdb.api_key, TMDB_MAX_RETRIES=0,
                    TMDB_TIMEOUT_S=1)
    create_app(app_config(tmp_path, TMDB_API_BASE="http://127.0.0.1:1/3", **settings)).test_cli_runner().invoke(
        args=["scan"])
    up = create_app(app_config(tmp_path, TMDB_API_BASE=fake_tmdb.base_url, **settings))
    up.test_cli_runner().invoke(args=["scan"])
    status = {m["title"]: (m["tmdb_id"], m["match_status"]) for m in _movies(up)}
    assert status == {"Slow Answer": (None, "error"), "RoboCop": (5548, "matched"), "Amélie": (194, "matched")}

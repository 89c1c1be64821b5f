"""TMDBClient against the fake TMDB (tests/fake_tmdb.py): auth, errors, retries, cache, matching, images."""
from __future__ import annotations

import secrets
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from mediaserver.scanner.match import Candidate
from mediaserver.scanner.tmdb import MAX_RETRY_AFTER_S, TMDBClient, TMDBError, _parse_retry_after


class SleepRecorder:
    """Injected `sleep`: records the requested delays (s) instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(fake, key=None, **kwargs) -> TMDBClient:
    kwargs.setdefault("sleep", SleepRecorder())
    return TMDBClient(key or fake.api_key, base_url=fake.base_url, **kwargs)


def test_v3_key_goes_as_query_parameter(fake_tmdb):
    client = make_client(fake_tmdb)
    results = client.search_movie("The Matrix", 1999)
    assert [(c.tmdb_id, c.kind, c.title, c.year) for c in results] == [(603, "movie", "The Matrix", 1999)]
    path, params = fake_tmdb.requests[0]
    assert path == "/3/search/movie"
    assert params == {"api_key": fake_tmdb.api_key, "query": "The Matrix", "year": "1999",
                      "include_adult": "false", "language": "en-US", "page": "1"}
    assert client.requests_sent == 1


def test_v4_token_goes_as_bearer_header(fake_tmdb):
    client = make_client(fake_tmdb, key=fake_tmdb.read_token)
    assert client.movie(603)["title"] == "The Matrix"
    assert "api_key" not in fake_tmdb.requests[0][1]


def test_key_of_unknown_shape_is_refused():
    with pytest.raises(ValueError, match="neither"):
        TMDBClient("not-a-key")


def test_wrong_key_raises_401_at_once(fake_tmdb):
    sleep = SleepRecorder()
    client = make_client(fake_tmdb, key=secrets.token_hex(16), sleep=sleep)
    with pytest.raises(TMDBError, match="Invalid API key") as err:
        client.search_movie("RoboCop")
    assert err.value.status == 401
    assert "401" in str(err.value)
    assert client.requests_sent == 1 and sleep.calls == []


def test_unknown_id_raises_404_at_once(fake_tmdb):
    client = make_client(fake_tmdb)
    with pytest.raises(TMDBError, match="could not be found") as err:
        client.movie(1)
    assert err.value.status == 404
    assert client.requests_sent == 1


def test_429_waits_retry_after_then_succeeds(fake_tmdb):
    sleep = SleepRecorder()
    client = make_client(fake_tmdb, sleep=sleep, backoff_s=0.25)
    results = client.search_movie("Rate Limited")
    assert [c.tmdb_id for c in results] == [9000004]
    assert sleep.calls == [1.0]  # Retry-After: 1, not backoff_s
    assert client.requests_sent == 2


def test_slow_answer_raises_after_retries_in_bounded_time(fake_tmdb):
    sleep = SleepRecorder()
    client = make_client(fake_tmdb, sleep=sleep, timeout_s=0.3, max_retries=2, backoff_s=0.5)
    started = time.monotonic()
    with pytest.raises(TMDBError, match="ReadTimeout") as err:
        client.search_movie("Slow Answer")
    elapsed_s = time.monotonic() - started
    assert err.value.status is None
    assert fake_tmdb.api_key not in str(err.value)
    assert client.requests_sent == 3
    assert sleep.calls == [0.5, 1.0]  # exponential backoff: backoff_s * 2**attempt
    assert elapsed_s < 3 * 0.3 + 1.0  # three timeouts, no real sleeping


def test_disk_cache_second_client_sends_nothing(fake_tmdb, tmp_path):
    def lookups(client):
        return (client.search_movie("RoboCop", 1987), client.search_tv("The Office"), client.movie(5548),
                client.tv(2316), client.season(2316, 2), client.episode(2316, 2, 1), client.configuration())

    first = make_client(fake_tmdb, cache_dir=str(tmp_path / "cache"))
    expected = lookups(first)
    assert first.requests_sent == 7
    fake_tmdb.reset()
    second = make_client(fake_tmdb, cache_dir=str(tmp_path / "cache"))
    assert lookups(second) == expected
    assert second.requests_sent == 0 and fake_tmdb.requests == []
    for cached in (tmp_path / "cache").iterdir():
        assert fake_tmdb.api_key not in cached.read_text(encoding="utf-8")


def test_cache_key_ignores_the_key_but_not_the_language(fake_tmdb, tmp_path):
    cache = str(tmp_path / "cache")
    make_client(fake_tmdb, cache_dir=cache).movie(603)
    by_token = make_client(fake_tmdb, key=fake_tmdb.read_token, cache_dir=cache)
    by_token.movie(603)
    assert by_token.requests_sent == 0
    in_french = make_client(fake_tmdb, cache_dir=cache, language="fr-FR")
    in_french.movie(603)
    assert in_french.requests_sent == 1


def test_errors_are_not_cached(fake_tmdb, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(TMDBError):
        make_client(fake_tmdb, cache_dir=str(cache)).movie(1)
    assert list(cache.iterdir()) == []


def test_search_result_fields(fake_tmdb):
    client = make_client(fake_tmdb)
    (amelie,) = client.search_movie("Amelie")
    assert amelie == Candidate(194, "movie", "Amélie", "Le Fabuleux Destin d'Amélie Poulain", 2001,
                               overview=amelie.overview, poster_path="/amelie.jpg", popularity=40.1)
    us, uk = client.search_tv("The Office")
    assert (us.tmdb_id, us.year, us.origin_country) == (2316, 2005, ("US",))
    assert (uk.tmdb_id, uk.year, uk.origin_country) == (2996, 2001, ("GB",))


def test_details_carry_credits(fake_tmdb):
    client = make_client(fake_tmdb)
    robocop = client.movie(5548)
    assert (robocop["runtime"], robocop["release_date"]) == (102, "1987-07-17")
    assert "Peter Weller" in [c["name"] for c in robocop["credits"]["cast"]]
    assert fake_tmdb.requests[-1][1]["append_to_response"] == "credits"
    office = client.tv(2316)
    assert office["origin_country"] == ["US"] and office["credits"]["cast"][0]["name"] == "Steve Carell"


def test_season_and_episode_details(fake_tmdb):
    client = make_client(fake_tmdb)
    season = client.season(2316, 2)
    assert [e["name"] for e in season["episodes"][:2]] == ["The Dundies", "Sexual Harassment"]
    assert client.episode(2316, 2, 1)["name"] == "The Dundies"
    assert client.episode(1396, 1, 1)["name"] == "Pilot"
    assert fake_tmdb.api_paths()[-1] == "/tv/1396/season/1/episode/1"


@pytest.mark.parametrize(("year", "expected"), [(1987, 5548), (2014, 97020), (2013, 97020), (None, 97020)])
def test_find_movie_robocop(fake_tmdb, year, expected):
    decision = make_client(fake_tmdb).find_movie("RoboCop", year)
    assert decision.best is not None and decision.best.tmdb_id == expected


def test_find_movie_falls_back_to_search_without_year(fake_tmdb):
    client = make_client(fake_tmdb)
    decision = client.find_movie("Rocky 2", 1980)  # TMDB's strict year filter finds nothing for 1980
    assert decision.best is not None and decision.best.tmdb_id == 1367
    assert [p["year"] if "year" in p else None for _, p in fake_tmdb.requests] == ["1980", None]


def test_find_movie_exact_year_searches_once(fake_tmdb):
    client = make_client(fake_tmdb)
    assert client.find_movie("Amelie", 2001).best.tmdb_id == 194
    assert client.find_movie("Rocky II", 1979).best.tmdb_id == 1367
    assert client.requests_sent == 2


def test_find_movie_made_up_title_unmatched_with_candidates(fake_tmdb):
    decision = make_client(fake_tmdb).find_movie("Zzyzx Quorblat", 2021)
    assert decision.best is None
    assert {c.tmdb_id for c, _ in decision.scored} == {9000001, 9000002, 9000003}


@pytest.mark.parametrize(("year", "country", "expected"),
                         [(2001, None, 2996), (2005, None, 2316), (None, "GB", 2996), (None, "US", 2316)])
def test_find_show_the_office(fake_tmdb, year, country, expected):
    decision = make_client(fake_tmdb).find_show("The Office", year, country)
    assert decision.best is not None and decision.best.tmdb_id == expected


def test_image_url_and_download(fake_tmdb):
    client = make_client(fake_tmdb)
    (matrix,) = client.search_movie("The Matrix")
    url = client.image_url(matrix.poster_path)
    assert url == fake_tmdb.base_url.replace("/3", "/img/w500/matrix.jpg")
    assert client.image_url(matrix.poster_path, "original").endswith("/img/original/matrix.jpg")
    data = client.download(url)
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data == fake_tmdb.png
    image_path, image_params = fake_tmdb.requests[-1]
    assert image_path == "/img/w500/matrix.jpg" and image_params == {}  # the key is not sent to images
    assert fake_tmdb.api_paths().count("/configuration") == 1  # configuration fetched once


def test_retry_after_forms_and_cap():
    assert _parse_retry_after("2") == 2.0
    assert _parse_retry_after(None) is None and _parse_retry_after("soon") is None
    in_10_s = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=10), usegmt=True)
    assert 8.0 <= _parse_retry_after(in_10_s) <= 10.0
    sleep = SleepRecorder()
    client = TMDBClient("0" * 32, sleep=sleep, backoff_s=0.25)
    client._wait(0, "3600", "429")  # an hour is capped: a scan must not stall
    client._wait(2, None, "503")
    assert sleep.calls == [MAX_RETRY_AFTER_S, 1.0]

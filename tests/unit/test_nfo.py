"""Kodi NFO text -> facts, and facts applied over a name guess (both pure)."""
from mediaserver.scanner.names import NameGuess, guess_from_path
from mediaserver.scanner.nfo import NfoInfo, apply_nfo, parse_nfo

MOVIE_NFO = """<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>
<!-- written by Kodi -->
<movie>
    <title>The Matrix</title>
    <plot>A hacker learns the truth.</plot>
    <uniqueid type="imdb">tt0133093</uniqueid>
    <uniqueid type="tmdb" default="true">603</uniqueid>
    <premiered>1999-03-31</premiered>
</movie>
"""


def test_movie_with_uniqueids_and_premiered_year():
    assert parse_nfo(MOVIE_NFO) == NfoInfo(kind="movie", title="The Matrix", year=1999,
                                           plot="A hacker learns the truth.", tmdb_id=603, imdb_id="tt0133093")


def test_year_element_wins_over_dates_and_legacy_ids():
    nfo = parse_nfo("<movie><title>Amélie</title><year>2001</year><releasedate>2002-01-01</releasedate>"
                    "<id>194</id><imdbid>tt0211915</imdbid></movie>")
    assert (nfo.title, nfo.year, nfo.tmdb_id, nfo.imdb_id) == ("Amélie", 2001, 194, "tt0211915")


def test_legacy_id_that_looks_like_imdb():
    nfo = parse_nfo("<movie><id>tt0133093</id><tmdbid>603</tmdbid></movie>")
    assert (nfo.tmdb_id, nfo.imdb_id, nfo.title, nfo.year, nfo.plot) == (603, "tt0133093", None, None, None)


def test_tvshow_numeric_id_is_not_tmdb():
    nfo = parse_nfo("<tvshow><title>Breaking Bad</title><id>81189</id><premiered>2008-01-20</premiered>"
                    "<season>5</season></tvshow>")
    assert nfo == NfoInfo(kind="tvshow", title="Breaking Bad", year=2008, plot=None, tmdb_id=None, imdb_id=None)


def test_episode_details():
    nfo = parse_nfo("<episodedetails><title>Gray Matter</title><season>1</season><episode>5</episode>"
                    "<aired>2008-02-24</aired><plot>Walt declines.</plot>"
                    '<uniqueid type="tmdb">62089</uniqueid></episodedetails>')
    assert nfo == NfoInfo(kind="episode", title="Gray Matter", year=2008, plot="Walt declines.", tmdb_id=62089,
                          imdb_id=None, season=1, episode=5)


def test_multi_episode_file_takes_the_first_and_trailing_url_is_ignored():
    text = ("<episodedetails><title>One</title><season>1</season><episode>1</episode></episodedetails>\n"
            "<episodedetails><title>Two</title><season>1</season><episode>2</episode></episodedetails>\n")
    assert (parse_nfo(text).title, parse_nfo(text).episode) == ("One", 1)
    combo = "<movie><title>X</title></movie>\nhttps://www.themoviedb.org/movie/603\n"
    assert parse_nfo(combo).title == "X"


def test_not_nfo_xml_gives_none():
    assert parse_nfo("https://www.themoviedb.org/movie/603-the-matrix\n") is None
    assert parse_nfo("<movie><title>Broken</movie>") is None
    assert parse_nfo("<root><title>X</title></root>") is None
    assert parse_nfo("") is None


def test_dtd_and_entities_are_refused():
    laughs = ('<?xml version="1.0"?><!DOCTYPE movie [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
              "<movie><title>&b;</title></movie>")
    assert parse_nfo(laughs) is None
    assert parse_nfo('<!doctype movie SYSTEM "file:///etc/passwd"><movie><title>X</title></movie>') is None


def test_bom_is_tolerated():
    assert parse_nfo("\ufeff<movie><title>X</title></movie>").title == "X"


def test_movie_nfo_overrides_the_name_guess():
    guess = guess_from_path("Matrix (1998)/grp-mtrx.mkv")
    applied = apply_nfo(guess, parse_nfo(MOVIE_NFO))
    assert applied == NameGuess(kind="movie", title="The Matrix", year=1999, tmdb_id=603, imdb_id="tt0133093",
                                plot="A hacker learns the truth.", source="nfo")


def test_missing_nfo_values_keep_the_guess():
    guess = NameGuess(kind="movie", title="Rocky II", year=1979, tmdb_id=1367, country="US")
    applied = apply_nfo(guess, NfoInfo(kind="movie", title=None, year=None, plot="Rematch.", tmdb_id=None,
                                       imdb_id=None))
    assert applied == NameGuess(kind="movie", title="Rocky II", year=1979, tmdb_id=1367, country="US",
                                plot="Rematch.", source="nfo")


def test_tvshow_nfo_gives_the_show_and_keeps_the_episode():
    guess = guess_from_path("Office/Season 2/S02E01-E02 - The Dundies.mkv")
    show = NfoInfo(kind="tvshow", title="The Office", year=2005, plot="A mockumentary.", tmdb_id=2316,
                   imdb_id="tt0386676")
    applied = apply_nfo(guess, show)
    assert applied == NameGuess(kind="episode", title="The Office", year=2005, season=2, episodes=(1, 2),
                                episode_title="The Dundies", tmdb_id=2316, imdb_id="tt0386676", source="nfo")


def test_episode_nfo_gives_episode_fields_not_show_ids():
    guess = NameGuess(kind="episode", title="Breaking Bad", year=2008, season=1, episodes=(4,), tmdb_id=1396)
    episode = NfoInfo(kind="episode", title="Gray Matter", year=2008, plot="Walt declines.", tmdb_id=62089,
                      imdb_id=None, season=1, episode=5)
    assert apply_nfo(guess, episode) == NameGuess(
        kind="episode", title="Breaking Bad", year=2008, season=1, episodes=(5,), episode_title="Gray Matter",
        tmdb_id=1396, plot="Walt declines.", source="nfo")
    multi = NameGuess(kind="episode", title="Show", year=None, season=1, episodes=(5, 6))
    assert apply_nfo(multi, episode).episodes == (5, 6)

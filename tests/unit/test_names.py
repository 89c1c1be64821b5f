"""File paths -> title guesses (pure: guessit on the name, the Jellyfin/Kodi folder layout around it)."""
import pytest

from mediaserver.scanner.names import NameGuess, guess_from_path, provider_ids, season_folder_number


def _fields(guess: NameGuess, *names: str) -> tuple:
    return tuple(getattr(guess, name) for name in names)


@pytest.mark.parametrize(("rel_path", "title", "year"), [
    ("Movies/RoboCop (2014)/RoboCop (2014).mkv", "RoboCop", 2014),
    ("Rocky II.avi", "Rocky II", None),
    ("Movie (1999)/movie.mkv", "Movie", 1999),  # poor file name: the folder wins
    ("Movie (1999)/grp-mtrx1080p.mkv", "Movie", 1999),  # release-group name: the folder wins
    ("The Matrix (1999)/the.matrix.1999.1080p.bluray.x264-GRP.mkv", "The Matrix", 1999),
    ("Rocky (1976)/Rocky II (1979).avi", "Rocky II", 1979),  # the file's different year: the file wins
    ("Movies/Big.Buck.Bunny.2008.720p.mkv", "Big Buck Bunny", 2008),  # `Movies` is no movie folder
    ("Léon (1994)/Léon.mkv", "Léon", 1994),  # accents kept
])
def test_movies_from_file_and_movie_folder(rel_path, title, year):
    guess = guess_from_path(rel_path)
    assert _fields(guess, "kind", "title", "year", "season", "episodes", "source") == (
        "movie", title, year, None, (), "name")


def test_no_good_title_falls_back_to_guessits_title_of_the_file_name():
    guess = guess_from_path("video/bbb_h264_aac_720p_30s.mp4")
    assert (guess.kind, guess.title, guess.year) == ("movie", "bbb", None)


def test_title_is_never_empty():
    assert guess_from_path("S01E03.mkv").title == "S01E03"
    assert guess_from_path("Shows/05.mkv").title


def test_multi_episode_with_episode_title_and_country():
    guess = guess_from_path("Shows/The Office (US)/Season 02/The Office (US) - S02E01-E02 - The Dundies.mkv")
    assert guess == NameGuess(kind="episode", title="The Office", year=None, season=2, episodes=(1, 2),
                              episode_title="The Dundies", country="US")


def test_uk_country_in_show_folder_is_gb():
    guess = guess_from_path("Shows/The Office (UK)/Season 1/S01E01.mkv")
    assert _fields(guess, "kind", "title", "country", "season", "episodes") == ("episode", "The Office", "GB", 1, (1,))


@pytest.mark.parametrize(("rel_path", "title", "year", "season", "episodes", "episode_title"), [
    ("Breaking Bad/Season 1/05.mkv", "Breaking Bad", None, 1, (5,), None),
    ("The Office (2005)/Season 1/S01E03.mkv", "The Office", 2005, 1, (3,), None),
    ("Doctor Who (2005)/Season 01/Doctor Who (2005) - S01E01 - Rose.mkv", "Doctor Who", 2005, 1, (1,), "Rose"),
    ("Breaking Bad/Season 1/Breaking Bad - 1x05 - Gray Matter.mkv", "Breaking Bad", None, 1, (5,), "Gray Matter"),
    ("Some Show/Season 1/Some Show S01E01E02E03.mkv", "Some Show", None, 1, (1, 2, 3), None),
    ("Some Show/Specials/S00E02.mkv", "Some Show", None, 0, (2,), None),
    ("Shows/Breaking Bad/05.mkv", "Breaking Bad", None, None, (5,), None),  # no season folder: the file's folder
    ("Some Show/Season 3/Pilot.mkv", "Some Show", None, 3, (), "Pilot"),  # in a season folder: an episode
    # no show name in the file: guessit alone would call "The Dundies" the show
    ("Office/Season 2/S02E01-E02 - The Dundies.mkv", "Office", None, 2, (1, 2), "The Dundies"),
    ("Office (2005)/S02E01 - The Dundies.mkv", "Office", 2005, 2, (1,), "The Dundies"),
])
def test_episodes_take_the_show_from_the_folders(rel_path, title, year, season, episodes, episode_title):
    guess = guess_from_path(rel_path)
    assert _fields(guess, "kind", "title", "year", "season", "episodes", "episode_title") == (
        "episode", title, year, season, episodes, episode_title)


def test_folder_year_not_taken_for_a_different_show():
    guess = guess_from_path("Misc (2001)/Season 1/Other Show S01E02.mkv")
    assert (guess.title, guess.year) == ("Other Show", None)


@pytest.mark.parametrize(("rel_path", "title", "tmdb_id", "imdb_id"), [
    ("Amelie (2001) [tmdbid-194].mp4", "Amelie", 194, None),
    ("Amélie (2001) [tmdb-194].mp4", "Amélie", 194, None),
    ("The Matrix (1999) {tmdb-603}/The Matrix (1999) {imdb-tt0133093}.mkv", "The Matrix", 603, "tt0133093"),
    ("The Matrix (1999) {tmdbid-603}/matrix.mkv", "The Matrix", 603, None),
    ("The Matrix [imdbid-tt0133093]/the.matrix.1080p.mkv", "The Matrix", None, "tt0133093"),
    ("The Matrix (1999) [tmdbid-603]/The Matrix (1999) [tmdbid-604].mkv", "The Matrix", 604, None),  # file first
])
def test_provider_ids_from_file_and_folders_are_stripped_from_titles(rel_path, title, tmdb_id, imdb_id):
    guess = guess_from_path(rel_path)
    assert (guess.kind, guess.title, guess.tmdb_id, guess.imdb_id) == ("movie", title, tmdb_id, imdb_id)


def test_show_folder_provider_id_reaches_episodes():
    guess = guess_from_path("Breaking Bad (2008) [tmdbid-1396]/Season 1/Breaking Bad - S01E05 - Gray Matter.mkv")
    assert _fields(guess, "kind", "title", "year", "tmdb_id", "season", "episodes", "episode_title") == (
        "episode", "Breaking Bad", 2008, 1396, 1, (5,), "Gray Matter")


def test_provider_id_tags():
    assert provider_ids("X [tmdbid-603] {imdb-tt0133093}") == (603, "tt0133093")
    assert provider_ids("X {TMDB=603}") == (603, None)
    assert provider_ids("X [tmdbid-abc] [imdbid-603]") == (None, None)  # malformed values are no ids
    assert provider_ids("X (2001)") == (None, None)


def test_season_folders():
    assert [season_folder_number(n) for n in ("Season 02", "season 1", "S03", "Specials", "Extras", "Season")] == [
        2, 1, 3, 0, None, None]


def test_empty_path_is_an_error():
    with pytest.raises(ValueError):
        guess_from_path("")

"""NFO and subtitle sidecars found and read on a real folder tree (tmp_path as the library root)."""
import os

import pytest

from mediaserver.scanner.names import guess_from_path
from mediaserver.scanner.nfo import find_nfo, nfo_for
from mediaserver.scanner.sidecars import SidecarSubtitle, find_sidecars


def _write(root, rel, text=""):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return str(path)


def _guess_with_nfo(root, rel):
    return nfo_for(str(root / rel), str(root), guess_from_path(rel))


def test_movie_nfo_with_tmdb_uniqueid_overrides_the_name(tmp_path):
    _write(tmp_path, "Movies/Matrix (1998)/grp-mtrx.mkv")
    _write(tmp_path, "Movies/Matrix (1998)/movie.nfo",
           '<movie><title>The Matrix</title><year>1999</year><uniqueid type="tmdb">603</uniqueid></movie>')
    guess = _guess_with_nfo(tmp_path, "Movies/Matrix (1998)/grp-mtrx.mkv")
    assert (guess.kind, guess.title, guess.year, guess.tmdb_id, guess.source) == ("movie", "The Matrix", 1999, 603, "nfo")


def test_stem_nfo_wins_over_movie_nfo(tmp_path):
    folder = "Movies/Rocky (1976)"
    _write(tmp_path, f"{folder}/Rocky.mkv")
    _write(tmp_path, f"{folder}/movie.nfo", "<movie><title>From movie.nfo</title><tmdbid>1366</tmdbid></movie>")
    _write(tmp_path, f"{folder}/Rocky.nfo", "<movie><title>Rocky</title><plot>A boxer.</plot></movie>")
    assert find_nfo(str(tmp_path / folder / "Rocky.mkv"), str(tmp_path)) == [
        str(tmp_path / folder / "Rocky.nfo"), str(tmp_path / folder / "movie.nfo")]
    guess = _guess_with_nfo(tmp_path, f"{folder}/Rocky.mkv")
    assert (guess.title, guess.plot, guess.tmdb_id) == ("Rocky", "A boxer.", 1366)


def test_tvshow_nfo_gives_the_show_and_the_episode_nfo_the_episode(tmp_path):
    episode = "Shows/Office/Season 02/S02E01.mkv"
    _write(tmp_path, episode)
    _write(tmp_path, "Shows/Office/tvshow.nfo",
           '<tvshow><title>The Office</title><premiered>2005-03-24</premiered>'
           '<uniqueid type="tmdb">2316</uniqueid><uniqueid type="tvdb">73244</uniqueid></tvshow>')
    _write(tmp_path, "Shows/Office/Season 02/S02E01.nfo",
           "<episodedetails><title>The Dundies</title><season>2</season><episode>1</episode>"
           '<uniqueid type="tmdb">64181</uniqueid></episodedetails>')
    _write(tmp_path, "Shows/tvshow.nfo", "<tvshow><title>Wrong level</title></tvshow>")
    assert find_nfo(str(tmp_path / episode), str(tmp_path)) == [
        str(tmp_path / "Shows/Office/Season 02/S02E01.nfo"), str(tmp_path / "Shows/Office/tvshow.nfo")]
    guess = _guess_with_nfo(tmp_path, episode)
    assert (guess.kind, guess.title, guess.year, guess.tmdb_id, guess.season, guess.episodes, guess.episode_title) == (
        "episode", "The Office", 2005, 2316, 2, (1,), "The Dundies")


def test_tvshow_nfo_without_season_folders(tmp_path):
    _write(tmp_path, "Breaking Bad/Breaking Bad S01E05.mkv")
    _write(tmp_path, "Breaking Bad/tvshow.nfo", "<tvshow><title>Breaking Bad</title><tmdbid>1396</tmdbid></tvshow>")
    guess = _guess_with_nfo(tmp_path, "Breaking Bad/Breaking Bad S01E05.mkv")
    assert (guess.title, guess.tmdb_id, guess.episodes) == ("Breaking Bad", 1396, (5,))


def test_tvshow_nfo_is_not_applied_to_a_movie_nor_searched_above_the_root(tmp_path):
    library = tmp_path / "library"
    _write(tmp_path, "tvshow.nfo", "<tvshow><title>Outside</title></tvshow>")
    _write(library, "Film (2001)/Film.mkv")
    _write(library, "tvshow.nfo", "<tvshow><title>A Show</title></tvshow>")
    found = find_nfo(str(library / "Film (2001)/Film.mkv"), str(library))
    assert found == [str(library / "tvshow.nfo")]
    guess = _guess_with_nfo(library, "Film (2001)/Film.mkv")
    assert (guess.title, guess.source) == ("Film", "name")
    _write(library, "Solo.mkv")
    assert find_nfo(str(library / "Solo.mkv"), str(library)) == [str(library / "tvshow.nfo")]


def test_bad_and_unreadable_nfo_files_are_ignored(tmp_path):
    folder = tmp_path / "Film (2001)"
    _write(tmp_path, "Film (2001)/Film.mkv")
    _write(tmp_path, "Film (2001)/Film.nfo", "https://www.themoviedb.org/movie/603\n")
    _write(tmp_path, "Film (2001)/movie.nfo", "<movie><title>Broken</movie>")
    guess = _guess_with_nfo(tmp_path, "Film (2001)/Film.mkv")
    assert (guess.title, guess.year, guess.source) == ("Film", 2001, "name")
    os.remove(folder / "movie.nfo")
    os.mkdir(folder / "movie.nfo")  # a folder with the name cannot be read as a file
    assert _guess_with_nfo(tmp_path, "Film (2001)/Film.mkv").source == "name"


def test_nfo_names_match_ignoring_case_and_latin1_is_read(tmp_path):
    _write(tmp_path, "Amelie (2001)/Amelie.mkv")
    (tmp_path / "Amelie (2001)/MOVIE.NFO").write_bytes(
        '<?xml version="1.0" encoding="ISO-8859-1"?><movie><title>Amélie</title></movie>'.encode("latin-1"))
    assert _guess_with_nfo(tmp_path, "Amelie (2001)/Amelie.mkv").title == "Amélie"


def test_video_outside_the_library_is_an_error(tmp_path):
    _write(tmp_path, "a/Film.mkv")
    with pytest.raises(ValueError):
        find_nfo(str(tmp_path / "a/Film.mkv"), str(tmp_path / "b"))
    with pytest.raises(ValueError):
        find_sidecars(str(tmp_path / "a/Film.mkv"), str(tmp_path / "b"))


def test_find_sidecars_lists_only_this_videos_subtitles(tmp_path):
    folder = "Movies/Movie (2001)"
    for name in ("Movie.mkv", "Movie 2.mkv", "Movie.en.srt", "Movie.forced.fre.vtt", "Movie.srt", "Movie 2.en.srt",
                 "Movie.nfo", "Movie.jpg", "Movie.Part.2.mkv", "Movie.Part.2.de.srt", "Subs/Movie.es.srt"):
        _write(tmp_path, f"{folder}/{name}")
    found = find_sidecars(str(tmp_path / folder / "Movie.mkv"), str(tmp_path))
    assert found == [
        SidecarSubtitle(f"{folder}/Movie.en.srt", "eng", False, False, "srt"),
        SidecarSubtitle(f"{folder}/Movie.forced.fre.vtt", "fre", True, False, "webvtt"),
        SidecarSubtitle(f"{folder}/Movie.srt", None, False, False, "srt"),
    ]
    assert [s.path for s in find_sidecars(str(tmp_path / folder / "Movie 2.mkv"), str(tmp_path))] == [
        f"{folder}/Movie 2.en.srt"]
    assert [s.path for s in find_sidecars(str(tmp_path / folder / "Movie.Part.2.mkv"), str(tmp_path))] == [
        f"{folder}/Movie.Part.2.de.srt"]


def test_find_sidecars_at_the_root_and_in_a_missing_folder(tmp_path):
    _write(tmp_path, "Clip.mp4")
    _write(tmp_path, "Clip.eng.sdh.srt")
    assert find_sidecars(str(tmp_path / "Clip.mp4"), str(tmp_path)) == [
        SidecarSubtitle("Clip.eng.sdh.srt", "eng", False, True, "srt")]
    assert find_sidecars(str(tmp_path / "gone/Clip.mp4"), str(tmp_path)) == []


def test_nfo_and_subtitle_files_that_are_symlinks_leading_out_are_never_read(tmp_path):
    """An NFO or a subtitle linked to a file outside the library is left out (nothing outside is read);
    a link that stays inside the library is used like the file itself."""
    root, outside = tmp_path / "lib", tmp_path / "outside"
    folder = "Movies/Rocky (1976)"
    _write(root, f"{folder}/Rocky.mkv")
    nfo = _write(outside, "Rocky.nfo", "<movie><title>Outside the library</title><tmdbid>1</tmdbid></movie>")
    srt = _write(outside, "Rocky.en.srt", "1\n00:00:00,000 --> 00:00:01,000\ntop secret\n")
    os.symlink(nfo, root / folder / "Rocky.nfo")
    os.symlink(srt, root / folder / "Rocky.en.srt")
    inside = _write(root, "Extras/movie.nfo", "<movie><title>Rocky</title><tmdbid>1366</tmdbid></movie>")
    os.symlink(inside, root / folder / "movie.nfo")
    _write(root, "Extras/Rocky.fr.srt")
    os.symlink(root / "Extras/Rocky.fr.srt", root / folder / "Rocky.fr.srt")
    assert find_nfo(str(root / folder / "Rocky.mkv"), str(root)) == [str(root / folder / "movie.nfo")]
    guess = _guess_with_nfo(root, f"{folder}/Rocky.mkv")
    assert (guess.title, guess.tmdb_id) == ("Rocky", 1366)
    assert [s.path for s in find_sidecars(str(root / folder / "Rocky.mkv"), str(root))] == [f"{folder}/Rocky.fr.srt"]

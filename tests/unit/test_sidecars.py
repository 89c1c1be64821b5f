"""Subtitle file names -> owner video, language and flags (pure)."""
import pytest

from mediaserver.scanner.sidecars import SidecarSubtitle, language_code, parse_sidecar

VIDEO = "Movies/Movie (2001)/Movie.mkv"


@pytest.mark.parametrize(("name", "language", "forced", "sdh", "fmt"), [
    ("Movie.en.srt", "eng", False, False, "srt"),
    ("Movie.forced.eng.vtt", "eng", True, False, "webvtt"),
    ("Movie.eng.forced.srt", "eng", True, False, "srt"),
    ("Movie.English.sdh.srt", "eng", False, True, "srt"),
    ("Movie.srt", None, False, False, "srt"),
    ("Movie.fr.cc.ass", "fre", False, True, "ass"),
    ("Movie.hi.de.ssa", "ger", False, True, "ssa"),  # `hi` is the hearing-impaired flag, not Hindi
    ("Movie.pt-BR.foreign.srt", "por", True, False, "srt"),
    ("Movie.commentary.srt", None, False, False, "srt"),  # unknown parts are ignored
    ("Movie.SRT", None, False, False, "srt"),
    ("Movie.eng.sub", "eng", False, False, "vobsub"),
    ("Movie.eng.idx", "eng", False, False, "vobsub"),
    ("movie.EN.srt", "eng", False, False, "srt"),  # stem compared ignoring case
])
def test_language_and_flags_from_the_name(name, language, forced, sdh, fmt):
    assert parse_sidecar(VIDEO, f"Movies/Movie (2001)/{name}") == SidecarSubtitle(
        path=f"Movies/Movie (2001)/{name}", language=language, forced=forced, sdh=sdh, format=fmt)


@pytest.mark.parametrize("subtitle", [
    "Movies/Movie (2001)/Movie 2.en.srt",  # another video's stem that starts with "Movie"
    "Movies/Movie (2001)/Movies.srt",
    "Movies/Movie (2001)/Subs/Movie.en.srt",  # other folder
    "Movies/Other/Movie.en.srt",
    "Movies/Movie (2001)/Movie.en.txt",  # not a subtitle extension
    "Movies/Movie (2001)/Movie.nfo",
])
def test_subtitles_that_do_not_belong(subtitle):
    assert parse_sidecar(VIDEO, subtitle) is None


def test_video_at_the_library_root():
    assert parse_sidecar("Movie.mkv", "Movie.eng.srt").language == "eng"
    assert parse_sidecar("Movie.mkv", "Sub/Movie.eng.srt") is None


def test_stem_with_dots():
    assert parse_sidecar("The.Matrix.1999.mkv", "The.Matrix.1999.fre.forced.srt") == SidecarSubtitle(
        path="The.Matrix.1999.fre.forced.srt", language="fre", forced=True, sdh=False, format="srt")


@pytest.mark.parametrize(("tag", "code"), [
    ("en", "eng"), ("eng", "eng"), ("english", "eng"), ("English", "eng"), ("fra", "fre"), ("fre", "fre"),
    ("de", "ger"), ("hin", "hin"), ("pt-BR", "por"), ("und", None), ("xx", None), ("forcedx", None), ("2", None),
])
def test_language_codes_are_iso_639_2b(tag, code):
    assert language_code(tag) == code

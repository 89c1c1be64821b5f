"""scanner.tags: raw tag values normalised (pure, no files)."""
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediaserver.scanner import tags
from mediaserver.scanner.tags import (
    MAX_TEXT, MAX_VALUES, TrackTags, album_folder, album_key, folder_is_compilation, from_path, from_raw, is_various,
    merge, parse_date, parse_gain, parse_number_pair, parse_peak, split_artists,
)


@pytest.mark.parametrize("values, expected", [
    (["piman;jzig"], ("piman", "jzig")),
    (["A; B"], ("A", "B")),
    (["A / B"], ("A", "B")),
    (["A\x00B"], ("A", "B")),  # ID3v2.4 NUL-separated strings
    (["A", "B", "A"], ("A", "B")),  # several frames; duplicates dropped, order kept
    (["  a ; A ;; "], ("a",)),  # trimmed, empties dropped, duplicates casefolded
    (["Simon & Garfunkel"], ("Simon & Garfunkel",)),
    (["Earth, Wind & Fire"], ("Earth, Wind & Fire",)),
    (["Artist feat. Guest"], ("Artist feat. Guest",)),
    (["AC/DC"], ("AC/DC",)),
    ("One", ("One",)),
    (None, ()),
    ([None, "", " "], ()),
])
def test_split_artists(values, expected):
    assert split_artists(values) == expected


@pytest.mark.parametrize("text, expected", [
    ("3/11", (3, 11)), ("03", (3, None)), (" 3 / 11 ", (3, 11)), ("3/", (3, None)), ("/11", (None, 11)),
    ("02/10", (2, 10)), ("junk", (None, None)), ("3/x", (None, None)), ("0", (None, None)),
    ("10000", (None, None)), ("9999/0", (9999, None)), ("", (None, None)), (None, (None, None)),
    (7, (7, None)), (True, (None, None)), ("-3", (None, None)),
])
def test_parse_number_pair(text, expected):
    assert parse_number_pair(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("2004", (2004, "2004")), ("2004-05", (2004, "2004-05")), ("2004-05-06", (2004, "2004-05-06")),
    ("2004-05-06T10:00:00", (2004, "2004-05-06")), ("2004/05/06", (2004, "2004-05-06")),
    ("2004-13-01", (2004, "2004")), ("2004-02-30", (2004, "2004-02")), ("(p) 1999 Some Label", (1999, "1999")),
    ("0000", (None, None)), ("junk", (None, None)), ("20040506", (None, None)), (None, (None, None)),
    (2004, (2004, "2004")),
])
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_gains_and_peaks():
    assert parse_gain("-6.5 dB") == -6.5
    assert parse_gain("+9.27 dB") == 9.27
    assert parse_gain("-6,5 db") == -6.5
    assert parse_gain("-6.5") == -6.5
    assert parse_gain("loud") is None and parse_gain("1e400") is None and parse_gain("-500 dB") is None
    assert parse_peak("1.039857") == 1.039857
    assert parse_peak("-0.5") is None and parse_peak(None) is None


def test_from_raw_maps_the_picard_names():
    t = from_raw({
        "title": ["Silence"], "artist": ["piman", "jzig"], "albumartist": ["Quod Libet"], "album": ["Test Data"],
        "tracknumber": ["4"], "totaltracks": ["11"], "discnumber": ["1/2"], "date": ["2010-10-11"],
        "genre": ["Rock;Pop"], "composer": ["X / Y"], "compilation": ["1"],
        "musicbrainz_recordingid": ["E65FB332-0C1E-4172-85E0-59CD37E5669E"],
        "musicbrainz_artistid": ["11111111-2222-3333-4444-555555555555/66666666-7777-8888-9999-000000000000"],
        "musicbrainz_albumid": ["not a uuid"], "replaygain_track_gain": ["-8.08 dB"], "replaygain_album_peak": ["1.0"],
    })
    assert (t.title, t.artists, t.album_artists, t.album) == ("Silence", ("piman", "jzig"), ("Quod Libet",), "Test Data")
    assert (t.track_number, t.track_total, t.disc_number, t.disc_total) == (4, 11, 1, 2)
    assert (t.year, t.date, t.genres, t.composers) == (2010, "2010-10-11", ("Rock", "Pop"), ("X", "Y"))
    assert t.musicbrainz_track_id == "e65fb332-0c1e-4172-85e0-59cd37e5669e"
    assert len(t.musicbrainz_artist_ids) == 2 and t.musicbrainz_album_id is None
    assert t.replaygain_track_gain_db == -8.08 and t.replaygain_album_peak == 1.0 and t.compilation


def test_from_raw_prefers_the_multi_value_artists_tag_and_falls_back_on_year():
    t = from_raw({"artist": ["A feat. B"], "artists": ["A", "B"], "year": ["1999"]})
    assert t.artists == ("A", "B") and (t.year, t.date) == (1999, "1999")


def test_from_raw_of_nothing_is_empty():
    assert from_raw({}).is_empty() and from_raw(None).is_empty() and from_raw("junk").is_empty()
    assert not from_raw({"title": ["x"]}).is_empty()


def test_hostile_values_are_cleaned_and_capped():
    t = from_raw({"title": ["x" * 1_000_000], "artist": ["a\x00b\x01c\x7f", "d\udcffe"], "album": [b"Caf\xc3\xa9\tNoir\n"],
                  "tracknumber": [3], "date": [2004], "genre": [";".join(f"g{i}" for i in range(500))]})
    assert len(t.title) == MAX_TEXT
    assert t.artists == ("a", "bc", "de")  # NUL splits; other control characters and lone surrogates go
    assert t.album == "Café Noir"
    assert (t.track_number, t.year) == (3, 2004)
    assert len(t.genres) == MAX_VALUES


def test_folder_name_fallback():
    t = from_path("Pink Floyd/The Wall (1979)/Disc 2/03 - Hey You.flac")
    assert (t.artists, t.album, t.year, t.disc_number, t.track_number, t.title) == \
        (("Pink Floyd",), "The Wall", 1979, 2, 3, "Hey You")
    t = from_path("Artist/Album/CD1/07 Title.mp3")
    assert (t.artists, t.album, t.disc_number, t.track_number, t.title) == (("Artist",), "Album", 1, 7, "Title")
    t = from_path("Artist/Album/01. First.ogg")
    assert (t.track_number, t.title) == (1, "First")
    assert from_path("2001 A Space Odyssey.flac").title == "2001 A Space Odyssey"
    assert from_path("Album/Loose.mp3").artists == () and from_path("Album/Loose.mp3").album == "Album"
    assert from_path("").is_empty() and from_path(None).is_empty()


def test_merge_fills_only_what_the_tags_lack():
    tagged = from_raw({"title": ["Real Title"], "artist": ["Real Artist"]})
    merged = merge(tagged, from_path("Folder Artist/Folder Album/05 Name.flac"))
    assert (merged.title, merged.artists, merged.album, merged.track_number) == \
        ("Real Title", ("Real Artist",), "Folder Album", 5)


def test_album_groups_by_album_artist_and_album_across_discs():
    disc1 = from_raw({"album": ["The Wall"], "albumartist": ["Pink Floyd"], "artist": ["Pink Floyd"], "discnumber": ["1"]})
    disc2 = from_raw({"album": ["the wall"], "albumartist": ["PINK FLOYD"], "artist": ["Other"], "discnumber": ["2"]})
    assert album_key(disc1, "Pink Floyd/The Wall/CD1").match == album_key(disc2, "Pink Floyd/The Wall/CD2").match
    other = from_raw({"album": ["The Wall"], "albumartist": ["Someone Else"]})
    assert album_key(other, "x").match != album_key(disc1, "x").match


def test_a_missing_album_artist_falls_back_to_the_track_artist():
    key = album_key(from_raw({"album": ["Hymns"], "artist": ["Anais Mitchell"]}), "A/Hymns")
    assert (key.album_artist, key.title) == ("Anais Mitchell", "Hymns")
    assert album_key(from_raw({"album": ["Hymns"]}), "A/Hymns").album_artist == tags.UNKNOWN_ARTIST


def test_compilations_go_under_various_artists():
    flagged = from_raw({"album": ["Now 42"], "artist": ["One"], "compilation": ["1"]})
    assert album_key(flagged, "Now 42").album_artist == "Various Artists"
    folder = [from_raw({"album": ["Hits"], "artist": [name]}) for name in ("One", "Two", "one", "Three")]
    assert folder_is_compilation(folder)
    keys = {album_key(t, "Hits", compilation=True) for t in folder}
    assert len(keys) == 1 and next(iter(keys)).album_artist == "Various Artists"
    # an explicit album artist wins over the flag (a DJ mix)
    assert album_key(from_raw({"album": ["Mix"], "albumartist": ["DJ"], "compilation": ["1"]}), "").album_artist == "DJ"


def test_what_is_not_a_compilation():
    one_artist = [from_raw({"album": ["A"], "artist": ["X"]}) for _ in range(3)]
    singles = [from_raw({"album": [album], "artist": [artist]}) for album, artist in (("A", "X"), ("B", "Y"))]
    with_album_artist = [from_raw({"album": ["A"], "albumartist": ["Band"], "artist": [n]}) for n in ("X", "Y")]
    assert not folder_is_compilation(one_artist)
    assert not folder_is_compilation(singles)
    assert not folder_is_compilation(with_album_artist)
    assert not folder_is_compilation([])
    # an artist's album with a guest track: the artist has most of the tracks
    guest = [from_raw({"album": ["A"], "artist": [n]}) for n in ("X", "X feat. Y", "X")]
    assert not folder_is_compilation(guest)


def test_various_means_two_names_and_none_on_more_than_half_of_the_tracks():
    assert is_various(["A", "B"]) and is_various(["A", "b", "a", "C"]) and is_various(["A", "B", "a", "b"])
    assert not is_various(["A", "A", "B"]) and not is_various(["A", "a"]) and not is_various([])
    assert not is_various(["A", "", ""])  # unknown artists count for nobody


def test_the_album_folder_of_a_disc_folder_is_its_parent():
    assert album_folder("Pink Floyd/The Wall/CD2") == album_folder("Pink Floyd/The Wall/Disc 1") == "Pink Floyd/The Wall"
    assert album_folder("Mixes/Summer") == "Mixes/Summer" and album_folder("") == album_folder(".") == ""


def test_tracks_without_an_album_group_by_folder():
    a = album_key(from_raw({"artist": ["X"]}), "X/Untitled/Disc 1")
    b = album_key(from_raw({"artist": ["X"]}), "X/Untitled/Disc 2")
    c = album_key(from_raw({"artist": ["X"]}), "X/Other")
    assert a.match == b.match != c.match and a.title == "Untitled"


_TEXT = st.text(alphabet=st.characters(codec=None), max_size=3000)
_VALUE = st.one_of(st.none(), _TEXT, st.binary(max_size=500), st.integers(), st.floats(), st.booleans())
_RAW = st.dictionaries(st.sampled_from(["title", "artist", "artists", "albumartist", "album", "tracknumber",
                                        "totaltracks", "discnumber", "date", "year", "genre", "composer",
                                        "compilation", "musicbrainz_artistid", "replaygain_track_gain",
                                        "replaygain_track_peak", "other"]),
                       st.one_of(_VALUE, st.lists(_VALUE, max_size=300)))


def _bounded(t: TrackTags) -> None:
    for name, value in vars(t).items():
        for text in (value if isinstance(value, tuple) else (value,)):
            if isinstance(text, str):
                assert 0 < len(text) <= MAX_TEXT, name
                assert not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text), name
        if isinstance(value, tuple):
            assert len(value) <= MAX_VALUES, name
    for number in (t.track_number, t.track_total, t.disc_number, t.disc_total, t.year):
        assert number is None or 1 <= number <= 9999


@settings(max_examples=300, deadline=None)
@given(_RAW, _TEXT)
def test_never_raises_and_the_output_is_bounded(raw, path):
    t = from_raw(raw)
    _bounded(t)
    _bounded(from_path(path))
    _bounded(merge(t, from_path(path)))
    key = album_key(t, path, compilation=folder_is_compilation([t]))
    assert 0 < len(key.album_artist) <= MAX_TEXT and 0 < len(key.title) <= MAX_TEXT


@settings(max_examples=300, deadline=None)
@given(_VALUE)
def test_the_parsers_never_raise(value):
    assert parse_date(value)[0] in (None, *range(1, 10000))
    assert all(n is None or 1 <= n <= 9999 for n in parse_number_pair(value))
    gain, peak = parse_gain(value), parse_peak(value)
    assert gain is None or -100 <= gain <= 100
    assert peak is None or 0 <= peak <= 100
    assert len(split_artists(value)) <= MAX_VALUES

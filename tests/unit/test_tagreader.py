"""scanner.tagreader on every file of ../shared/music-tags (MANIFEST.md) and on covers the tests add to copies.

No app and no database: it runs with the unit tests, once in `make test` (the integration tests run twice,
on SQLite and on PostgreSQL). Memory is measured with tracemalloc, never time.
"""
import base64
import shutil
import tracemalloc

import mutagen
import pytest
from mutagen.flac import FLAC, Picture
from mutagen.oggvorbis import OggVorbis

from mediaserver.scanner.tagreader import MAX_PICTURE_BYTES, RawTags, TagFailure, _BoundedFile, folder_cover, read
from mediaserver.scanner.tags import TrackTags
from tests.helpers import MUSIC_TAGS

FILES = sorted(p for p in MUSIC_TAGS.iterdir() if p.is_file() and p.name != "MANIFEST.md")
#: crafted, truncated or empty files (MANIFEST.md): headers that claim more than the file holds
CRAFTED = ["ooming-header.flac", "106-invalid-streaminfo.flac", "106-short-picture-block-size.flac",
           "52-overwritten-metadata.flac", "52-too-short-block-size.flac", "emptyfile.mp3", "almostempty.mpc",
           "too-short.mp3", "truncated-64bit.mp4", "64bit.mp4", "adif.aac"]
#: what mutagen 1.48.1 cannot read, and why
UNREADABLE = {
    "106-invalid-streaminfo.flac": "tags unreadable: flac.error: file said 16 bytes, read 0 bytes",
    "ooming-header.flac": "tags unreadable: flac.error: file said 4 bytes, read 0 bytes",
    "64bit.mp4": "tags unreadable: not an audio format mutagen knows",
    "almostempty.mpc": "tags unreadable: ID3UnsupportedVersionError: 'almostempty.mpc' ID3v2.32 not supported",
    "emptyfile.mp3": "tags unreadable: HeaderNotFoundError: can't sync to MPEG frame",
    "too-short.mp3": "tags unreadable: HeaderNotFoundError: can't sync to MPEG frame",
}


def test_the_shared_folder_is_there():
    assert len(FILES) == 92, f"{MUSIC_TAGS} should hold the 92 files of its MANIFEST.md"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_gives_tags_or_a_reason(path):
    result = read(path)
    if path.name in UNREADABLE:
        assert result == TagFailure(UNREADABLE[path.name])
    else:
        assert isinstance(result, RawTags), getattr(result, "reason", None)
        assert result.format and isinstance(result.tags, TrackTags)
        assert all(isinstance(text, str) for values in result.fields.values() for text in values)


def test_multi_value_artists_and_a_02_10_track_number():
    for name in ("silence-44-s.mp3", "silence-44-s.flac", "silence-44-s.wv", "silence-2s-PCM-44100-16-ID3v23.wav"):
        tags = read(MUSIC_TAGS / name).tags
        assert tags.artists == ("piman", "jzig"), name  # two ID3 strings, two Vorbis comments, APEv2's NUL
        assert (tags.track_number, tags.track_total, tags.album, tags.year) == (2, 10, "Quod Libet Test Data", 2004)


def test_musicbrainz_ids_replaygain_and_a_full_date_from_vorbis_comments():
    tags = read(MUSIC_TAGS / "flac_application.flac").tags
    assert (tags.track_number, tags.track_total, tags.date) == (4, 11, "2010-10-11")
    assert tags.musicbrainz_track_id == "e65fb332-0c1e-4172-85e0-59cd37e5669e"
    assert tags.musicbrainz_album_id == "359a91e9-3bb3-4b60-a823-8aaa4bad1e36"
    assert tags.musicbrainz_album_artist_id == "e5c7b94f-e264-473c-bb0f-37c85d4d5c70"
    assert (tags.replaygain_track_gain_db, tags.replaygain_album_gain_db) == (-8.08, -8.14)
    discs = read(MUSIC_TAGS / "variable-block.flac").tags
    assert (discs.disc_number, discs.disc_total, discs.track_total) == (1, 2, 11)


def test_id3_txxx_replaygain_asf_and_id3v22():
    assert read(MUSIC_TAGS / "bad-xing.mp3").tags.replaygain_album_peak == 1.136102
    wma = read(MUSIC_TAGS / "issue_29.wma").tags
    assert (wma.title, wma.artists, wma.album, wma.track_number, wma.track_total) == \
        ("Señor Flamingos Adieu", ("Kaizers Orchestra",), "Live at Vega", 6, 15)
    assert read(MUSIC_TAGS / "id3v22-test.mp3").tags.track_number == 3


def test_embedded_covers():
    assert read(MUSIC_TAGS / "silence-44-s.flac").cover[0] == "image/png"  # a FLAC picture block
    assert read(MUSIC_TAGS / "covr-with-name.m4a").cover[0] == "image/png"  # MP4 covr
    assert read(MUSIC_TAGS / "silence-2s-PCM-16000-08-ID3v23.wav").cover[0] == "image/png"  # ID3 APIC in WAV
    mime, data = read(MUSIC_TAGS / "nero-chapters.m4b").cover
    assert mime == "image/jpeg" and data.startswith(b"\xff\xd8\xff")
    assert read(MUSIC_TAGS / "no-tags.flac").cover is None


def test_audiobooks():
    book = read(MUSIC_TAGS / "nero-chapters.m4b")
    assert book.is_audiobook and book.tags.artists == ("Aleron Kong",) and book.tags.composers == ("Nick Podehl",)
    assert read(MUSIC_TAGS / "ep7.m4b").is_audiobook
    assert not read(MUSIC_TAGS / "alac.m4a").is_audiobook and not read(MUSIC_TAGS / "silence-44-s.flac").is_audiobook


def _picture(kind: int, data: bytes, mime: str = "image/jpeg") -> Picture:
    picture = Picture()
    picture.type, picture.mime, picture.data = kind, mime, data
    return picture


def test_an_ogg_front_cover_is_preferred_to_a_back_cover(tmp_path):
    path = tmp_path / "cover.ogg"
    shutil.copy(MUSIC_TAGS / "empty.ogg", path)
    ogg = OggVorbis(path)
    ogg["metadata_block_picture"] = [base64.b64encode(_picture(kind, data).write()).decode("ascii")
                                     for kind, data in ((4, b"\xff\xd8\xffback"), (3, b"\xff\xd8\xfffront"))]
    ogg["artist"] = ["Simon & Garfunkel"]
    ogg.save()
    result = read(path)
    assert result.cover == ("image/jpeg", b"\xff\xd8\xfffront")
    assert result.tags.artists == ("Simon & Garfunkel",)


def test_a_picture_over_10_mb_is_ignored(tmp_path):
    path = tmp_path / "big.flac"
    shutil.copy(MUSIC_TAGS / "no-tags.flac", path)
    flac = FLAC(path)
    flac.add_picture(_picture(3, b"\xff\xd8\xff" + bytes(MAX_PICTURE_BYTES)))
    flac.add_picture(_picture(0, b"\x89PNGsmall", mime="image/png"))
    flac.save()
    assert read(path).cover == ("image/png", b"\x89PNGsmall")


def test_folder_covers(tmp_path):
    assert folder_cover(tmp_path) is None
    (tmp_path / "Front.PNG").write_bytes(b"\x89PNG")
    assert folder_cover(tmp_path) == str(tmp_path / "Front.PNG")
    (tmp_path / "Folder.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "cover.txt").write_text("not a picture")
    assert folder_cover(tmp_path) == str(tmp_path / "Folder.jpg")
    (tmp_path / "COVER.JPEG").symlink_to(tmp_path / "Folder.jpg")  # a link may lead out of the library
    assert folder_cover(tmp_path) == str(tmp_path / "Folder.jpg")
    (tmp_path / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    assert folder_cover(tmp_path) == str(tmp_path / "cover.jpg")
    assert folder_cover(tmp_path / "missing") is None


def test_errors_are_reasons_not_exceptions(tmp_path):
    assert read(tmp_path / "missing.flac").reason.startswith("tags unreadable: FileNotFoundError: ")
    assert read(tmp_path).reason.startswith("tags unreadable: IsADirectoryError")
    assert str(MUSIC_TAGS) not in read(MUSIC_TAGS / "almostempty.mpc").reason


def test_reads_never_ask_for_more_than_the_file_holds():
    with open(MUSIC_TAGS / "ooming-header.flac", "rb") as handle:
        bounded = _BoundedFile(handle, 86)
        tracemalloc.start()
        try:
            assert len(bounded.read(10**9)) == 86 and bounded.read(10) == b""
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 1_000_000  # a plain read(10**9) allocates the gigabyte before it finds 86 bytes


@pytest.mark.parametrize("name", CRAFTED)
def test_crafted_files_stay_within_bounded_memory(name):
    assert (MUSIC_TAGS / name).is_file()
    tracemalloc.start()
    try:
        result = read(MUSIC_TAGS / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(result, (RawTags, TagFailure))
    assert peak < 5_000_000, f"{name}: {peak} bytes at the peak"  # the files are at most 50 kB


def test_reading_every_file_stays_within_bounded_memory():
    read(FILES[0])  # mutagen's format modules imported before measuring
    tracemalloc.start()
    try:
        for path in FILES:
            read(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000
    assert mutagen.version_string == "1.48.1"  # the pin of requirements.txt these reasons were read with

"""The music catalog made by `flask scan`: tagged albums built here (ffmpeg tones tagged with mutagen, an
embedded and a folder cover), rescans, moves and removals, and every file of ../shared/music-tags."""
import os
import subprocess

import pytest
from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TIT2, TPE1, TPE2, TPOS, TRCK
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggvorbis import OggVorbis
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.db import get_db
from mediaserver.models import Album, Artist, MediaFile, Track
from mediaserver.scanner import tagreader
from tests.helpers import MUSIC_TAGS, app_config, link_file, media_id

CODECS = {".flac": ["-c:a", "flac"], ".mp3": ["-c:a", "libmp3lame"], ".m4a": ["-c:a", "aac"],
          ".ogg": ["-c:a", "libvorbis"]}


def tone(path, hz):
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"sine=f={hz}:d=1",
                    *CODECS[path.suffix], str(path)], check=True)
    return path


def jpeg(path, colour):
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:s=16x16",
                    "-frames:v", "1", str(path)], check=True)
    return path.read_bytes()


def tag_vorbis(audio, cover=None, **tags):
    for key, value in tags.items():
        audio[key] = value if isinstance(value, list) else [value]
    if cover is not None:
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/jpeg", cover
        audio.add_picture(picture)
    audio.save()


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "library"
    cover = jpeg(tmp_path / "embedded.jpg", "red")
    night = root / "Solar Band" / "Night Album"
    tag_vorbis(FLAC(tone(night / "Disc 1" / "01 Dawn.flac", 440)), cover=cover, title="Dawn", artist="Solar Band",
               albumartist="Solar Band", album="Night Album", tracknumber="1/2", discnumber="1/2", date="2004-05-06")
    id3 = ID3()
    for frame in (TIT2(encoding=3, text="Noon"), TPE1(encoding=3, text=["Solar Band", "Guest Star"]),
                  TPE2(encoding=3, text="Solar Band"), TALB(encoding=3, text="Night Album"),
                  TRCK(encoding=3, text="2/2"), TPOS(encoding=3, text="1/2"),
                  APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=cover)):
        id3.add(frame)
    id3.save(tone(night / "Disc 1" / "02 Noon.mp3", 480))
    m4a = MP4(tone(night / "Disc 2" / "03 Dusk.m4a", 520))
    m4a.update({"\xa9nam": ["Dusk"], "\xa9ART": ["Solar Band"], "aART": ["Solar Band"], "\xa9alb": ["Night Album"],
                "trkn": [(3, 11)], "disk": [(2, 2)], "covr": [MP4Cover(cover, imageformat=MP4Cover.FORMAT_JPEG)]})
    m4a.save()
    tag_vorbis(OggVorbis(tone(root / "Mixes" / "Summer" / "01 One.ogg", 560)), title="One", artist="Xeno",
               album="Summer Mix", tracknumber="1", compilation="1")
    tag_vorbis(FLAC(tone(root / "Mixes" / "Summer" / "02 Two.flac", 600)), title="Two", artist="Yara",
               album="Summer Mix", tracknumber="2", compilation="1")
    tone(root / "Folk Duo" / "Tagless" / "01 Quiet Song.flac", 640)
    jpeg(root / "Folk Duo" / "Tagless" / "cover.jpg", "blue")
    return root


@pytest.fixture
def music_app(tmp_path, library, redis_db):
    return create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(library)]))


def last_line(result):
    return result.output.strip().splitlines()[-1]


def track(app, rel):
    with app.app_context():
        row = get_db().scalar(select(Track).join(MediaFile).where(MediaFile.path == rel))
        return row and {"id": row.id, "title": row.title, "album": row.album.title,
                        "album_artist": row.album.album_artist.name, "artists": [a.name for a in row.artists],
                        "disc": row.disc_number, "number": row.track_number, "cover": row.album.cover_image,
                        "compilation": row.album.is_compilation, "year": row.album.year,
                        "duration_ms": row.duration_ms}


def names(app, model, column):
    with app.app_context():
        return sorted(get_db().scalars(select(column)))


def test_a_scan_makes_artists_albums_and_tracks_from_tags(music_app):
    result = music_app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    assert last_line(result) == "added 6, updated 0, unchanged 0, removed 0, failed 0"
    assert "6 music track(s)" in result.output
    dawn, noon = track(music_app, "Solar Band/Night Album/Disc 1/01 Dawn.flac"), \
        track(music_app, "Solar Band/Night Album/Disc 1/02 Noon.mp3")
    dusk = track(music_app, "Solar Band/Night Album/Disc 2/03 Dusk.m4a")
    assert (dawn["album"], dawn["album_artist"], dawn["disc"], dawn["number"], dawn["year"]) == \
        ("Night Album", "Solar Band", 1, 1, 2004)
    assert noon["artists"] == ["Solar Band", "Guest Star"]  # two ID3v2.4 strings: two artists
    assert (dusk["disc"], dusk["number"]) == (2, 3)  # trkn 3/11 across the second disc
    assert 900 <= dawn["duration_ms"] <= 1200
    with music_app.app_context():
        assert len(get_db().scalars(select(Album).where(Album.title == "Night Album")).all()) == 1
    one, two = track(music_app, "Mixes/Summer/01 One.ogg"), track(music_app, "Mixes/Summer/02 Two.flac")
    assert one["album_artist"] == two["album_artist"] == "Various Artists" and one["compilation"]
    assert (one["artists"], two["artists"]) == (["Xeno"], ["Yara"])
    quiet = track(music_app, "Folk Duo/Tagless/01 Quiet Song.flac")
    assert (quiet["title"], quiet["album"], quiet["album_artist"], quiet["number"]) == \
        ("Quiet Song", "Tagless", "Folk Duo", 1)
    assert names(music_app, Artist, Artist.name) == ["Folk Duo", "Guest Star", "Solar Band", "Various Artists",
                                                     "Xeno", "Yara"]
    # the embedded cover once for the album (three tracks, one file), the folder's cover.jpg for the other
    assert dawn["cover"] == noon["cover"] == dusk["cover"] and dawn["cover"].startswith("cover-")
    assert quiet["cover"] and quiet["cover"] != dawn["cover"] and one["cover"] is None
    images = os.path.join(music_app.config["DATA_DIR"], "images")
    assert sorted(os.listdir(images)) == sorted([dawn["cover"], quiet["cover"]])


def test_a_rescan_reads_nothing_again_and_a_move_keeps_the_track(music_app, library, monkeypatch, tmp_path):
    runner = music_app.test_cli_runner()
    runner.invoke(args=["scan"])
    before = track(music_app, "Mixes/Summer/02 Two.flac")
    reads = tmp_path / "reads.log"

    def counted(path):  # inherited by the forked probe processes: each read leaves a line
        with open(reads, "a") as handle:
            handle.write(f"{path}\n")
        return tagreader.TagFailure("counted")

    monkeypatch.setattr(tagreader, "read", counted)
    assert last_line(runner.invoke(args=["scan"])) == "added 0, updated 0, unchanged 6, removed 0, failed 0"
    os.rename(library / "Mixes" / "Summer" / "02 Two.flac", library / "Mixes" / "Summer" / "02 Two (edit).flac")
    result = runner.invoke(args=["scan"])
    assert last_line(result) == "added 0, updated 1, unchanged 5, removed 0, failed 0"
    assert not reads.exists()  # neither the unchanged files nor the moved one were read again
    after = track(music_app, "Mixes/Summer/02 Two (edit).flac")
    assert after == before


def test_a_removal_prunes_its_album_and_artist(music_app, library):
    runner = music_app.test_cli_runner()
    runner.invoke(args=["scan"])
    gone = media_id(music_app, "Folk Duo/Tagless/01 Quiet Song.flac")
    (library / "Folk Duo" / "Tagless" / "01 Quiet Song.flac").unlink()
    assert last_line(runner.invoke(args=["scan"])) == "added 0, updated 0, unchanged 5, removed 1, failed 0"
    with music_app.app_context():
        session = get_db()
        assert session.scalar(select(Track).where(Track.media_file_id == gone)) is None
        assert session.scalar(select(Album).where(Album.title == "Tagless")) is None
        assert session.scalar(select(Artist).where(Artist.name == "Folk Duo")) is None
        assert session.scalar(select(Artist).where(Artist.name == "Solar Band")) is not None


def test_a_failed_catalog_pass_is_made_up_by_the_next_scan(music_app):
    runner = music_app.test_cli_runner()
    runner.invoke(args=["scan"])
    with music_app.app_context():
        session = get_db()
        session.delete(session.scalar(select(Track).join(MediaFile).where(MediaFile.path.like("Folk Duo/%"))))
        session.commit()
    assert "1 music track(s)" in runner.invoke(args=["scan"]).output
    assert track(music_app, "Folk Duo/Tagless/01 Quiet Song.flac")["album"] == "Tagless"
    assert "catalog: no new file to name" in runner.invoke(args=["scan"]).output


def test_every_file_of_music_tags_is_catalogued_or_failed_with_a_reason(tmp_path, redis_db):
    from mediaserver.scanner.walk import MEDIA_EXTENSIONS

    root = tmp_path / "music-tags"
    root.mkdir()
    files = sorted(p.name for p in MUSIC_TAGS.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS)
    for name in files:
        link_file(MUSIC_TAGS / name, root / name)
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(root)], PROBE_WORKERS=2))
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rows = get_db().scalars(select(MediaFile)).all()
        assert sorted(m.path for m in rows) == files
        for media in rows:
            assert media.status in ("ok", "failed"), media.path
            if media.status == "failed":
                assert media.error, media.path
            elif any(s.type == "audio" for s in media.streams) and not any(
                    s.type == "video" and not s.attached_pic for s in media.streams):
                assert media.track is not None and media.track.title, media.path
        assert any(m.track is not None and m.track.is_audiobook for m in rows)  # the .m4b files


def test_a_track_that_cannot_be_written_costs_that_track_only(music_app, monkeypatch):
    from mediaserver.library import music

    real = music.catalog_track

    def failing(session, media, raw, images_dir):
        if media.path.startswith("Solar Band/Night Album/Disc 2/"):  # the last file scanned
            session.add(Artist(name="x", name_key="folk duo", sort_name="x"))  # a duplicate key: IntegrityError
            session.flush()
        return real(session, media, raw, images_dir)

    monkeypatch.setattr(music, "catalog_track", failing)
    result = music_app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    assert last_line(result) == "added 6, updated 0, unchanged 0, removed 0, failed 0"
    assert "warning: Solar Band/Night Album/Disc 2/03 Dusk.m4a: music:" in result.output
    assert track(music_app, "Solar Band/Night Album/Disc 2/03 Dusk.m4a") is None
    assert track(music_app, "Solar Band/Night Album/Disc 1/02 Noon.mp3")["album"] == "Night Album"
    assert track(music_app, "Mixes/Summer/02 Two.flac")["album"] == "Summer Mix"
    monkeypatch.setattr(music, "catalog_track", real)
    assert "1 music track(s)" in music_app.test_cli_runner().invoke(args=["scan"]).output  # made up next time


def test_tags_that_cannot_be_read_leave_the_file_placed_by_its_folders(music_app, monkeypatch, caplog):
    monkeypatch.setattr(tagreader, "read", lambda path: tagreader.TagFailure("tags unreadable: struct.error: crafted"))
    with caplog.at_level("INFO", logger="mediaserver.music"):
        result = music_app.test_cli_runner().invoke(args=["scan"])
    assert last_line(result) == "added 6, updated 0, unchanged 0, removed 0, failed 0"  # they still play
    dawn = track(music_app, "Solar Band/Night Album/Disc 1/01 Dawn.flac")
    assert (dawn["title"], dawn["album"], dawn["album_artist"], dawn["disc"], dawn["number"]) == \
        ("Dawn", "Night Album", "Solar Band", 1, 1)
    assert "tags unreadable: struct.error: crafted" in caplog.text

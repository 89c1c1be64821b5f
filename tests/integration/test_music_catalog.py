"""The music catalog made by `flask scan`: the tagged albums of tests/music_library.py (ffmpeg tones tagged
with mutagen, an embedded and a folder cover), rescans, moves and removals, and every file of
../shared/music-tags."""
import os
from urllib.parse import quote

import pytest
from mutagen.flac import FLAC
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import Album, Artist, MediaFile, Track
from mediaserver.scanner import tagreader
from mediaserver.text import normalize_title
from tests.helpers import MUSIC_TAGS, PASSWORD, app_config, link_file, media_id
from tests.music_library import library, music_app, tag_vorbis, tone  # noqa: F401

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
        create_user("alice", PASSWORD)
    walk_the_music_api(app)


def walk_the_music_api(app) -> None:
    """Every list, every album and artist, and a search for a word of every track's title answer 200
    with JSON (odd tag encodings, control characters and huge values break none of them)."""
    client = app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200

    def get(url):
        response = client.get(url)
        assert response.status_code == 200 and response.is_json, (url, response.status_code, response.data[:300])
        return response.json

    lists = {kind: get(f"/api/library/{kind}?per_page=500")["items"] for kind in ("artists", "albums", "tracks")}
    assert len(lists["tracks"]) >= 60 and all(t["title"] and t["album"] for t in lists["tracks"])
    for album in lists["albums"]:
        assert [t["album_id"] for t in get(f"/api/library/albums/{album['id']}")["tracks"]] == \
            [album["id"]] * album["track_count"]
    for artist in lists["artists"]:
        get(f"/api/library/artists/{artist['id']}")
    for track in lists["tracks"]:
        word = next((w for w in normalize_title(track["title"]).split() if len(w) > 2), None)
        if word:
            assert track["id"] in [t["id"] for t in get(f"/api/search?q={quote(word)}&limit=100")["tracks"]], word


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


def test_an_album_folder_of_many_artists_without_album_artist_tags_is_one_compilation(tmp_path, redis_db):
    root = tmp_path / "library"
    trip, solo = root / "Road Trip", root / "Cee" / "Solo"
    for number, artist in ((1, "Ann"), (2, "Ben")):
        tag_vorbis(FLAC(tone(trip / f"0{number} Song.flac", 400 + number)), title=f"Song {number}", artist=artist,
                   album="Road Trip", tracknumber=str(number))
    for number, artist in ((1, "Cee"), (2, "Cee feat. Dee"), (3, "Cee")):
        tag_vorbis(FLAC(tone(solo / f"0{number} Take.flac", 500 + number)), title=f"Take {number}", artist=artist,
                   album="Solo", tracknumber=str(number))
    app = create_app(app_config(tmp_path, LIBRARY_ROOTS=[str(root)]))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["scan"]).exit_code == 0
    first = track(app, "Road Trip/01 Song.flac")
    assert (first["album"], first["album_artist"], first["compilation"]) == ("Road Trip", "Various Artists", True)
    assert track(app, "Road Trip/02 Song.flac")["id"] != first["id"]
    assert {track(app, f"Road Trip/0{n} Song.flac")["album"] for n in (1, 2)} == {"Road Trip"}
    for number in (1, 2, 3):  # an artist's album with a guest track stays the artist's
        assert track(app, f"Cee/Solo/0{number} Take.flac")["album_artist"] == "Cee"
    with app.app_context():
        albums = sorted((a.title, a.album_artist.name) for a in get_db().scalars(select(Album)))
    assert albums == [("Road Trip", "Various Artists"), ("Solo", "Cee")]  # the per-artist albums pruned
    tag_vorbis(FLAC(tone(trip / "03 Song.flac", 403)), title="Song 3", artist="Eve", album="Road Trip", tracknumber="3")
    assert runner.invoke(args=["scan"]).exit_code == 0
    assert track(app, "Road Trip/03 Song.flac")["album_artist"] == "Various Artists"
    assert names(app, Artist, Artist.name) == ["Ann", "Ben", "Cee", "Cee feat. Dee", "Eve", "Various Artists"]

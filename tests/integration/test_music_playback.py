"""Playback of every audio format on the real files of ../shared/music-tags (its MANIFEST.md): what
Chromium plays is served directly (Range: 206 with the right Content-Type, 416), everything else that
scans is transcoded by a real RQ worker into an audio-only HLS of the full duration, checked with m3u8;
a file with two audio tracks offers both."""
import os
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import m3u8
import pytest
from redis import Redis
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import MediaFile
from mediaserver.scanner.walk import MEDIA_EXTENSIONS
from tests.helpers import MUSIC_TAGS, PASSWORD, TEST_REDIS_URL, app_config, run_worker
from tests.music_library import link_music_tags

#: What a browser is sent for each kind of file Chromium plays, by extension (MANIFEST.md's formats).
DIRECT_MIME = {".flac": "audio/flac", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".m4b": "audio/mp4",
               ".3g2": "audio/mp4", ".mp4": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg",
               ".oggflac": "audio/ogg", ".opus": "audio/ogg", ".wav": "audio/wav"}
#: Files with those extensions that are not what Chromium plays: ALAC in MP4, Theora video in Ogg.
NOT_DIRECT = {"alac.m4a", "sample.oggtheora", "sample_length.oggtheora"}
#: Files that ffprobe opens but ffmpeg cannot decode to the end (a truncated WMA, an APE header alone)
#: or at all (DSD files of 0-12 ms from which it reads no sample: "Invalid data found"): their
#: transcode fails with ffmpeg's reason, and playback says so.
UNDECODABLE_AUDIO = {"issue_29.wma", "mac-390-hdr.ape", "2822400-1ch-0s-silence.dff", "2822400-1ch-0s-silence.dsf",
                     "with-id3.dsf", "without-id3.dsf"}
#: A few non-browser formats whose ladders are checked in detail: ALAC, WMA, APE, WavPack, TAK,
#: Musepack, DSD, AC-3, AIFF.
CHECKED_LADDERS = ("alac.m4a", "silence-1.wma", "silence-3.wma", "mac-396.ape", "silence-44-s.wv",
                   "silence-44-s.tak", "sv8_header.mpc", "5644800-2ch-s01-silence.dsf", "silence-44-s.ac3",
                   "8k-1ch-3.5s-silence.aif")
TWO_TRACKS = "two-tracks.mka"
#: MANIFEST.md's "ffprobe fails" files, and 64bit.mp4 (it opens with no stream): the scan fails them.
UNSCANNED = {"106-invalid-streaminfo.flac", "106-short-picture-block-size.flac", "5644800-2ch-s01-silence-dst.dff",
             "adif.aac", "almostempty.mpc", "bad-POPM-frame.mp3", "empty.ofr", "empty.ofs", "emptyfile.mp3",
             "ooming-header.flac", "sample_bitrate.oggtheora", "silence-2s-44100-16.ofr", "silence-2s-44100-16.ofs",
             "sv4_header.mpc", "sv5_header.mpc", "too-short.mp3", "64bit.mp4"}


def two_track_file(path: Path) -> None:
    """A 4 s Matroska file with two Vorbis tracks, English and French (the default)."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=4",
                    "-f", "lavfi", "-i", "sine=f=660:d=4", "-map", "0", "-map", "1", "-c:a", "libvorbis",
                    "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fre",
                    "-disposition:a:0", "0", "-disposition:a:1", "default", str(path)], check=True)


@pytest.fixture(scope="module")
def music_app(tmp_path_factory):
    """Every file of music-tags with a media extension, and a two-track file, scanned (not transcoded)."""
    base = tmp_path_factory.mktemp("music-playback")
    root = link_music_tags(base / "lib")
    two_track_file(root / TWO_TRACKS)
    redis = Redis.from_url(TEST_REDIS_URL)
    redis.flushdb()
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(root)], PROBE_WORKERS=2))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    yield app
    redis.flushdb()


@pytest.fixture(scope="module")
def viewer(music_app):
    client = music_app.test_client()
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200
    return client


@pytest.fixture(scope="module")
def scanned(music_app):
    """{file name: (media id, duration in ms)} of every file the scan read (status ok)."""
    with music_app.app_context():
        rows = get_db().scalars(select(MediaFile).where(MediaFile.status == "ok")).all()
        return {m.path: (m.id, m.duration_ms) for m in rows}


@pytest.fixture(scope="module")
def first_answers(viewer, scanned):
    """The first /playback answer of every scanned file (it queues the ladders), then the worker's run."""
    return {name: viewer.get(f"/api/media-files/{media_id}/playback") for name, (media_id, _) in scanned.items()}


@pytest.fixture(scope="module")
def transcoded(music_app, first_answers):
    run_worker(music_app)
    return music_app


def expected_mime(name: str) -> str | None:
    return None if name in NOT_DIRECT or name == TWO_TRACKS else DIRECT_MIME.get(os.path.splitext(name)[1])


def test_the_scan_reads_what_ffprobe_opens(scanned):
    files = {p.name for p in MUSIC_TAGS.iterdir() if p.suffix.lower() in MEDIA_EXTENSIONS}
    assert len(files) == 92 and set(scanned) == files - UNSCANNED | {TWO_TRACKS}


def test_browser_formats_play_directly_and_the_others_are_transcoded(first_answers):
    direct = {name for name in first_answers if expected_mime(name)}
    assert len(direct) > 40
    for name, response in first_answers.items():
        body = response.json
        if name in direct:
            assert response.status_code == 200, (name, body)
            assert (body["method"], body["kind"], body["status"], body["reasons"]) == ("direct", "file", "ready", []), name
            assert urlparse(body["url"]).path.endswith("/" + name)
        else:
            assert response.status_code == 409 and body["method"] == "transcode", (name, body)
            assert body["status"] == "queued" and body["reasons"], name


@pytest.mark.parametrize("name", sorted(n for n in set(os.listdir(MUSIC_TAGS)) - UNSCANNED if expected_mime(n)))
def test_a_direct_file_answers_a_range_with_206_and_its_type_and_a_bad_range_with_416(music_app, first_answers, name):
    path = urlparse(first_answers[name].json["url"]).path
    data = (MUSIC_TAGS / name).read_bytes()
    anonymous = music_app.test_client()  # the token alone
    part = anonymous.get(path, headers={"Range": "bytes=10-99"})
    assert part.status_code == 206 and part.data == data[10:100]
    assert part.mimetype == expected_mime(name) and part.headers["Content-Range"] == f"bytes 10-99/{len(data)}"
    beyond = anonymous.get(path, headers={"Range": f"bytes={len(data) + 1}-"})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    assert anonymous.get(path.replace("/media/", "/media/x", 1)).status_code == 404


def test_every_transcoded_file_becomes_an_audio_only_vod_hls_of_its_full_duration(transcoded, viewer, scanned,
                                                                                 first_answers):
    base = os.path.join(transcoded.config["DATA_DIR"], "hls")
    for name in (n for n in first_answers if not expected_mime(n)):
        media_id, duration_ms = scanned[name]
        response = viewer.get(f"/api/media-files/{media_id}/playback")
        body = response.json
        if name in UNDECODABLE_AUDIO:
            assert response.status_code == 409 and body["status"] == "failed" and body["error"], name
            continue
        assert response.status_code == 200 and (body["kind"], body["status"]) == ("hls", "ready"), (name, body)
        folder = os.path.join(base, _output_dir(transcoded, media_id))
        master = m3u8.load(os.path.join(folder, "master.m3u8"))
        assert master.is_variant and master.playlists, name
        if name.endswith(".oggtheora"):
            continue  # video: test_transcode's business
        audio_count = 2 if name == TWO_TRACKS else 1
        assert len(master.playlists) == audio_count and not master.media, name
        for variant in master.playlists:
            assert variant.stream_info.codecs == "mp4a.40.2" and variant.stream_info.resolution is None, name
            playlist = m3u8.load(os.path.join(folder, variant.uri))
            assert playlist.playlist_type == "vod" and playlist.is_endlist and playlist.segments, name
            assert playlist.segment_map, name  # fMP4: an init segment
            for segment in playlist.segments:
                assert os.path.isfile(os.path.join(folder, os.path.dirname(variant.uri), segment.uri)), name
            if duration_ms and name in CHECKED_LADDERS + (TWO_TRACKS,):
                total_s = sum(s.duration for s in playlist.segments)
                assert total_s == pytest.approx(duration_ms / 1000, abs=0.1), name  # a few AAC frames


def _output_dir(app, media_id):
    with app.app_context():
        return get_db().get(MediaFile, media_id).playable_job.output_dir


def test_a_longer_transcode_is_seekable_segment_by_segment(transcoded, viewer, scanned):
    """The 3.5 s AIFF and the 3.7 s WavPack: more than one segment (the first cut at 2 s, hls_init_time),
    each fetched through the token alone, as a player seeking into it does."""
    for name in ("8k-1ch-3.5s-silence.aif", "silence-44-s.wv"):
        body = viewer.get(f"/api/media-files/{scanned[name][0]}/playback").json
        master_url = urlparse(body["url"]).path
        anonymous = transcoded.test_client()
        master = m3u8.loads(anonymous.get(master_url).text)
        (variant,) = master.playlists
        folder_url = master_url.rsplit("/", 1)[0]
        playlist = m3u8.loads(anonymous.get(f"{folder_url}/{variant.uri}").text)
        assert len(playlist.segments) >= 2 and playlist.segments[0].duration == pytest.approx(2.0, abs=0.05)
        sub = os.path.dirname(variant.uri)
        last = anonymous.get(f"{folder_url}/{sub}/{playlist.segments[-1].uri}")
        assert last.status_code == 200 and last.data and last.mimetype == "video/iso.segment"


def test_a_file_with_two_audio_tracks_offers_both(transcoded, viewer, scanned, first_answers):
    assert first_answers[TWO_TRACKS].json["reasons"] == ["2 audio tracks (a browser plays one)"]
    body = viewer.get(f"/api/media-files/{scanned[TWO_TRACKS][0]}/playback").json
    assert [(a["key"], a["language"], a["default"]) for a in body["audio"]] == [("a0", "en", False), ("a1", "fr", True)]
    master = m3u8.load(os.path.join(transcoded.config["DATA_DIR"], "hls",
                                    _output_dir(transcoded, scanned[TWO_TRACKS][0]), "master.m3u8"))
    # the default first: the variant a player starts with (hls.js: the first listed; the player pins it)
    assert [p.uri for p in master.playlists] == ["audio_1/index.m3u8", "audio_0/index.m3u8"]

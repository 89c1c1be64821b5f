"""Ladder jobs run by a real RQ worker (burst) on real clips; outputs checked with m3u8 and ffprobe."""
import json
import os
import subprocess

import m3u8
import pytest
from sqlalchemy import select

from mediaserver.db import get_db
from mediaserver.models import MediaFile, TranscodeJob
from tests.helpers import MEDIA, UNDECODABLE, UNREADABLE, decodable_media, media_id

BBB = "video/bbb_h264_aac_720p_30s.mp4"


def job_for(app, rel):
    with app.app_context():
        media = get_db().scalar(select(MediaFile).where(MediaFile.path == rel))
        return media.latest_job


def output_dir(app, rel):
    return os.path.join(app.config["DATA_DIR"], "hls", job_for(app, rel).output_dir)


def ffprobe_json(*args):
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args],
                                     capture_output=True, check=True).stdout)


def keyframe_times(playlist):
    packets = ffprobe_json("-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", playlist)["packets"]
    return [round(float(p["pts_time"]), 3) for p in packets if "K" in p["flags"]]


@pytest.mark.every_clip
@pytest.mark.parametrize("rel", decodable_media())
def test_every_decodable_clip_gets_a_ladder_that_parses_and_matches_its_playlists(ladder_app, rel):
    job = job_for(ladder_app, rel)
    assert (job.status, job.progress, job.error) == ("succeeded", 100.0, None)
    base = output_dir(ladder_app, rel)
    master = m3u8.load(os.path.join(base, "master.m3u8"))
    assert master.is_variant and master.playlists
    for uri in [p.uri for p in master.playlists] + [m.uri for m in master.media]:
        media = m3u8.load(os.path.join(base, uri))
        assert media.playlist_type == "vod" and media.is_endlist and media.segments
        assert media.segment_map or uri.startswith("subs/")  # fMP4 has an init segment; WebVTT does not
        for segment in media.segments:
            assert os.path.isfile(os.path.join(base, os.path.dirname(uri), segment.uri))
    video = [p for p in master.playlists if p.stream_info.resolution]
    for variant in video:
        probed = ffprobe_json("-show_streams", os.path.join(base, variant.uri))["streams"][0]
        assert (probed["width"], probed["height"]) == variant.stream_info.resolution
        assert probed["width"] % 2 == 0 and probed["height"] % 2 == 0
    if len(video) > 1:
        times = [keyframe_times(os.path.join(base, v.uri)) for v in video]
        assert all(t == times[0] for t in times), "keyframes differ between rungs"


def test_truncated_file_fails_with_a_reason_and_leaves_nothing_playable(titles_app):
    job = job_for(titles_app, "broken/flower_truncated.mp4")
    assert job.status == "failed" and job.output_dir is None
    assert "decoding stopped at" in job.error and "Invalid data found" in job.error
    hls = os.path.join(titles_app.config["DATA_DIR"], "hls")
    assert not [d for d in os.listdir(hls) if d.startswith(".tmp")]
    assert not [d for d in os.listdir(hls) if d.startswith(f"{media_id(titles_app, 'broken/flower_truncated.mp4')}-")]
    with titles_app.app_context():  # one ladder for each decodable file of the library, none for this one
        paths = get_db().scalars(select(MediaFile.path)).all()
    assert len(os.listdir(hls)) == len([p for p in paths if p not in UNDECODABLE | UNREADABLE])


def test_master_describes_what_was_encoded(titles_app):
    base = output_dir(titles_app, BBB)
    master = m3u8.load(os.path.join(base, "master.m3u8"))
    assert [p.stream_info.resolution for p in master.playlists] == [(1280, 720), (854, 480), (640, 360)]
    (audio,) = master.media
    assert audio.type == "AUDIO" and audio.uri == "audio_0/index.m3u8" and audio.default == "YES"
    audio_playlist = m3u8.load(os.path.join(base, audio.uri))
    audio_bits = sum(os.path.getsize(os.path.join(base, "audio_0", s.uri)) * 8 for s in audio_playlist.segments)
    for variant in master.playlists:
        info = variant.stream_info
        media = m3u8.load(os.path.join(base, variant.uri))
        assert media.playlist_type == "vod" and media.is_endlist and media.segment_map
        bits = sum(os.path.getsize(os.path.join(base, os.path.dirname(variant.uri), s.uri)) * 8 for s in media.segments)
        duration = sum(s.duration for s in media.segments)
        assert info.average_bandwidth == pytest.approx((bits + audio_bits) / duration, rel=0.02)
        assert info.bandwidth >= info.average_bandwidth
        assert info.frame_rate == 24.0 and info.codecs.startswith("avc1.64") and info.codecs.endswith(",mp4a.40.2")
        probed = ffprobe_json("-show_streams", os.path.join(base, variant.uri))["streams"][0]
        assert (probed["width"], probed["height"]) == info.resolution
        assert probed["codec_name"] == "h264" and probed["profile"] == "High"


def test_an_h264_source_is_copied_and_the_lower_rungs_take_its_keyframes(titles_app):
    base = output_dir(titles_app, BBB)
    master = m3u8.load(os.path.join(base, "master.m3u8"))
    times = [keyframe_times(os.path.join(base, p.uri)) for p in master.playlists]
    assert len(times) == 3 and times[0] == times[1] == times[2]
    assert times[0] == keyframe_times(str(MEDIA / BBB))  # the source's own keyframes (its GOP is 2 s or a scene cut)
    top = ffprobe_json("-show_packets", "-select_streams", "v:0", os.path.join(base, master.playlists[0].uri))
    source = ffprobe_json("-show_packets", "-select_streams", "v:0", str(MEDIA / BBB))
    assert [p["size"] for p in top["packets"]] == [p["size"] for p in source["packets"]]  # copied, not encoded
    segments = [[s.duration for s in m3u8.load(os.path.join(base, p.uri)).segments] for p in master.playlists]
    assert segments[0] == segments[1] == segments[2]


def test_a_transcoded_source_gets_an_idr_every_2_s_on_every_rung(titles_app):
    base = output_dir(titles_app, "video/big_buck_bunny_0_30.webm")
    master = m3u8.load(os.path.join(base, "master.m3u8"))
    times = [keyframe_times(os.path.join(base, p.uri)) for p in master.playlists]
    assert len(times) == 3 and times[0] == times[1] == times[2]
    assert times[0][0] < 0.1 and len(times[0]) == 15
    assert {round(b - a, 3) for a, b in zip(times[0], times[0][1:])} == {2.0}
    segments = [[s.duration for s in m3u8.load(os.path.join(base, p.uri)).segments] for p in master.playlists]
    assert segments[0] == segments[1] == segments[2]


def test_tracks_become_renditions_with_languages_and_bitmap_subtitles_are_left_out(titles_app):
    master = m3u8.load(os.path.join(output_dir(titles_app, "video/friday_multitrack.mkv"), "master.m3u8"))
    audio = [(m.language, m.default) for m in master.media if m.type == "AUDIO"]
    subs = [(m.language, m.name) for m in master.media if m.type == "SUBTITLES"]
    assert audio == [("en", "YES"), ("fr", "NO")]
    assert subs == [("en", "English (SRT)"), ("en", "English (ASS conversion)")]
    base = output_dir(titles_app, "video/friday_multitrack.mkv")
    vtt = open(os.path.join(base, "subs", "s3.vtt")).read()
    assert vtt.startswith("WEBVTT") and "-->" in vtt
    pgs = m3u8.load(os.path.join(output_dir(titles_app, "video/sample_with_pgs_subtitles.mkv"), "master.m3u8"))
    assert not [m for m in pgs.media if m.type == "SUBTITLES"]


def test_video_without_audio_and_audio_only_titles(titles_app):
    hevc = m3u8.load(os.path.join(output_dir(titles_app, "video/bbb_hevc_720p_10s.mp4"), "master.m3u8"))
    assert all(p.stream_info.codecs.startswith("avc1.") for p in hevc.playlists)  # HEVC became H.264
    music = m3u8.load(os.path.join(output_dir(titles_app, "audio/bear_with_picture.flac"), "master.m3u8"))
    (variant,) = music.playlists
    assert variant.stream_info.codecs == "mp4a.40.2" and variant.stream_info.resolution is None


def test_low_resolution_source_gets_one_rung_at_its_size(titles_app):
    master = m3u8.load(os.path.join(output_dir(titles_app, "video/rabbit320.mp4"), "master.m3u8"))
    assert [p.stream_info.resolution for p in master.playlists] == [(320, 240)]


def test_api_reports_the_jobs(titles_app):
    client = titles_app.test_client()
    client.post("/api/auth/login", json={"username": "alice", "password": "correct horse battery"})
    items = {i["path"]: i for i in client.get("/api/library/media-files").json["items"]}
    assert items[BBB]["transcode"] == {"status": "succeeded", "progress": 100.0, "error": None, "playable": True}
    broken = items["broken/flower_truncated.mp4"]["transcode"]
    assert broken["status"] == "failed" and not broken["playable"] and "decoding stopped" in broken["error"]
    with titles_app.app_context():
        assert get_db().scalar(select(TranscodeJob).where(TranscodeJob.status.in_(("queued", "running")))) is None

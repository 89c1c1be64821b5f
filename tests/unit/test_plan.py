"""transcode/plan.py on plain facts (no database): the ladder job, and the audio and subtitle tracks."""
from __future__ import annotations

import pytest

from mediaserver.streams import StreamFacts
from mediaserver.transcode.plan import MediaFacts, SidecarFacts, audio_tracks, ladder_job_for, subtitle_tracks

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
H264 = StreamFacts(0, "video", "h264", "High", 41, "yuv420p", "progressive", "bt709", "1:1", 0, 1280, 720,
                   fps=25.0, bit_rate=2_500_000, duration_ms=30_000)
AAC = StreamFacts(1, "audio", "aac", language="eng", duration_ms=30_000)


def media(*streams, container=MP4, sidecars=(), duration_ms=30_000) -> MediaFacts:
    return MediaFacts("/lib/Film.mp4", container, duration_ms, tuple(streams), tuple(sidecars))


def test_a_browser_safe_source_keeps_its_video_as_the_copied_top_rung_keyed_to_its_keyframes():
    job = ladder_job_for(media(H264, AAC), "ffmpeg", keyframe_times_s=(0.0, 2.0, 4.0))
    assert [(r.name, r.width, r.height, r.copy) for r in job.rungs] == [
        ("720p", 1280, 720, True), ("480p", 854, 480, False), ("360p", 640, 360, False)]
    assert job.rungs[0].max_bitrate_bps == 2_500_000  # the copied stream's own bit rate is its cap
    assert job.keyframe_times_s == (0.0, 2.0, 4.0) and job.source == "/lib/Film.mp4"
    assert job.video_index == 0 and [(a.index, a.folder) for a in job.audios] == [(1, "audio_0")]
    assert job.cfr_fps is None and job.pad_video_s is None


def test_without_keyframe_times_a_safe_source_is_encoded_whole():
    job = ladder_job_for(media(H264, AAC), "ffmpeg")
    assert not any(r.copy for r in job.rungs) and job.keyframe_times_s is None


def test_hard_sources_get_their_picture_fixes():
    hdr_10bit = StreamFacts(0, "video", "hevc", "Main 10", 120, "yuv420p10le", "tt", "smpte2084", "1:1", 90,
                            1920, 1080, fps=29.97, is_vfr=True, duration_ms=20_000)
    job = ladder_job_for(media(hdr_10bit, AAC), "ffmpeg", keyframe_times_s=(0.0,))
    assert job.hdr and job.interlaced and job.cfr_fps == round(30000 / 1001, 5)
    assert job.keyframe_times_s is None and not any(r.copy for r in job.rungs)
    assert (job.rungs[0].width, job.rungs[0].height) == (608, 1080)  # rotated upright: a portrait ladder, 1080p at most
    assert job.pad_video_s == pytest.approx(10.0)  # the audio runs 10 s past the picture: held that long


def test_audio_only_and_nothing_to_encode():
    flac = StreamFacts(0, "audio", "flac")
    cover = StreamFacts(1, "video", "mjpeg", width=500, height=500, attached_pic=True)
    job = ladder_job_for(media(flac, cover, container="flac"), "ffmpeg")
    assert job.rungs == () and job.video_index is None and [a.index for a in job.audios] == [0]
    with pytest.raises(ValueError, match="no video or audio"):
        ladder_job_for(media(StreamFacts(0, "subtitle", "subrip")), "ffmpeg")


def test_audio_tracks_are_named_and_tagged_and_keep_the_sources_default():
    tracks = audio_tracks(media(H264, StreamFacts(1, "audio", "aac", language="eng"),
                                StreamFacts(2, "audio", "ac3", language="fre", title="Commentaire", is_default=True),
                                StreamFacts(3, "audio", "aac")))
    assert [(t.key, t.name, t.language, t.default, t.stream_index) for t in tracks] == [
        ("a1", "English", "en", False, 1), ("a2", "Commentaire", "fr", True, 2), ("a3", "Track 3", None, False, 3)]
    first = audio_tracks(media(H264, StreamFacts(1, "audio", "aac"), StreamFacts(2, "audio", "aac")))
    assert [t.default for t in first] == [True, False]  # none flagged: the first is the default


def test_subtitle_tracks_list_embedded_then_sidecar_files_and_say_which_cannot_become_text():
    tracks = subtitle_tracks(media(
        H264, StreamFacts(2, "subtitle", "subrip", language="eng", is_default=True),
        StreamFacts(3, "subtitle", "hdmv_pgs_subtitle", language="ger"),
        StreamFacts(4, "subtitle", "eia_608"),
        sidecars=[SidecarFacts(7, "/lib/Film.fr.forced.srt", "fre", forced=True),
                  SidecarFacts(8, "/lib/Film.en.sdh.sub", "eng", sdh=True, format="vobsub")]))
    assert [(t.key, t.name, t.language, t.convertible) for t in tracks] == [
        ("s2", "English", "en", True), ("s3", "German", "de", False), ("s4", "Subtitles 3", None, False),
        ("x7", "French (forced)", "fr", True), ("x8", "English (SDH)", "en", False)]
    assert tracks[0].default and tracks[3].forced and tracks[3].path == "/lib/Film.fr.forced.srt"
    assert "bitmap" in tracks[1].note and "eia_608" in tracks[2].note and "vobsub" in tracks[4].note

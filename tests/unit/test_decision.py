"""Direct play, remux or transcode (docs/PLAYBACK.md), and the track names and language tags."""
import pytest

from mediaserver.streams import StreamFacts
from mediaserver.transcode.decision import DIRECT, REMUX, TRANSCODE, decide, subtitle_kind
from mediaserver.transcode.plan import constant_rate, language_tag
from mediaserver.transcode.playlist import event_to_vod, subtitle_playlist

MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
H264 = StreamFacts(0, "video", "h264", "High", 41, "yuv420p", "progressive", "bt709", "1:1", 0, 1280, 720)
AAC = StreamFacts(1, "audio", "aac")


def video(**changes):
    return StreamFacts(**{**vars(H264), **changes})


def test_h264_high_41_with_aac_in_mp4_plays_directly():
    assert decide(MP4, [H264, AAC]).method == DIRECT
    assert decide(MP4, [H264]).method == DIRECT
    assert decide(MP4, [AAC]).method == DIRECT
    assert decide("mp3", [StreamFacts(0, "audio", "mp3")]).method == DIRECT


@pytest.mark.parametrize("container,streams,reason", [
    ("matroska,webm", [H264, AAC], "container matroska,webm is not MP4"),
    (MP4, [H264, StreamFacts(1, "audio", "ac3")], "audio codec ac3 is not AAC"),
    (MP4, [H264, AAC, StreamFacts(2, "audio", "aac")], "2 audio tracks"),
])
def test_browser_safe_video_elsewhere_is_remuxed_with_its_video_copied(container, streams, reason):
    decision = decide(container, streams)
    assert decision.method == REMUX and decision.copy_video
    assert any(reason in r for r in decision.reasons)


@pytest.mark.parametrize("changes,reason", [
    ({"codec": "hevc"}, "video codec hevc is not H.264"),
    ({"profile": "High 10"}, "profile High 10"),
    ({"level": 51}, "level 5.1 is above 4.2"),
    ({"level": None}, "level unknown"),
    ({"pix_fmt": "yuv420p10le"}, "not 8-bit 4:2:0"),
    ({"field_order": "tt"}, "interlaced"),
    ({"color_transfer": "smpte2084"}, "HDR"),
    ({"color_transfer": "arib-std-b67"}, "HDR"),
    ({"sample_aspect_ratio": "64:45"}, "not square"),
    ({"rotation": 90}, "rotated by 90"),
    ({"width": 641}, "odd size"),
])
def test_anything_else_is_transcoded_and_says_why(changes, reason):
    decision = decide(MP4, [video(**changes), AAC])
    assert decision.method == TRANSCODE and not decision.copy_video
    assert any(reason in r for r in decision.reasons)


def test_hdr_and_interlacing_are_flagged_for_the_filters():
    assert decide(MP4, [video(color_transfer="smpte2084")]).hdr
    assert decide("mpegts", [video(codec="mpeg2video", field_order="tt")]).interlaced


def test_audio_only_flac_plays_directly_and_cover_art_is_not_video():
    cover = StreamFacts(1, "video", "png", width=500, height=500, attached_pic=True)
    assert decide("flac", [StreamFacts(0, "audio", "flac"), cover]).method == DIRECT  # tests/unit/test_decision_audio.py


def test_subtitle_kinds():
    assert [subtitle_kind(c) for c in ("subrip", "ass", "mov_text", "hdmv_pgs_subtitle", "dvd_subtitle", "eia_608")] == \
        ["text", "text", "text", "bitmap", "bitmap", "unknown"]


def test_language_tags_from_iso_639_2():
    assert [language_tag(c) for c in ("eng", "fre", "fra", "ger", "deu", "en", "und", None, "qqq")] == \
        ["en", "fr", "fr", "de", "de", "en", None, None, "qqq"]


def test_vfr_is_made_constant_at_the_nearest_standard_rate():
    assert constant_rate(29.87) == round(30000 / 1001, 5)
    assert constant_rate(24.1) == 24.0
    assert constant_rate(17.3) == 17.3
    assert constant_rate(None) is None


def test_event_playlists_become_vod_and_subtitles_get_one_segment():
    event = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:6.0,\nseg_00000.m4s\n"
    vod = event_to_vod(event)
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in vod and vod.endswith("#EXT-X-ENDLIST\n")
    assert event_to_vod(vod) == vod
    text = subtitle_playlist("s3.vtt", 6.2)
    assert "#EXT-X-TARGETDURATION:7" in text and "#EXTINF:6.200," in text and "s3.vtt" in text

"""Master playlist text and codec strings (RFC 8216, RFC 6381)."""
import m3u8
import pytest

from mediaserver.exceptions import TranscodeError
from mediaserver.transcode.measure import avc_codec_string
from mediaserver.transcode.playlist import Rendition, render_master

V720 = Rendition("720p/index.m3u8", "avc1.64001f", 2_000_000, 1_500_000, 30.0, 1280, 720, 24.0)
V360 = Rendition("360p/index.m3u8", "avc1.64001e", 600_000, 500_000, 30.0, 640, 360, 24.0)
AUDIO = Rendition("audio/index.m3u8", "mp4a.40.2", 130_000, 128_000, 30.0)


def test_video_variants_carry_their_audio_groups_bandwidth_and_codecs():
    master = m3u8.loads(render_master([V720, V360], AUDIO))
    assert master.is_variant
    first = master.playlists[0].stream_info
    assert first.bandwidth == 2_130_000 and first.average_bandwidth == 1_628_000
    assert first.resolution == (1280, 720) and first.frame_rate == 24.0
    assert first.codecs == "avc1.64001f,mp4a.40.2" and first.audio == "audio"
    assert [p.uri for p in master.playlists] == ["720p/index.m3u8", "360p/index.m3u8"]
    (media,) = master.media
    assert (media.type, media.group_id, media.uri, media.default) == ("AUDIO", "audio", "audio/index.m3u8", "YES")


def test_video_without_audio_has_no_audio_group():
    master = m3u8.loads(render_master([V360], None))
    assert not master.media and master.playlists[0].stream_info.audio is None
    assert master.playlists[0].stream_info.codecs == "avc1.64001e"


def test_audio_only_title_gets_one_audio_variant():
    master = m3u8.loads(render_master([], AUDIO))
    (variant,) = master.playlists
    assert variant.uri == "audio/index.m3u8" and variant.stream_info.codecs == "mp4a.40.2"
    assert variant.stream_info.resolution is None


def test_an_audio_only_title_lists_its_default_track_first_then_the_others_in_file_order():
    tracks = [Rendition(f"audio_{i}/index.m3u8", "mp4a.40.2", 130_000, 128_000, 4.0, default=i == 1, language=lang)
              for i, lang in enumerate(("en", "fr", "de"))]
    master = m3u8.loads(render_master([], tracks))
    assert [p.uri for p in master.playlists] == ["audio_1/index.m3u8", "audio_0/index.m3u8", "audio_2/index.m3u8"]
    assert not master.media and {p.stream_info.codecs for p in master.playlists} == {"mp4a.40.2"}


def test_empty_ladder_is_an_error():
    with pytest.raises(ValueError):
        render_master([], None)


def test_avc_codec_string_reads_profile_constraints_and_level(tmp_path):
    init = tmp_path / "init.mp4"
    init.write_bytes(b"\x00\x00\x00\x10ftypisom" + b"\x00\x00\x00\x20avcC\x01\x64\x00\x1f\xff")
    assert avc_codec_string(str(init)) == "avc1.64001f"
    init.write_bytes(b"no box here")
    with pytest.raises(TranscodeError):
        avc_codec_string(str(init))

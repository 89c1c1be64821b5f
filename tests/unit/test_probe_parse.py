"""ffprobe JSON -> typed facts (pure part of the probe)."""
import pytest

from mediaserver.exceptions import ProbeError
from mediaserver.scanner.probe import parse_probe
from mediaserver.text import tool_message


def test_format_and_stream_facts_with_units():
    result = parse_probe({
        "format": {"format_name": "matroska,webm", "duration": "6.200000", "bit_rate": "843000"},
        "streams": [
            {"index": 0, "codec_type": "video", "codec_name": "h264", "profile": "High", "width": 640,
             "height": 480, "avg_frame_rate": "30000/1001", "disposition": {"default": 1},
             "tags": {"DURATION": "00:00:06.173000000"}},
            {"index": 1, "codec_type": "audio", "codec_name": "mp3", "channels": 2, "sample_rate": "44100",
             "tags": {"language": "fra", "title": "Commentary"}},
        ],
    })
    assert (result.container, result.duration_ms, result.bit_rate) == ("matroska,webm", 6200, 843000)
    video, audio = result.streams
    assert (video.fps, video.is_default, video.duration_ms) == (29.97, True, 6173)
    assert (audio.channels, audio.sample_rate, audio.language, audio.title) == (2, 44100, "fra", "Commentary")


def test_cover_art_is_marked_and_has_no_frame_rate():
    result = parse_probe({"format": {}, "streams": [
        {"index": 0, "codec_type": "audio", "codec_name": "flac"},
        {"index": 1, "codec_type": "video", "codec_name": "png", "width": 371, "height": 320,
         "r_frame_rate": "90000/1", "avg_frame_rate": "0/0", "disposition": {"attached_pic": 1}},
    ]})
    assert result.streams[1].attached_pic and result.streams[1].fps is None
    assert result.duration_ms is None


def test_rotation_from_the_display_matrix_is_clockwise_degrees():
    result = parse_probe({"format": {}, "streams": [
        {"index": 0, "codec_type": "video", "width": 1920, "height": 1080,
         "side_data_list": [{"side_data_type": "Display Matrix", "rotation": -90}]}]})
    assert result.streams[0].rotation == 90


def test_a_file_without_audio_or_video_is_an_error():
    with pytest.raises(ProbeError, match="no audio or video"):
        parse_probe({"format": {"format_name": "srt"}, "streams": [{"index": 0, "codec_type": "subtitle"}]})



def test_ffmpeg_messages_lose_the_memory_addresses_of_their_log_prefixes_and_keep_every_word():
    # ffprobe on ../shared/media/broken/sample_malformed_free_box.mp4, and a line of ffmpeg's
    stderr = ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55b0d4722180] moov atom not found\n"
              "/srv/films/x.mp4: Invalid data found when processing input\n"
              "[h264 @ 0x7F3A00c0] [aac @ (nil)] error while decoding MB 3 2, bytestream -5 @ 0x12 here")
    assert tool_message(stderr) == (
        "[mov,mp4,m4a,3gp,3g2,mj2] moov atom not found\n"
        "/srv/films/x.mp4: Invalid data found when processing input\n"
        "[h264] [aac] error while decoding MB 3 2, bytestream -5 @ 0x12 here")

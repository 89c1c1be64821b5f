"""The ffmpeg command: one process, one decode, same keyframe rule on every rung."""
import pytest

from mediaserver.transcode.command import LadderJob, build_command
from mediaserver.transcode.ladder import SourceVideo, plan_ladder


def values(args, flag):
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_one_input_split_into_every_rung_plus_one_audio_output():
    rungs = tuple(plan_ladder(SourceVideo(1280, 720)))
    args = build_command(LadderJob("/m/a.mp4", rungs, video_index=0, audio_index=1))
    assert args[0] == "ffmpeg" and values(args, "-i") == ["/m/a.mp4"]
    (graph,) = values(args, "-filter_complex")
    assert "split=3" in graph
    assert [o for o in args if o.endswith("index.m3u8")] == ["720p/index.m3u8", "480p/index.m3u8",
                                                             "360p/index.m3u8", "audio/index.m3u8"]
    assert values(args, "-force_key_frames") == ["expr:gte(t,n_forced*2)"] * 3
    assert values(args, "-sc_threshold") == ["0"] * 3
    assert values(args, "-hls_segment_type") == ["fmp4"] * 4
    assert values(args, "-c:a") == ["aac"] and values(args, "-ac") == ["2"]
    assert "0:1" in values(args, "-map")
    assert args.index("-progress") < args.index("-i")


def test_interlaced_source_is_deinterlaced_before_the_split():
    rungs = tuple(plan_ladder(SourceVideo(720, 576, "64:45")))
    (graph,) = values(build_command(LadderJob("/m/a.ts", rungs, 0, 1, interlaced=True)), "-filter_complex")
    assert graph.index("bwdif") < graph.index("split")


def test_audio_only_has_no_video_output():
    args = build_command(LadderJob("/m/a.flac", (), video_index=None, audio_index=0))
    assert "-filter_complex" not in args
    assert [o for o in args if o.endswith(".m3u8")] == ["audio/index.m3u8"]


def test_video_without_audio_has_no_audio_output():
    args = build_command(LadderJob("/m/a.webm", tuple(plan_ladder(SourceVideo(642, 642))), 0, None))
    assert "audio/index.m3u8" not in args and "-c:a" not in args


def test_nothing_to_encode_is_an_error():
    with pytest.raises(ValueError):
        build_command(LadderJob("/m/a.txt", (), None, None))

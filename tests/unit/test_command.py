"""The ffmpeg command: one process, one decode, same keyframe rule on every rung."""
import pytest

from mediaserver.transcode.command import AudioOut, LadderJob, build_command, keyframe_list, subtitle_command
from mediaserver.transcode.ladder import SourceVideo, plan_ladder

A1 = (AudioOut(1, "audio_0"),)


def values(args, flag):
    return [args[i + 1] for i, a in enumerate(args) if a == flag]


def test_one_input_split_into_every_rung_plus_one_audio_output():
    rungs = tuple(plan_ladder(SourceVideo(1280, 720)))
    args = build_command(LadderJob("/m/a.mp4", rungs, video_index=0, audios=A1))
    assert args[0] == "ffmpeg" and values(args, "-i") == ["/m/a.mp4"]
    (graph,) = values(args, "-filter_complex")
    assert "split=3" in graph
    assert [o for o in args if o.endswith("index.m3u8")] == ["720p/index.m3u8", "480p/index.m3u8",
                                                             "360p/index.m3u8", "audio_0/index.m3u8"]
    assert values(args, "-force_key_frames") == ["expr:gte(t,n_forced*2)"] * 3
    assert values(args, "-sc_threshold") == ["0"] * 3
    assert values(args, "-hls_segment_type") == ["fmp4"] * 4
    assert values(args, "-hls_playlist_type") == ["event"] * 4  # live until the job rewrites them as VOD
    assert values(args, "-c:a") == ["aac"] and values(args, "-ac") == ["2"]
    assert "0:1" in values(args, "-map")
    assert args.index("-progress") < args.index("-i")


def test_every_audio_track_gets_its_own_rendition():
    audios = (AudioOut(1, "audio_0"), AudioOut(2, "audio_1"))
    args = build_command(LadderJob("/m/a.mkv", tuple(plan_ladder(SourceVideo(640, 480))), 0, audios))
    assert [o for o in args if o.endswith("index.m3u8")][-2:] == ["audio_0/index.m3u8", "audio_1/index.m3u8"]
    assert {"0:1", "0:2"} <= set(values(args, "-map"))


def test_copied_top_rung_and_lower_rungs_keyed_to_the_source_keyframes():
    rungs = tuple(plan_ladder(SourceVideo(1280, 720), copy_source=True, source_bitrate_bps=2_500_000))
    assert [(r.name, r.copy) for r in rungs] == [("720p", True), ("480p", False), ("360p", False)]
    args = build_command(LadderJob("/m/a.mkv", rungs, 0, A1, keyframe_times_s=(0.0, 2.0416667, 4.5)))
    assert values(args, "-c:v") == ["copy", "libx264", "libx264"]
    (graph,) = values(args, "-filter_complex")
    assert "split=2" in graph
    # each time a hair early, so the forced keyframe lands on the source keyframe's own frame
    assert values(args, "-force_key_frames") == ["0.0000,2.0412,4.4995"] * 2
    assert keyframe_list((2.0416667,)) == "2.0412"


def test_interlaced_source_is_deinterlaced_before_the_split():
    rungs = tuple(plan_ladder(SourceVideo(720, 576, "64:45")))
    (graph,) = values(build_command(LadderJob("/m/a.ts", rungs, 0, A1, interlaced=True)), "-filter_complex")
    assert graph.index("bwdif") < graph.index("split")


def test_hdr_is_tone_mapped_and_vfr_made_constant_before_the_split():
    rungs = tuple(plan_ladder(SourceVideo(1920, 1080)))
    (graph,) = values(build_command(LadderJob("/m/a.mkv", rungs, 0, A1, hdr=True, cfr_fps=29.97003)),
                      "-filter_complex")
    assert graph.index("zscale") < graph.index("tonemap") < graph.index("fps") < graph.index("split")
    assert "tonemap=desat=0:tonemap=hable" in graph and "fps=fps=29.97003" in graph


def test_audio_only_has_no_video_output():
    args = build_command(LadderJob("/m/a.flac", (), video_index=None, audios=(AudioOut(0, "audio_0"),)))
    assert "-filter_complex" not in args
    assert [o for o in args if o.endswith(".m3u8")] == ["audio_0/index.m3u8"]


def test_video_without_audio_has_no_audio_output():
    args = build_command(LadderJob("/m/a.webm", tuple(plan_ladder(SourceVideo(642, 642))), 0))
    assert not [o for o in args if o.startswith("audio_")] and "-c:a" not in args


def test_nothing_to_encode_is_an_error():
    with pytest.raises(ValueError):
        build_command(LadderJob("/m/a.txt", (), None))


def test_subtitles_of_a_file_and_a_sidecar_in_one_command():
    args = subtitle_command([("/m/a.mkv", 3, "/o/s3.vtt"), ("/m/a.mkv", 4, "/o/s4.vtt"), ("/m/a.en.srt", None, "/o/x1.vtt")])
    assert values(args, "-i") == ["/m/a.mkv", "/m/a.en.srt"]
    assert values(args, "-map") == ["0:3", "0:4", "1:s:0"]
    assert values(args, "-c:s") == ["webvtt"] * 3
    with pytest.raises(ValueError):
        subtitle_command([])


def test_a_video_that_ends_before_its_audio_keeps_its_last_picture():
    rungs = tuple(plan_ladder(SourceVideo(1080, 720)))
    (graph,) = values(build_command(LadderJob("/m/a.mkv", rungs, 0, A1, pad_video_s=0.96)), "-filter_complex")
    assert "tpad=stop_duration=0.96:stop_mode=clone" in graph and graph.index("tpad") < graph.index("split")

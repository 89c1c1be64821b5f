"""Rungs -> one ffmpeg command line. Pure, and the only module that knows ffmpeg-python.

ffmpeg-python (last release 2019) only builds the argument list here; replacing it means rewriting
this one module. The command decodes the source once, splits the picture into one scaler per rung,
and writes one HLS output (fMP4 segments, VOD playlist) per rung plus one for the audio:

    <out>/<rung>/index.m3u8, init.mp4, seg_00000.m4s ...     video only, H.264
    <out>/audio/index.m3u8, init.mp4, seg_00000.m4s ...      AAC-LC stereo 48 kHz

Relative output paths: run the command with the output folder as the working directory.
"""
from __future__ import annotations

from dataclasses import dataclass

import ffmpeg

from .ladder import KEYFRAME_INTERVAL_S, SEGMENT_DURATION_S, Rung

#: AAC-LC stereo at 128 kb/s, 48 kHz: Apple HLS authoring spec's audio for video content.
AUDIO_BITRATE_BPS = 128_000
AUDIO_SAMPLE_RATE_HZ = 48_000
AUDIO_DIR = "audio"

#: x264 settings: capped CRF (quality-driven, never above the rung's cap); `veryfast` fits a 2-core box.
X264_PRESET = "veryfast"
X264_CRF = 22

GLOBAL_OPTIONS = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-progress", "pipe:1")

#: Field orders that mean an interlaced picture (ffprobe's `field_order`).
INTERLACED_FIELD_ORDERS = {"tt", "bb", "tb", "bt"}


@dataclass(frozen=True)
class LadderJob:
    """Everything the command needs: source path, stream indexes (absolute, as ffprobe numbers them,
    or None), rungs (empty for audio-only), whether to deinterlace, ffmpeg's path."""

    source: str
    rungs: tuple[Rung, ...]
    video_index: int | None
    audio_index: int | None
    interlaced: bool = False
    ffmpeg: str = "ffmpeg"


def hls_options(folder: str) -> dict:
    """HLS muxer options for one rendition written into `folder` (relative)."""
    return {
        "f": "hls",
        "hls_time": SEGMENT_DURATION_S,
        "hls_playlist_type": "vod",
        "hls_segment_type": "fmp4",
        "hls_fmp4_init_filename": "init.mp4",
        "hls_flags": "independent_segments",
        "hls_segment_filename": f"{folder}/seg_%05d.m4s",
    }


def video_options(rung: Rung) -> dict:
    """libx264 options for a rung: keyframes forced every KEYFRAME_INTERVAL_S on the source's timeline
    (so every rung has them at the same PTS), no scene-cut keyframes, capped CRF."""
    return {
        "c:v": "libx264",
        "preset": X264_PRESET,
        "crf": X264_CRF,
        "maxrate": rung.max_bitrate_bps,
        "bufsize": 2 * rung.max_bitrate_bps,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "force_key_frames": f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})",
        "sc_threshold": 0,
        "an": None,
        "sn": None,
    }


def audio_options() -> dict:
    """AAC-LC stereo 48 kHz at AUDIO_BITRATE_BPS; video and subtitles dropped."""
    return {
        "c:a": "aac",
        "b:a": AUDIO_BITRATE_BPS,
        "ac": 2,
        "ar": AUDIO_SAMPLE_RATE_HZ,
        "vn": None,
        "sn": None,
    }


def build_command(job: LadderJob) -> list[str]:
    """The ffmpeg argument list (argv[0] is `job.ffmpeg`). Progress goes to stdout (`-progress pipe:1`).

    Raises ValueError when there is neither a video rung nor an audio stream.
    """
    if not job.rungs and job.audio_index is None:
        raise ValueError("nothing to encode: no video rung and no audio stream")
    source = ffmpeg.input(job.source)
    outputs = []
    if job.rungs:
        if job.video_index is None:
            raise ValueError("rungs given but no video stream index")
        picture = source[str(job.video_index)]
        if job.interlaced:
            picture = picture.filter("bwdif", mode="send_frame")  # one frame per frame, not per field
        branches = [picture] if len(job.rungs) == 1 else picture.filter_multi_output("split", len(job.rungs))
        for i, rung in enumerate(job.rungs):
            scaled = branches[i].filter("scale", rung.width, rung.height).filter("setsar", "1")
            outputs.append(ffmpeg.output(scaled, f"{rung.name}/index.m3u8",
                                         **video_options(rung), **hls_options(rung.name)))
    if job.audio_index is not None:
        outputs.append(ffmpeg.output(source[str(job.audio_index)], f"{AUDIO_DIR}/index.m3u8",
                                     **audio_options(), **hls_options(AUDIO_DIR)))
    args = ffmpeg.merge_outputs(*outputs).compile(cmd=job.ffmpeg, overwrite_output=True)
    # Global options first: ffmpeg-python appends them after the outputs, where ffmpeg warns.
    return [args[0], *GLOBAL_OPTIONS, *args[1:]]

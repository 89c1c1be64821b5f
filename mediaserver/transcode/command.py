"""Rungs -> one ffmpeg command line. Pure, and the only module that knows ffmpeg-python.

ffmpeg-python (last release 2019) only builds the argument list here; replacing it means rewriting
this one module. The command decodes the source once, splits the picture into one scaler per rung,
and writes one HLS output (fMP4 segments, VOD playlist) per rung plus one for the audio:

    <out>/<rung>/index.m3u8, init.mp4, seg_00000.m4s ...     video only, H.264 (encoded or copied)
    <out>/audio_<n>/index.m3u8, init.mp4, seg_00000.m4s ...  AAC-LC stereo 48 kHz, one per audio track

Relative output paths: run the command with the output folder as the working directory.
"""
from __future__ import annotations

from dataclasses import dataclass

import ffmpeg

from .ladder import KEYFRAME_INTERVAL_S, SEGMENT_DURATION_S, Rung

#: AAC-LC stereo at 128 kb/s, 48 kHz: Apple HLS authoring spec's audio for video content.
AUDIO_BITRATE_BPS = 128_000
AUDIO_SAMPLE_RATE_HZ = 48_000

#: x264 settings: capped CRF (quality-driven, never above the rung's cap); `veryfast` fits a 2-core box.
X264_PRESET = "veryfast"
X264_CRF = 22

GLOBAL_OPTIONS = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-progress", "pipe:1")



@dataclass(frozen=True)
class AudioOut:
    """One audio rendition: the source stream's absolute `index` and the output folder (`audio_0`, ...)."""

    index: int
    folder: str


@dataclass(frozen=True)
class LadderJob:
    """Everything the command needs: source path, rungs (empty for audio-only; a `copy` rung copies the
    source's video), the video stream's absolute index (as ffprobe numbers it) or None, the audio
    renditions, and the picture fixes a transcode needs: deinterlace, tone-map HDR to SDR, a constant
    frame rate `cfr_fps` (frames/s) for a variable-frame-rate source. `keyframe_times_s`: when the
    top rung is a copy, the source's keyframe times (s, on the output's timeline) at which the encoded
    rungs put theirs, so every rung is cut at the same times. `pad_video_s`: repeat the last picture
    this long (s) when the video stream ends before the audio (a browser stops where any track's
    buffered data ends). `live`: write EVENT playlists (playable
    while the encode goes on) instead of VOD ones."""

    source: str
    rungs: tuple[Rung, ...]
    video_index: int | None
    audios: tuple[AudioOut, ...] = ()
    interlaced: bool = False
    hdr: bool = False
    cfr_fps: float | None = None
    keyframe_times_s: tuple[float, ...] | None = None
    pad_video_s: float | None = None
    live: bool = True
    ffmpeg: str = "ffmpeg"

    @property
    def folders(self) -> list[str]:
        """Every rendition folder the command writes, video rungs first."""
        return [r.name for r in self.rungs] + [a.folder for a in self.audios]


def hls_options(folder: str, live: bool = False) -> dict:
    """HLS muxer options for one rendition written into `folder` (relative): an EVENT playlist
    rewritten after every segment when `live`, else a VOD one written at the end."""
    return {
        "f": "hls",
        "hls_time": SEGMENT_DURATION_S,
        # The first segment ends at the first keyframe after 2 s, not 6 s: playable sooner while encoding.
        "hls_init_time": KEYFRAME_INTERVAL_S,
        "hls_playlist_type": "event" if live else "vod",
        "hls_segment_type": "fmp4",
        "hls_fmp4_init_filename": "init.mp4",
        "hls_flags": "independent_segments",
        "hls_segment_filename": f"{folder}/seg_%05d.m4s",
    }


#: HDR (PQ or HLG) to SDR BT.709: linearise, convert primaries, Hable tone curve, back to BT.709
#: limited range 8-bit. The chain from ffmpeg's `tonemap` filter documentation (zscale + tonemap).
TONEMAP_CHAIN = (("zscale", {"t": "linear", "npl": 100}), ("format", {"pix_fmts": "gbrpf32le"}),
                 ("zscale", {"p": "bt709"}), ("tonemap", {"tonemap": "hable", "desat": 0}),
                 ("zscale", {"t": "bt709", "m": "bt709", "r": "tv"}), ("format", {"pix_fmts": "yuv420p"}))
#: Far more frames than any GOP we ask for: with scene-cut detection off, x264 then places keyframes
#: only where they are forced.
NO_AUTOMATIC_KEYFRAMES = 100_000


def keyframe_list(times_s: tuple[float, ...]) -> str:
    """`force_key_frames` list for keyframes at `times_s`: each a hair (0.5 ms, under half a frame at
    1000 frames/s) early, since ffmpeg forces the first frame whose time is >= the given one and a
    rounded-up time would land on the next frame."""
    return ",".join(f"{max(0.0, t - 0.0005):.4f}" for t in times_s)


def video_options(rung: Rung, keyframe_times_s: tuple[float, ...] | None = None) -> dict:
    """libx264 options for a rung: keyframes forced every KEYFRAME_INTERVAL_S on the source's timeline
    (so every rung has them at the same PTS), or at the copied source's keyframe times when given,
    no scene-cut keyframes, capped CRF. A `copy` rung is the source stream as it is."""
    if rung.copy:
        return {"c:v": "copy", "an": None, "sn": None}
    forced = (keyframe_list(keyframe_times_s) if keyframe_times_s
              else f"expr:gte(t,n_forced*{KEYFRAME_INTERVAL_S})")
    return {
        "c:v": "libx264",
        "preset": X264_PRESET,
        "crf": X264_CRF,
        "maxrate": rung.max_bitrate_bps,
        "bufsize": 2 * rung.max_bitrate_bps,
        "profile:v": "high",
        "pix_fmt": "yuv420p",
        "force_key_frames": forced,
        "g": NO_AUTOMATIC_KEYFRAMES,
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

    The picture is decoded once; encoded rungs share one filter chain (deinterlace, tone-map, constant
    frame rate) before their own scaler. Raises ValueError when there is neither a video rung nor an
    audio rendition, or rungs without a video stream.
    """
    if not job.rungs and not job.audios:
        raise ValueError("nothing to encode: no video rung and no audio stream")
    source = ffmpeg.input(job.source)
    outputs = []
    if job.rungs:
        if job.video_index is None:
            raise ValueError("rungs given but no video stream index")
        stream = source[str(job.video_index)]
        encoded = [r for r in job.rungs if not r.copy]
        picture = stream
        if job.interlaced:
            picture = picture.filter("bwdif", mode="send_frame")  # one frame per frame, not per field
        if job.hdr:
            for name, options in TONEMAP_CHAIN:
                picture = picture.filter(name, **options)
        if job.cfr_fps:
            picture = picture.filter("fps", fps=job.cfr_fps)
        if job.pad_video_s:
            picture = picture.filter("tpad", stop_mode="clone", stop_duration=round(job.pad_video_s, 3))
        branches = iter([picture] if len(encoded) == 1 else picture.filter_multi_output("split", len(encoded)))
        for rung in job.rungs:
            if rung.copy:
                video = stream
            else:
                video = next(branches).filter("scale", rung.width, rung.height).filter("setsar", "1")
            # A copied rung keeps the source's B-frame delay and an encoded one gets x264's: left to
            # itself the muxer shifts each so its first DTS is 0, and their PTS would then differ by
            # a frame. Unshifted (negative first DTS, in the fMP4 edit list), every rung starts at PTS 0.
            # Encoded rungs also keep every source frame's own timestamp (the input's time base, no frame
            # dropped or repeated), so their keyframes fall on exactly the copied rung's keyframe times.
            aligned = {"avoid_negative_ts": "disabled"} if job.keyframe_times_s else {}
            if job.keyframe_times_s and not rung.copy:
                aligned.update({"enc_time_base": -1, "fps_mode": "passthrough"})
            outputs.append(ffmpeg.output(video, f"{rung.name}/index.m3u8",
                                         **video_options(rung, job.keyframe_times_s),
                                         **hls_options(rung.name, job.live), **aligned))
    for audio in job.audios:
        outputs.append(ffmpeg.output(source[str(audio.index)], f"{audio.folder}/index.m3u8",
                                     **audio_options(), **hls_options(audio.folder, job.live)))
    args = ffmpeg.merge_outputs(*outputs).compile(cmd=job.ffmpeg, overwrite_output=True)
    # Global options first: ffmpeg-python appends them after the outputs, where ffmpeg warns.
    return [args[0], *GLOBAL_OPTIONS, *args[1:]]


def subtitle_command(inputs: list[tuple[str, int | None, str]], ffmpeg_path: str = "ffmpeg") -> list[str]:
    """One ffmpeg command turning text subtitles into WebVTT files: `inputs` holds (file, stream index
    or None for a sidecar file's only stream, output path). Raises ValueError for an empty list."""
    if not inputs:
        raise ValueError("no subtitle to convert")
    opened: dict[str, object] = {}
    outputs = []
    for path, index, out in inputs:
        if path not in opened:
            opened[path] = ffmpeg.input(path)
        stream = opened[path][str(index) if index is not None else "s:0"]
        outputs.append(ffmpeg.output(stream, out, **{"c:s": "webvtt", "f": "webvtt"}))
    args = ffmpeg.merge_outputs(*outputs).compile(cmd=ffmpeg_path, overwrite_output=True)
    return [args[0], "-hide_banner", "-nostdin", "-loglevel", "error", *args[1:]]

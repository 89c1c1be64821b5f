"""Direct play, remux or transcode: the cheapest correct way to get a file into a browser.
Pure: no Flask, no database, no I/O. The table is documented in `docs/PLAYBACK.md`.

Browser-safe means what every current browser decodes through MSE or a plain `<video>`:
- video: H.264 (Constrained) Baseline, Main or High profile, level <= 4.2, 8-bit 4:2:0, progressive,
  SDR, square pixels, no rotation (rotation metadata is honoured by a player only in a plain MP4, and
  not by hls.js; a rotated picture is re-encoded upright). Sources: Apple's HLS authoring spec
  (H.264 High Profile Level 4.2 as the upper bound), MDN "Web video codec guide".
- audio: AAC-LC (mp4a.40.2) in MP4; MP3 as audio-only files.
- container: MP4/QuickTime for direct play (`<video src>` with Range requests).

Direct play: MP4/MOV, browser-safe video (or none), at most one audio track and it is AAC (or MP3
alone): the file itself is served. Remux: browser-safe video in any other container, or with other
or several audio tracks: HLS whose top rung copies the video (cut at its keyframes) and whose
audio renditions are AAC. Transcode: everything else.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..streams import StreamFacts

DIRECT, REMUX, TRANSCODE = "direct", "remux", "transcode"

SAFE_H264_PROFILES = {"baseline", "constrained baseline", "main", "high"}
#: Apple HLS authoring spec: H.264 up to High Profile Level 4.2. ffprobe prints level_idc (42 = 4.2).
MAX_H264_LEVEL = 42
SAFE_PIX_FMTS = {"yuv420p", "yuvj420p"}
#: Transfer characteristics that mean HDR (ffprobe's `color_transfer`): PQ (HDR10, SMPTE ST 2084) and HLG.
HDR_TRANSFERS = {"smpte2084", "arib-std-b67"}
INTERLACED_FIELD_ORDERS = {"tt", "bb", "tb", "bt"}
#: ffprobe's `format_name` lists every name of the demuxer; these mean an MP4/QuickTime file.
MP4_FORMAT_NAMES = {"mov", "mp4", "m4a", "3gp", "3g2", "mj2"}
TEXT_SUBTITLE_CODECS = {"subrip", "srt", "ass", "ssa", "webvtt", "mov_text", "text"}
BITMAP_SUBTITLE_CODECS = {"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"}


@dataclass(frozen=True)
class Decision:
    """`method` is DIRECT, REMUX or TRANSCODE; `reasons` says why in words (empty for direct play);
    `copy_video` when the HLS ladder's top rung may copy the source's video stream; `hdr`, `interlaced`
    flag the filters a transcode needs."""

    method: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    copy_video: bool = False
    hdr: bool = False
    interlaced: bool = False


def video_problems(video: StreamFacts) -> list[str]:
    """Why a video stream is not browser-safe H.264 ([] when it is)."""
    problems = []
    if video.codec != "h264":
        problems.append(f"video codec {video.codec or 'unknown'} is not H.264")
        return problems
    if (video.profile or "").lower() not in SAFE_H264_PROFILES:
        problems.append(f"H.264 profile {video.profile or 'unknown'} is not Baseline, Main or High")
    if video.level is None or video.level > MAX_H264_LEVEL:
        problems.append(f"H.264 level {video.level / 10 if video.level else 'unknown'} is above 4.2")
    if video.pix_fmt not in SAFE_PIX_FMTS:
        problems.append(f"pixel format {video.pix_fmt or 'unknown'} is not 8-bit 4:2:0")
    if video.field_order in INTERLACED_FIELD_ORDERS:
        problems.append("the picture is interlaced")
    if video.color_transfer in HDR_TRANSFERS:
        problems.append("the picture is HDR")
    if video.sample_aspect_ratio not in (None, "1:1", "0:1", "N/A"):
        problems.append(f"the pixels are not square (SAR {video.sample_aspect_ratio})")
    if (video.rotation or 0) % 360:
        problems.append(f"the picture is rotated by {video.rotation} degrees")
    if (video.width or 1) % 2 or (video.height or 1) % 2:
        problems.append("the picture has an odd size")
    return problems


def main_video(streams: list[StreamFacts] | tuple[StreamFacts, ...]) -> StreamFacts | None:
    """The first real video stream (cover art is not video)."""
    return next((s for s in streams if s.type == "video" and not s.attached_pic and s.width and s.height), None)


def decide(container: str | None, streams: list[StreamFacts] | tuple[StreamFacts, ...]) -> Decision:
    """Decide how `streams` (in a file whose ffprobe `format_name` is `container`, e.g. "mov,mp4,m4a,3gp,
    3g2,mj2" or "matroska,webm") reach a browser: DIRECT (serve the file), REMUX (HLS whose top rung
    copies the browser-safe video, audio made AAC) or TRANSCODE (everything encoded), with the reasons
    in words (the table: module docstring and docs/PLAYBACK.md). Never raises; no stream at all is a
    TRANSCODE whose ladder job then refuses to run (`plan.ladder_job_for`)."""
    video = main_video(streams)
    audios = [s for s in streams if s.type == "audio"]
    problems = video_problems(video) if video is not None else []
    hdr = bool(video and video.color_transfer in HDR_TRANSFERS)
    interlaced = bool(video and video.field_order in INTERLACED_FIELD_ORDERS)
    if problems:
        return Decision(TRANSCODE, tuple(problems), hdr=hdr, interlaced=interlaced)
    names = set((container or "").split(","))
    reasons = []
    if not names & MP4_FORMAT_NAMES:
        if video is None and len(audios) == 1 and audios[0].codec == "mp3" and "mp3" in names:
            return Decision(DIRECT)
        reasons.append(f"container {container or 'unknown'} is not MP4")
    if len(audios) > 1:
        reasons.append(f"{len(audios)} audio tracks (a browser plays one)")
    bad_audio = sorted({a.codec or "unknown" for a in audios if a.codec != "aac"})
    if bad_audio:
        reasons.append(f"audio codec {', '.join(bad_audio)} is not AAC")
    if not reasons:
        return Decision(DIRECT)
    if video is None:
        return Decision(TRANSCODE, tuple(reasons))
    return Decision(REMUX, tuple(reasons), copy_video=True)


def subtitle_kind(codec: str | None) -> str:
    """`text` (becomes WebVTT), `bitmap` (PGS, VobSub, DVB: cannot become text) or `unknown`."""
    if codec in TEXT_SUBTITLE_CODECS:
        return "text"
    if codec in BITMAP_SUBTITLE_CODECS:
        return "bitmap"
    return "unknown"

"""Direct play, remux or transcode: the cheapest correct way to get a file into a browser.
Pure: no Flask, no database, no I/O. The table is documented in `docs/PLAYBACK.md`.

Browser-safe means what every current browser decodes through MSE or a plain `<video>`:
- video: H.264 (Constrained) Baseline, Main or High profile, level <= 4.2, 8-bit 4:2:0, progressive,
  SDR, square pixels, no rotation (rotation metadata is honoured by a player only in a plain MP4, and
  not by hls.js; a rotated picture is re-encoded upright). Sources: Apple's HLS authoring spec
  (H.264 High Profile Level 4.2 as the upper bound), MDN "Web video codec guide".
- audio: AAC-LC (mp4a.40.2) in MP4 beside video.
- container: MP4/QuickTime for direct play of video (`<video src>` with Range requests).
- audio-only files (no video, or only cover art): `BROWSER_AUDIO`, what Chromium's own demuxers and
  decoders play from a plain `<audio src>` (Chromium's media/base/mime_util_internal.cc and its
  FFmpeg build's enabled demuxers and decoders, summed up on chromium.org "Audio/Video": FLAC, MP3,
  AAC in MP4 and ADTS, Opus, Vorbis, WAV with PCM), MDN "Media container formats" for the MIME types.

Direct play: MP4/MOV, browser-safe video, at most one audio track and it is AAC; or an audio-only
file with one audio track in a container and codec of `BROWSER_AUDIO`: the file itself is served,
with the MIME type of `Decision.mime`. Remux: browser-safe video in any other container, or with
other or several audio tracks: HLS whose top rung copies the video (cut at its keyframes) and whose
audio renditions are AAC. Transcode: everything else, audio-only files too (ALAC, WMA, APE, WavPack,
TAK, Musepack, DSD, AC-3, AIFF... and any audio-only file with several audio tracks: an audio-only
HLS, one AAC variant per track).
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

#: The MIME type of a direct-play video file (an MP4/QuickTime file, RFC 4337).
VIDEO_MP4 = "video/mp4"
#: PCM codecs (ffprobe's codec_name) Chromium decodes in WAV: its FFmpeg build enables these decoders.
WAV_PCM_CODECS = {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le"}
#: Audio-only direct play: a demuxer name of ffprobe's `format_name` (which lists every name of the
#: demuxer: "flac", "mp3", "ogg", "aac" for ADTS, "wav", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm")
#: -> {codec_name: MIME type sent}. Chromium plays these from `<audio src>` (module docstring); the
#: MIME types are IANA's / MDN's: audio/flac (RFC 9639), audio/mpeg (RFC 3003), audio/mp4 (RFC 4337),
#: audio/aac (ADTS), audio/ogg (RFC 5334), audio/webm, audio/wav. "matroska,webm" is Matroska's and
#: WebM's one demuxer: an .mka is played by the same demuxer in Chromium.
BROWSER_AUDIO: dict[str, dict[str, str]] = {
    "flac": {"flac": "audio/flac"},
    "mp3": {"mp3": "audio/mpeg"},
    "mp4": {"aac": "audio/mp4"},
    "aac": {"aac": "audio/aac"},
    "ogg": {"flac": "audio/ogg", "opus": "audio/ogg", "vorbis": "audio/ogg"},
    "webm": {"opus": "audio/webm", "vorbis": "audio/webm"},
    "wav": {codec: "audio/wav" for codec in WAV_PCM_CODECS},
}


@dataclass(frozen=True)
class Decision:
    """`method` is DIRECT, REMUX or TRANSCODE; `reasons` says why in words (empty for direct play);
    `copy_video` when the HLS ladder's top rung may copy the source's video stream; `hdr`, `interlaced`
    flag the filters a transcode needs; `mime` the MIME type a direct-play file is sent with (None
    when not DIRECT)."""

    method: str
    reasons: tuple[str, ...] = field(default_factory=tuple)
    copy_video: bool = False
    hdr: bool = False
    interlaced: bool = False
    mime: str | None = None


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


def browser_audio_mime(container: str | None, codec: str | None) -> str | None:
    """The MIME type an audio-only file with one `codec` stream in a `container` (ffprobe's format_name)
    is directly played with, or None when Chromium does not play it (`BROWSER_AUDIO`)."""
    names = set((container or "").split(","))
    return next((BROWSER_AUDIO[name][codec] for name in sorted(names)
                 if codec in BROWSER_AUDIO.get(name, {})), None)


def _decide_audio_only(container: str | None, audios: list[StreamFacts]) -> Decision:
    """An audio-only file: DIRECT when it has one audio track Chromium plays in its container, else
    TRANSCODE (an audio-only HLS) with the reason."""
    if len(audios) > 1:
        return Decision(TRANSCODE, (f"{len(audios)} audio tracks (a browser plays one)",))
    (audio,) = audios
    mime = browser_audio_mime(container, audio.codec)
    if mime is not None:
        return Decision(DIRECT, mime=mime)
    return Decision(TRANSCODE, (f"audio codec {audio.codec or 'unknown'} in container {container or 'unknown'}"
                                " is not one a browser plays",))


def decide(container: str | None, streams: list[StreamFacts] | tuple[StreamFacts, ...]) -> Decision:
    """Decide how `streams` (in a file whose ffprobe `format_name` is `container`, e.g. "mov,mp4,m4a,3gp,
    3g2,mj2" or "matroska,webm") reach a browser: DIRECT (serve the file), REMUX (HLS whose top rung
    copies the browser-safe video, audio made AAC) or TRANSCODE (everything encoded), with the reasons
    in words (the table: module docstring and docs/PLAYBACK.md). Never raises; no stream at all is a
    TRANSCODE whose ladder job then refuses to run (`plan.ladder_job_for`), except in an MP4 (DIRECT,
    as it always was)."""
    video = main_video(streams)
    audios = [s for s in streams if s.type == "audio"]
    if video is None and audios:
        return _decide_audio_only(container, audios)
    problems = video_problems(video) if video is not None else []
    hdr = bool(video and video.color_transfer in HDR_TRANSFERS)
    interlaced = bool(video and video.field_order in INTERLACED_FIELD_ORDERS)
    if problems:
        return Decision(TRANSCODE, tuple(problems), hdr=hdr, interlaced=interlaced)
    names = set((container or "").split(","))
    reasons = []
    if not names & MP4_FORMAT_NAMES:
        reasons.append(f"container {container or 'unknown'} is not MP4")
    if len(audios) > 1:
        reasons.append(f"{len(audios)} audio tracks (a browser plays one)")
    bad_audio = sorted({a.codec or "unknown" for a in audios if a.codec != "aac"})
    if bad_audio:
        reasons.append(f"audio codec {', '.join(bad_audio)} is not AAC")
    if not reasons:
        return Decision(DIRECT, mime=VIDEO_MP4)
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


def worth_pre_transcoding(decision: Decision, streams: list[StreamFacts] | tuple[StreamFacts, ...]) -> bool:
    """Whether a scan with auto-transcode on queues a ladder for a file: always, except for an
    audio-only file played directly (`decision.method` DIRECT, no real video): a player is sent the
    file itself, so its ladder (one AAC rendition) would never be served, only stored (a FLAC library
    of 10,000 tracks would cost hours of worker time and about 30 GB). A direct-play video file keeps
    its ladder: its lower rungs serve slow connections."""
    return not (decision.method == DIRECT and main_video(streams) is None)

"""Measure a finished rendition folder (I/O edge): its media playlist, segment sizes, init segment,
and one ffprobe. What it returns feeds the pure `playlist.render_master`."""
from __future__ import annotations

import os

import m3u8

from ..exceptions import ProbeError, TranscodeError
from ..ratios import parse_ratio
from ..scanner.probe import run_ffprobe
from .playlist import Rendition

#: AAC profile name (ffprobe) -> MP4 object type indication (RFC 6381, ISO/IEC 14496-3).
_AAC_OBJECT_TYPES = {"LC": 2, "HE-AAC": 5, "HE-AACv2": 29}


def measure_rendition(output_dir: str, folder: str, *, ffprobe: str = "ffprobe") -> Rendition:
    """Measure `<output_dir>/<folder>/index.m3u8`: peak and average segment bit rates (bit/s),
    total duration (s), codec string, and for video the size (px) and frame rate (frames/s).

    Raises TranscodeError naming the rendition when it has no segment or cannot be probed.
    """
    base = os.path.join(output_dir, folder)
    playlist = m3u8.load(os.path.join(base, "index.m3u8"))
    if not playlist.segments:
        raise TranscodeError(f"{folder}: ffmpeg wrote no segment")
    sizes = [os.path.getsize(os.path.join(base, seg.uri)) * 8 for seg in playlist.segments]
    durations = [seg.duration for seg in playlist.segments]
    peak = max(bits / max(dur, 0.001) for bits, dur in zip(sizes, durations))
    total_s = sum(durations)
    try:
        streams = run_ffprobe(os.path.join(base, "index.m3u8"), ffprobe=ffprobe).get("streams") or []
    except ProbeError as exc:
        raise TranscodeError(f"{folder}: the output cannot be read back: {exc}") from None
    if not streams:
        raise TranscodeError(f"{folder}: the output holds no stream")
    stream = streams[0]
    common = dict(uri=f"{folder}/index.m3u8", peak_bps=round(peak), duration_s=total_s,
                  average_bps=round(sum(sizes) / max(total_s, 0.001)))
    if stream.get("codec_type") == "video":
        fps = parse_ratio(stream.get("avg_frame_rate"), "/")
        return Rendition(codecs=avc_codec_string(os.path.join(base, "init.mp4")), width=stream["width"],
                         height=stream["height"], frame_rate=float(fps) if fps else None, **common)
    object_type = _AAC_OBJECT_TYPES.get(stream.get("profile", "LC"), 2)
    return Rendition(codecs=f"mp4a.40.{object_type}", **common)


def avc_codec_string(init_path: str) -> str:
    """`avc1.PPCCLL` from the avcC box of an fMP4 init segment (RFC 6381 3.3: profile_idc,
    constraint flags, level_idc, as hex). Raises TranscodeError when there is no avcC box."""
    with open(init_path, "rb") as fh:
        data = fh.read()
    at = data.find(b"avcC")
    if at < 0 or len(data) < at + 8:
        raise TranscodeError(f"{init_path}: no avcC box")
    profile, constraints, level = data[at + 5], data[at + 6], data[at + 7]
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"

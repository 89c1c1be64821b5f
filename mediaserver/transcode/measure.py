"""Measure a finished rendition folder (I/O edge): its media playlist, segment sizes and init segment.
What it returns feeds the pure `playlist.render_master`."""
from __future__ import annotations

import os

import m3u8

from ..exceptions import TranscodeError
from .playlist import Rendition

#: What the audio renditions hold: AAC-LC (RFC 6381, ISO/IEC 14496-3 object type 2), see `command.py`.
AAC_LC_CODECS = "mp4a.40.2"


def measure_rendition(output_dir: str, folder: str, *, width: int | None = None, height: int | None = None,
                      frame_rate: float | None = None, name: str | None = None, language: str | None = None,
                      default: bool = False) -> Rendition:
    """Measure `<output_dir>/<folder>/index.m3u8`: peak and average segment bit rates (bit/s) and total
    duration (s) from the playlist and the segment sizes; for video (`width` given) the codec string from
    the init segment's avcC box. Size (px), frame rate (frames/s), name, language and default are what
    the caller asked ffmpeg for (no ffprobe: the job's own overhead stays small).

    Raises TranscodeError naming the rendition when it has no segment or no readable init segment.
    """
    base = os.path.join(output_dir, folder)
    playlist = m3u8.load(os.path.join(base, "index.m3u8"))
    if not playlist.segments:
        raise TranscodeError(f"{folder}: ffmpeg wrote no segment")
    sizes = [os.path.getsize(os.path.join(base, seg.uri)) * 8 for seg in playlist.segments]
    durations = [seg.duration for seg in playlist.segments]
    peak = max(bits / max(dur, 0.001) for bits, dur in zip(sizes, durations))
    total_s = sum(durations)
    common = dict(uri=f"{folder}/index.m3u8", peak_bps=round(peak), duration_s=total_s,
                  average_bps=round(sum(sizes) / max(total_s, 0.001)), name=name, language=language,
                  default=default)
    if width is not None:
        return Rendition(codecs=avc_codec_string(os.path.join(base, "init.mp4")), width=width, height=height,
                         frame_rate=frame_rate, **common)
    return Rendition(codecs=AAC_LC_CODECS, **common)


def avc_codec_string(init_path: str) -> str:
    """`avc1.PPCCLL` from the avcC box of an fMP4 init segment (RFC 6381 3.3: profile_idc,
    constraint flags, level_idc, as hex). Raises TranscodeError when there is no avcC box."""
    try:
        with open(init_path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise TranscodeError(f"{init_path}: {exc.strerror}") from None
    at = data.find(b"avcC")
    if at < 0 or len(data) < at + 8:
        raise TranscodeError(f"{init_path}: no avcC box")
    profile, constraints, level = data[at + 5], data[at + 6], data[at + 7]
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"

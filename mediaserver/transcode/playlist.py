"""The master playlist, written from what was actually encoded (RFC 8216 section 4.3.4.2).

`measure_rendition` reads one finished rendition folder (its media playlist, segment sizes, init
segment, and one ffprobe); `render_master` is pure text. BANDWIDTH is the peak segment bit rate and
AVERAGE-BANDWIDTH the average over the whole rendition (RFC 8216 4.3.4.2), a video variant's figures
including its audio rendition's, as the RFC asks for variants whose audio comes from a group.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import m3u8

from ..scanner.probe import run_ffprobe

AUDIO_GROUP = "audio"

#: AAC profile name (ffprobe) -> MP4 object type indication (RFC 6381, ISO/IEC 14496-3).
_AAC_OBJECT_TYPES = {"LC": 2, "HE-AAC": 5, "HE-AACv2": 29}


@dataclass(frozen=True)
class Rendition:
    """A finished rendition: `uri` of its media playlist (relative to the master), codec string
    (RFC 6381), bit rates in bit/s, size in pixels and frame rate in frames/s (video only)."""

    uri: str
    codecs: str
    peak_bps: int
    average_bps: int
    duration_s: float
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None


def measure_rendition(output_dir: str, folder: str, *, ffprobe: str = "ffprobe") -> Rendition:
    """Measure `<output_dir>/<folder>/index.m3u8`. Raises ValueError if it holds no segment."""
    base = os.path.join(output_dir, folder)
    playlist = m3u8.load(os.path.join(base, "index.m3u8"))
    if not playlist.segments:
        raise ValueError(f"{folder}: the media playlist has no segment")
    sizes = [os.path.getsize(os.path.join(base, seg.uri)) * 8 for seg in playlist.segments]
    durations = [seg.duration for seg in playlist.segments]
    peak = max(bits / max(dur, 0.001) for bits, dur in zip(sizes, durations))
    total_s = sum(durations)
    info = run_ffprobe(os.path.join(base, "index.m3u8"), ffprobe=ffprobe)
    stream = info["streams"][0]
    common = dict(uri=f"{folder}/index.m3u8", peak_bps=round(peak), duration_s=total_s,
                  average_bps=round(sum(sizes) / max(total_s, 0.001)))
    if stream["codec_type"] == "video":
        num, _, den = stream.get("avg_frame_rate", "0/1").partition("/")
        fps = int(num) / int(den) if int(den or 0) else None
        return Rendition(codecs=avc_codec_string(os.path.join(base, "init.mp4")), width=stream["width"],
                         height=stream["height"], frame_rate=fps, **common)
    object_type = _AAC_OBJECT_TYPES.get(stream.get("profile", "LC"), 2)
    return Rendition(codecs=f"mp4a.40.{object_type}", **common)


def avc_codec_string(init_path: str) -> str:
    """`avc1.PPCCLL` from the avcC box of an fMP4 init segment (RFC 6381 3.3: profile_idc,
    constraint flags, level_idc, as hex). Raises ValueError when there is no avcC box."""
    with open(init_path, "rb") as fh:
        data = fh.read()
    at = data.find(b"avcC")
    if at < 0 or len(data) < at + 8:
        raise ValueError(f"{init_path}: no avcC box")
    profile, constraints, level = data[at + 5], data[at + 6], data[at + 7]
    return f"avc1.{profile:02x}{constraints:02x}{level:02x}"


def render_master(video: list[Rendition], audio: Rendition | None) -> str:
    """Master playlist text. Video variants reference the audio group when there is audio; an
    audio-only title gets one audio-only variant. Raises ValueError when both are empty."""
    if not video and audio is None:
        raise ValueError("a master playlist needs at least one rendition")
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if not video:
        lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={audio.peak_bps},AVERAGE-BANDWIDTH={audio.average_bps},'
                  f'CODECS="{audio.codecs}"', audio.uri]
        return "\n".join(lines) + "\n"
    if audio is not None:
        lines.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Audio",DEFAULT=YES,'
                     f'AUTOSELECT=YES,CHANNELS="2",URI="{audio.uri}"')
    for v in video:
        peak, average, codecs = v.peak_bps, v.average_bps, v.codecs
        attrs = []
        if audio is not None:
            peak, average, codecs = peak + audio.peak_bps, average + audio.average_bps, f"{codecs},{audio.codecs}"
        attrs += [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={average}", f"RESOLUTION={v.width}x{v.height}"]
        if v.frame_rate:
            attrs.append(f"FRAME-RATE={v.frame_rate:.3f}")
        attrs.append(f'CODECS="{codecs}"')
        if audio is not None:
            attrs.append(f'AUDIO="{AUDIO_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), v.uri]
    return "\n".join(lines) + "\n"

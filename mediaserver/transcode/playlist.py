"""The master playlist text, from renditions measured on the output (`measure.py`). Pure.

BANDWIDTH is the peak segment bit rate and
AVERAGE-BANDWIDTH the average over the whole rendition (RFC 8216 4.3.4.2), a video variant's figures
including its audio rendition's, as the RFC asks for variants whose audio comes from a group.
"""
from __future__ import annotations

from dataclasses import dataclass

AUDIO_GROUP = "audio"


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

"""Playlist text: the master playlist from renditions measured on the output (`measure.py`), a
subtitle rendition's one-segment media playlist, and EVENT -> VOD. Pure.

BANDWIDTH is the peak segment bit rate and AVERAGE-BANDWIDTH the average over the whole rendition
(RFC 8216 4.3.4.2), a video variant's figures including its largest audio rendition's, as the RFC asks
for variants whose audio comes from a group. Audio and subtitle renditions are `EXT-X-MEDIA` entries
(RFC 8216 4.3.4.1) with LANGUAGE (RFC 5646 tag), NAME, DEFAULT and AUTOSELECT.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

AUDIO_GROUP = "audio"
SUBTITLE_GROUP = "subs"


@dataclass(frozen=True)
class Rendition:
    """A finished rendition: `uri` of its media playlist (relative to the master), codec string
    (RFC 6381), bit rates in bit/s, duration in s, size in pixels and frame rate in frames/s (video
    only); for audio, `name` (shown in menus), `language` (RFC 5646, e.g. "en") and `default`."""

    uri: str
    codecs: str
    peak_bps: int
    average_bps: int
    duration_s: float
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    default: bool = False  # the audio renditions' (one is the default)
    name: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class SubtitleRendition:
    """A WebVTT subtitle rendition: its media playlist `uri`, menu `name`, `language` (RFC 5646 or
    None), and the `default`/`forced` flags (RFC 8216 4.3.4.1: FORCED only for SUBTITLES)."""

    uri: str
    name: str
    language: str | None = None
    default: bool = False
    forced: bool = False


def _quoted(text: str) -> str:
    """An attribute's quoted-string: RFC 8216 4.2 forbids `"` and line breaks inside it."""
    return '"' + re.sub(r'["\r\n]', "'", text) + '"'


def render_master(video: list[Rendition], audios: list[Rendition] | Rendition | None,
                  subtitles: list[SubtitleRendition] | None = None) -> str:
    """Master playlist text. Video variants reference the audio group (every audio rendition) and the
    subtitle group; an audio-only title gets one variant per audio rendition (CODECS="mp4a.40.2", no
    RESOLUTION), the default one first: a player starts with the first variant listed (RFC 8216
    6.3.1; hls.js's first level), and hls.js plays no alternate audio beside audio-only variants, so
    the tracks are the variants. Raises ValueError when there is no rendition at all."""
    if isinstance(audios, Rendition):
        audios = [audios]
    audios, subtitles = list(audios or []), list(subtitles or [])
    if not video and not audios:
        raise ValueError("a master playlist needs at least one rendition")
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if not video:
        for audio in sorted(audios, key=lambda a: not a.default):  # a stable sort: file order otherwise
            lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={audio.peak_bps},AVERAGE-BANDWIDTH={audio.average_bps},'
                      f'CODECS="{audio.codecs}"', audio.uri]
        return "\n".join(lines) + "\n"
    if audios and not any(a.default for a in audios):
        audios[0] = Rendition(**{**vars(audios[0]), "default": True})
    for i, audio in enumerate(audios):
        attrs = [f'TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}"', f"NAME={_quoted(audio.name or f'Track {i + 1}')}"]
        if audio.language:
            attrs.append(f"LANGUAGE={_quoted(audio.language)}")
        attrs += [f"DEFAULT={'YES' if audio.default else 'NO'}", "AUTOSELECT=YES", 'CHANNELS="2"',
                  f'URI="{audio.uri}"']
        lines.append("#EXT-X-MEDIA:" + ",".join(attrs))
    for sub in subtitles:
        attrs = [f'TYPE=SUBTITLES,GROUP-ID="{SUBTITLE_GROUP}"', f"NAME={_quoted(sub.name)}"]
        if sub.language:
            attrs.append(f"LANGUAGE={_quoted(sub.language)}")
        attrs += [f"DEFAULT={'YES' if sub.default else 'NO'}", f"AUTOSELECT={'YES' if not sub.forced else 'NO'}",
                  f"FORCED={'YES' if sub.forced else 'NO'}", f'URI="{sub.uri}"']
        lines.append("#EXT-X-MEDIA:" + ",".join(attrs))
    top_audio = max(audios, key=lambda a: a.peak_bps) if audios else None
    for v in video:
        peak, average, codecs = v.peak_bps, v.average_bps, v.codecs
        if top_audio is not None:
            peak, average = peak + top_audio.peak_bps, average + top_audio.average_bps
            codecs = f"{codecs},{top_audio.codecs}"
        attrs = [f"BANDWIDTH={peak}", f"AVERAGE-BANDWIDTH={average}", f"RESOLUTION={v.width}x{v.height}"]
        if v.frame_rate:
            attrs.append(f"FRAME-RATE={v.frame_rate:.3f}")
        attrs.append(f'CODECS="{codecs}"')
        if top_audio is not None:
            attrs.append(f'AUDIO="{AUDIO_GROUP}"')
        if subtitles:
            attrs.append(f'SUBTITLES="{SUBTITLE_GROUP}"')
        lines += ["#EXT-X-STREAM-INF:" + ",".join(attrs), v.uri]
    return "\n".join(lines) + "\n"


def subtitle_playlist(vtt_name: str, duration_s: float) -> str:
    """A VOD media playlist whose one segment is the whole WebVTT file `vtt_name` (RFC 8216 allows a
    segment of any duration up to EXT-X-TARGETDURATION, the rounded-up duration in s)."""
    duration_s = max(duration_s, 0.001)
    return "\n".join(["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(duration_s)}",
                      "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", f"#EXTINF:{duration_s:.3f},",
                      vtt_name, "#EXT-X-ENDLIST"]) + "\n"


def event_to_vod(text: str) -> str:
    """A finished EVENT media playlist as a VOD one: the type changed and an ENDLIST ensured."""
    text = text.replace("#EXT-X-PLAYLIST-TYPE:EVENT", "#EXT-X-PLAYLIST-TYPE:VOD")
    if "#EXT-X-ENDLIST" not in text:
        text = text.rstrip("\n") + "\n#EXT-X-ENDLIST\n"
    return text


def segment_count(text: str) -> int:
    """How many segments a media playlist lists so far (its EXTINF lines)."""
    return text.count("#EXTINF:")

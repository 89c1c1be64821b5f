"""From a media file's facts (its streams and sidecar subtitles, as `MediaFacts`) to what playback
needs: the direct play / remux / transcode decision, the ladder job, and the audio and subtitle tracks
with their menu names and RFC 5646 language tags. Pure: no Flask, no database, no I/O; the facts are
built from the stored rows at the edge (`transcode/facts.py`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from babelfish import Language, LanguageReverseError

from .command import AudioOut, LadderJob
from ..streams import StreamFacts
from .decision import Decision, decide, main_video, subtitle_kind
from .ladder import SourceVideo, plan_ladder

#: A video stream ending this much (s) before the longest audio stream gets its last picture repeated.
PAD_VIDEO_AFTER_S = 0.5

#: Common frame rates (frames/s); a variable-frame-rate source is made constant at the nearest one
#: within 1 % of its average, else at its average rounded to 3 decimals.
STANDARD_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 50.0, 60000 / 1001, 60.0)


@dataclass(frozen=True)
class Track:
    """An audio or subtitle track as menus show it. `key`: `a<index>`/`s<index>` for a stream of the
    file (ffprobe's index), `x<id>` for a sidecar subtitle file; `language` RFC 5646 ("en") or None;
    `convertible` False for bitmap subtitles (PGS, VobSub), with `note` saying so."""

    key: str
    name: str
    language: str | None
    default: bool = False
    forced: bool = False
    convertible: bool = True
    note: str | None = None
    stream_index: int | None = None
    path: str | None = None


@dataclass(frozen=True)
class SidecarFacts:
    """A sidecar subtitle file of a video (`models.Subtitle`): `id` its row's, `path` absolute,
    `language` ISO 639-2/B or None, `format` srt, webvtt, ass, ssa or vobsub."""

    id: int
    path: str
    language: str | None = None
    forced: bool = False
    sdh: bool = False
    format: str = "srt"


@dataclass(frozen=True)
class MediaFacts:
    """What planning reads of a media file: `source` its absolute path, `container` ffprobe's
    format_name, `duration_ms` in ms (None when unknown), its streams in ffprobe's order, and its
    sidecar subtitle files."""

    source: str
    container: str | None
    duration_ms: int | None
    streams: tuple[StreamFacts, ...]
    sidecars: tuple[SidecarFacts, ...] = ()


def decision_for(media: MediaFacts) -> Decision:
    """How `media` reaches a browser (`decision.decide` on its streams)."""
    return decide(media.container, media.streams)


def language_tag(code: str | None) -> str | None:
    """ISO 639-2 (`eng`, `fre`/`fra`) or 639-1 code -> RFC 5646 tag (`en`, `fr`); None for unknown/`und`."""
    if not code or code.lower() in ("und", "unk", "mis", "mul", "zxx"):
        return None
    code = code.lower()
    for converter in ("alpha3b", "alpha3t", "alpha2"):
        try:
            language = Language.fromcode(code, converter)
        except (ValueError, KeyError, LanguageReverseError):
            continue
        return getattr(language, "alpha2", None) or code
    return code if len(code) in (2, 3) and code.isalpha() else None


def _name(title: str | None, code: str | None, fallback: str) -> str:
    if title:
        return title
    tag = language_tag(code)
    if tag:
        try:
            return Language.fromietf(tag).name
        except (ValueError, KeyError):
            return tag
    return fallback


def audio_tracks(media: MediaFacts) -> list[Track]:
    """Every audio stream, in file order; the source's default flag kept (the first when none is)."""
    audios = [s for s in media.streams if s.type == "audio"]
    default = next((s for s in audios if s.is_default), audios[0] if audios else None)
    return [Track(key=f"a{s.index}", name=_name(s.title, s.language, f"Track {i + 1}"),
                  language=language_tag(s.language), default=s is default, stream_index=s.index)
            for i, s in enumerate(audios)]


def subtitle_tracks(media: MediaFacts) -> list[Track]:
    """Embedded subtitle streams (key `s<index>`), then sidecar files (key `x<id>`, named after their
    language, "(forced)" and "(SDH)" added); bitmap ones are listed as not convertible, with a note."""
    tracks = []
    for i, s in enumerate(s for s in media.streams if s.type == "subtitle"):
        kind = subtitle_kind(s.codec)
        note = None if kind == "text" else (
            f"{s.codec} is a bitmap subtitle: it cannot become WebVTT text" if kind == "bitmap"
            else f"subtitle codec {s.codec or 'unknown'} is not supported")
        tracks.append(Track(key=f"s{s.index}", name=_name(s.title, s.language, f"Subtitles {i + 1}"),
                            language=language_tag(s.language), default=s.is_default, forced=s.forced,
                            convertible=kind == "text", note=note, stream_index=s.index))
    for sub in media.sidecars:
        text = sub.format in ("srt", "webvtt", "ass", "ssa")
        name = _name(None, sub.language, os.path.basename(sub.path)) + (" (forced)" if sub.forced else "") + (
            " (SDH)" if sub.sdh else "")
        tracks.append(Track(key=f"x{sub.id}", name=name, language=language_tag(sub.language), forced=sub.forced,
                            convertible=text, note=None if text else f"{sub.format} is a bitmap subtitle",
                            path=sub.path))
    return tracks


def constant_rate(fps: float | None) -> float | None:
    """The constant frame rate (frames/s) a variable-frame-rate source is encoded at."""
    if not fps:
        return None
    nearest = min(STANDARD_RATES, key=lambda rate: abs(rate - fps))
    return round(nearest, 5) if abs(nearest - fps) / fps <= 0.01 else round(fps, 3)


def video_shortfall_s(media: MediaFacts, video: StreamFacts | None) -> float | None:
    """How much earlier (s) the video stream ends than the longest audio stream, when by more than
    PAD_VIDEO_AFTER_S and both durations are known; else None."""
    audio_ms = max((s.duration_ms or 0 for s in media.streams if s.type == "audio"), default=0)
    if video is None or not video.duration_ms or not audio_ms:
        return None
    gap_s = (audio_ms - video.duration_ms) / 1000
    return gap_s if gap_s > PAD_VIDEO_AFTER_S else None


def ladder_job_for(media: MediaFacts, ffmpeg: str = "ffmpeg",
                   keyframe_times_s: tuple[float, ...] | None = None) -> LadderJob:
    """The ladder for a media file: a copied top rung plus encoded lower rungs keyed to the source's
    keyframes (`keyframe_times_s`, s) when its video is browser-safe H.264 and the times are known,
    else a full encode with the picture fixes it needs (deinterlace, HDR tone-mapping, a constant
    frame rate for a VFR source, the last picture held when the video ends early); every audio
    stream becomes a rendition. Raises ValueError when the file has neither video nor audio
    (callers turn it into a TranscodeError)."""
    decision = decision_for(media)
    video = main_video(media.streams)
    audios = tuple(AudioOut(t.stream_index, f"audio_{i}") for i, t in enumerate(audio_tracks(media)))
    if video is None and not audios:
        raise ValueError("no video or audio stream to encode")
    rungs: tuple = ()
    copy = decision.copy_video or (decision.method == "direct" and video is not None)
    copy = copy and bool(keyframe_times_s)
    if video is not None:
        rungs = tuple(plan_ladder(SourceVideo(video.width, video.height, video.sample_aspect_ratio, video.rotation or 0),
                                  copy_source=copy, source_bitrate_bps=video.bit_rate))
    return LadderJob(
        source=media.source,
        rungs=rungs,
        video_index=video.index if video else None,
        audios=audios,
        interlaced=decision.interlaced,
        hdr=decision.hdr,
        cfr_fps=constant_rate(video.fps) if video is not None and video.is_vfr and not copy else None,
        keyframe_times_s=keyframe_times_s if copy else None,
        pad_video_s=None if copy else video_shortfall_s(media, video),
        ffmpeg=ffmpeg,
    )

"""A stream's facts as ffprobe gives them (pure): the one shape that the probe returns
(`scanner/probe.py`), the `streams` rows store (`models.Stream`) and the transcode planning reads
(`transcode/decision.py`, `plan.py`)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StreamFacts:
    """One ffprobe stream (the columns of `models.Stream`, same names and units): `index` is ffprobe's,
    `type` its codec_type (video, audio, subtitle, data, attachment), sizes in px, `level` H.264's
    level_idc (42 = 4.2), `fps` in frames/s, `sample_rate` in Hz, `bit_rate` in bit/s, `duration_ms`
    in ms (the stream's own), `rotation` in degrees clockwise, `language` ISO 639-2 as tagged;
    `attached_pic` marks cover art; `is_default` and `forced` are dispositions; `is_vfr` when the
    frame rate is not constant; `color_transfer` e.g. `smpte2084` (HDR10) or `arib-std-b67` (HLG)."""

    index: int
    type: str
    codec: str | None = None
    profile: str | None = None
    level: int | None = None
    pix_fmt: str | None = None
    field_order: str | None = None
    color_transfer: str | None = None
    sample_aspect_ratio: str | None = None
    rotation: int | None = None
    width: int | None = None
    height: int | None = None
    attached_pic: bool = False
    fps: float | None = None
    is_vfr: bool = False
    bit_rate: int | None = None
    duration_ms: int | None = None
    language: str | None = None
    title: str | None = None
    is_default: bool = False
    forced: bool = False
    channels: int | None = None
    sample_rate: int | None = None
    color_primaries: str | None = None

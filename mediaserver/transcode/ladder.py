"""Choose the HLS ladder's rungs from a source's video facts. Pure: no Flask, no database, no I/O.

Sources of the numbers:
- Rung heights 1080/720/480/360 and their bit rates follow Apple's HLS authoring specification
  (example ladder: 730 kb/s at 640x360, 2000 kb/s at 960x540, 3000 kb/s at 1280x720, 4500-7800 kb/s
  at 1920x1080); a rung's cap is interpolated from those points by pixel count, so a portrait or
  square rung gets the bit rate its pixel count needs, not the one of its label.
- `KEYFRAME_INTERVAL_S`: Apple HLS authoring spec, "an IDR frame every 2 s"; every rung forces a
  keyframe at the same times, so segments cut on the same boundaries on every rung.
- `SEGMENT_DURATION_S`: Apple HLS authoring spec, target segment duration 6 s (a multiple of the GOP).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..ratios import parse_ratio

RUNG_HEIGHTS = (1080, 720, 480, 360)
KEYFRAME_INTERVAL_S = 2
SEGMENT_DURATION_S = 6

# (pixels, max video bit rate in bit/s): Apple HLS authoring spec's example ladder.
_BITRATE_POINTS = (
    (640 * 360, 730_000),
    (960 * 540, 2_000_000),
    (1280 * 720, 3_000_000),
    (1920 * 1080, 6_000_000),
)
#: Floor for tiny pictures: below about 150 kb/s x264 at these sizes falls apart (our own choice).
_MIN_BITRATE_BPS = 150_000


@dataclass(frozen=True)
class SourceVideo:
    """What the ladder needs to know of the source's video stream.

    `width`/`height` in stored pixels; `sample_aspect_ratio` as ffprobe gives it (`"64:45"`, `"1:1"`,
    `"0:1"` or None for unknown); `rotation` in degrees from the display matrix (0, 90, 180, 270, ...).
    """

    width: int
    height: int
    sample_aspect_ratio: str | None = None
    rotation: int = 0


@dataclass(frozen=True)
class Rung:
    """One video variant: `name` such as `"720p"`, output size in square pixels (even), cap in bit/s.
    `copy`: the source's own H.264 stream, copied (its size and bit rate are the source's)."""

    name: str
    width: int
    height: int
    max_bitrate_bps: int
    copy: bool = False


def display_size(src: SourceVideo) -> tuple[int, int]:
    """The picture as shown: stored size stretched by the sample aspect ratio, then rotated.

    Raises ValueError for a non-positive size.
    """
    if src.width <= 0 or src.height <= 0:
        raise ValueError(f"video size must be positive, got {src.width}x{src.height}")
    width = Fraction(src.width)
    sar = parse_ratio(src.sample_aspect_ratio, ":")
    if sar:
        width *= sar
    height = src.height
    if src.rotation % 180 == 90:
        return height, round(width)
    return round(width), height


def plan_ladder(src: SourceVideo, copy_source: bool = False, source_bitrate_bps: int | None = None) -> list[Rung]:
    """Rungs from `RUNG_HEIGHTS` no taller than the source, tallest first, aspect ratio kept.

    A source shorter than the smallest rung gets one rung at its own (even) size. With `copy_source`
    (a browser-safe H.264 source, see `decision.py`) the top rung is the source stream copied, at its
    own size, and the encoded rungs are those strictly shorter than it: the cheapest full ladder.
    `source_bitrate_bps` (the copied stream's, when known) is that rung's cap; else the interpolated one.
    """
    disp_w, disp_h = display_size(src)
    aspect = Fraction(disp_w, disp_h)
    if copy_source:
        top = Rung(f"{disp_h}p", disp_w, disp_h, source_bitrate_bps or bitrate_for(disp_w, disp_h), copy=True)
        return [top] + [Rung(f"{h}p", _even(aspect * h), h, bitrate_for(_even(aspect * h), h))
                        for h in RUNG_HEIGHTS if h < disp_h]
    heights = [h for h in RUNG_HEIGHTS if h <= disp_h] or [max(2, disp_h - disp_h % 2)]
    rungs = []
    for height in heights:
        width = _even(aspect * height)
        rungs.append(Rung(f"{height}p", width, height, bitrate_for(width, height)))
    return rungs


def bitrate_for(width: int, height: int) -> int:
    """Max video bit rate (bit/s) for a picture size, interpolated on Apple's example ladder by pixels."""
    pixels = width * height
    lo_px, lo_bps = _BITRATE_POINTS[0]
    if pixels <= lo_px:
        return max(_MIN_BITRATE_BPS, round(lo_bps * pixels / lo_px))
    for hi_px, hi_bps in _BITRATE_POINTS[1:]:
        if pixels <= hi_px:
            return round(lo_bps + (hi_bps - lo_bps) * (pixels - lo_px) / (hi_px - lo_px))
        lo_px, lo_bps = hi_px, hi_bps
    return round(lo_bps * pixels / lo_px)


def _even(value: Fraction | int | float) -> int:
    """Nearest even integer, at least 2 (H.264 4:2:0 needs even sizes)."""
    return max(2, 2 * round(Fraction(value) / 2))

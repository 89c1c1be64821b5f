"""The one ffprobe call (I/O edge) and its JSON turned into typed facts (pure `parse_probe`)."""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

from ..exceptions import ProbeError
from ..ratios import parse_ratio
from ..streams import StreamFacts
from ..text import tool_message


@dataclass
class ProbeResult:
    """ffprobe's `format` and `streams`: container name, duration in ms, bit rate in bit/s."""

    container: str | None
    duration_ms: int | None
    bit_rate: int | None
    streams: list[StreamFacts] = field(default_factory=list)


def run_ffprobe(path: str, *, ffprobe: str = "ffprobe", timeout_s: float = 60) -> dict:
    """Run `ffprobe -show_format -show_streams` on `path` once and return its JSON.

    Raises ProbeError with ffprobe's own message (its last lines, without the memory addresses of its
    log prefixes: `text.tool_message`) when it fails, times out or prints no JSON.
    """
    cmd = [ffprobe, "-v", "error", "-hide_banner", "-show_format", "-show_streams", "-of", "json", path]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise ProbeError(f"ffprobe did not finish within {timeout_s:g} s") from None
    stderr = tool_message(proc.stderr.decode("utf-8", "replace").strip())
    if proc.returncode != 0:
        raise ProbeError(_last_lines(stderr) or f"ffprobe exited with status {proc.returncode}")
    try:
        return json.loads(proc.stdout or b"{}")
    except json.JSONDecodeError as exc:
        raise ProbeError(f"ffprobe printed no valid JSON: {exc}") from None


def probe(path: str, *, ffprobe: str = "ffprobe", timeout_s: float = 60) -> ProbeResult:
    """Probe a file: `run_ffprobe` + `parse_probe`. Raises ProbeError (also when no stream is usable)."""
    return parse_probe(run_ffprobe(path, ffprobe=ffprobe, timeout_s=timeout_s))


def parse_probe(data: dict) -> ProbeResult:
    """Turn ffprobe's JSON into a ProbeResult. Raises ProbeError when the file has no audio or video."""
    fmt = data.get("format") or {}
    streams = [_stream(s) for s in data.get("streams") or []]
    if not any(s.type in ("video", "audio") for s in streams):
        raise ProbeError("no audio or video stream found")
    duration_s = _float(fmt.get("duration"))
    return ProbeResult(
        container=fmt.get("format_name"),
        duration_ms=round(duration_s * 1000) if duration_s is not None else None,
        bit_rate=_int(fmt.get("bit_rate")),
        streams=streams,
    )


def _stream(s: dict) -> StreamFacts:
    tags = {k.lower(): v for k, v in (s.get("tags") or {}).items()}
    disposition = s.get("disposition") or {}
    kind = s.get("codec_type") or "unknown"
    fps = real = None
    if kind == "video":
        real = _rate(s.get("r_frame_rate"))
        fps = _rate(s.get("avg_frame_rate")) or real
    return StreamFacts(
        index=int(s.get("index", 0)),
        type=kind,
        codec=s.get("codec_name"),
        profile=s.get("profile"),
        width=_int(s.get("width")),
        height=_int(s.get("height")),
        fps=round(fps, 3) if fps else None,
        channels=_int(s.get("channels")),
        sample_rate=_int(s.get("sample_rate")),
        language=tags.get("language"),
        title=tags.get("title"),
        is_default=bool(disposition.get("default")),
        bit_rate=_int(s.get("bit_rate")),
        duration_ms=_stream_duration_ms(s, tags),
        sample_aspect_ratio=s.get("sample_aspect_ratio"),
        field_order=s.get("field_order"),
        rotation=_rotation(s, tags),
        attached_pic=bool(disposition.get("attached_pic")),
        level=_int(s.get("level")),
        pix_fmt=s.get("pix_fmt"),
        color_transfer=s.get("color_transfer"),
        color_primaries=s.get("color_primaries"),
        # ffprobe: r_frame_rate is the lowest rate that represents every timestamp exactly, avg_frame_rate
        # the mean; when they differ by more than 1 % the frames are not evenly spaced (a phone's VFR video).
        is_vfr=bool(fps and real and abs(real - fps) / fps > 0.01),
        forced=bool(disposition.get("forced")),
    )


def _rotation(s: dict, tags: dict) -> int | None:
    """Clockwise display rotation in degrees, from the display matrix side data or the old `rotate` tag."""
    for side in s.get("side_data_list") or []:
        if "rotation" in side:
            return int(-float(side["rotation"])) % 360
    if "rotate" in tags:
        return int(float(tags["rotate"])) % 360
    return None


def _stream_duration_ms(s: dict, tags: dict) -> int | None:
    """The stream's duration in ms: ffprobe's `duration`, else Matroska's `DURATION` tag (HH:MM:SS.fff)."""
    seconds = _float(s.get("duration"))
    if seconds is None and "duration" in tags:
        parts = str(tags["duration"]).split(":")
        try:
            seconds = sum(float(p) * 60 ** i for i, p in enumerate(reversed(parts)))
        except ValueError:
            seconds = None
    return round(seconds * 1000) if seconds is not None else None


def _rate(text: str | None) -> float | None:
    rate = parse_ratio(text, "/")
    return float(rate) if rate is not None and rate < 1000 else None  # 90000/1 is a timebase (cover art)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _last_lines(text: str, n: int = 5) -> str:
    return "\n".join(text.splitlines()[-n:])

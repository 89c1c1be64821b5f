"""Reading a source before its ladder is built (I/O edge): the video's keyframe times, and its text
subtitles (embedded streams and sidecar files) turned into WebVTT files, cached per file version."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from ..exceptions import TranscodeError
from ..text import tool_message
from .command import subtitle_command
from .plan import Track


def keyframe_times(path: str, video_index: int, *, ffprobe: str = "ffprobe", timeout_s: float = 600) -> tuple[float, ...]:
    """The times (s) of the video stream's keyframes on the timeline ffmpeg writes (the file's start
    time subtracted, as ffmpeg does without `-copyts`), ascending. Reads packets only (no decoding).

    Raises TranscodeError when ffprobe fails or finds no keyframe.
    """
    cmd = [ffprobe, "-v", "error", "-select_streams", str(video_index), "-show_entries",
           "packet=pts_time,flags:format=start_time", "-of", "csv=p=0", path]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False, text=True)
    except subprocess.TimeoutExpired:
        raise TranscodeError(f"reading the keyframes took over {timeout_s:g} s") from None
    if proc.returncode != 0:
        raise TranscodeError(f"ffprobe could not read the keyframes: {tool_message(proc.stderr.strip())[-300:]}")
    times, start = [], 0.0
    for line in proc.stdout.splitlines():
        fields = line.strip().split(",")
        if len(fields) >= 2 and "K" in fields[1]:
            try:
                times.append(float(fields[0]))
            except ValueError:
                continue
        elif len(fields) == 1 and fields[0]:
            try:
                start = float(fields[0])
            except ValueError:
                pass
    if not times:
        raise TranscodeError("the video stream has no keyframe")
    return tuple(sorted({round(t - start, 6) for t in times if t - start >= 0}))


def extract_subtitles(tracks: list[Track], source: str, out_dir: str, *, ffmpeg: str = "ffmpeg",
                      timeout_s: float = 600) -> dict[str, str]:
    """Write `<out_dir>/<track key>.vtt` for every convertible track; returns {key: path} of those
    written. A track ffmpeg cannot convert is left out (the others still are): one command for all,
    and one per track only when that fails."""
    wanted = [t for t in tracks if t.convertible]
    if not wanted:
        return {}
    os.makedirs(out_dir, exist_ok=True)
    done = {t.key: os.path.join(out_dir, f"{t.key}.vtt") for t in wanted if os.path.isfile(os.path.join(out_dir, f"{t.key}.vtt"))}
    todo = [t for t in wanted if t.key not in done]
    if not todo:
        return done

    def run(batch: list[Track]) -> bool:
        with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
            inputs = [(t.path or source, None if t.path else t.stream_index, os.path.join(tmp, f"{t.key}.vtt"))
                      for t in batch]
            try:
                proc = subprocess.run(subtitle_command(inputs, ffmpeg), capture_output=True, timeout=timeout_s,
                                      check=False)
            except subprocess.TimeoutExpired:
                return False
            if proc.returncode != 0:
                return False
            for t in batch:
                os.replace(os.path.join(tmp, f"{t.key}.vtt"), os.path.join(out_dir, f"{t.key}.vtt"))
                done[t.key] = os.path.join(out_dir, f"{t.key}.vtt")
        return True

    if not run(todo) and len(todo) > 1:
        for track in todo:
            run([track])
    return done


def subtitle_cache_dir(data_dir: str, media_id: int, version: str) -> str:
    """Where a file version's WebVTT conversions are kept: `<DATA_DIR>/subtitles/<id>-<version>`."""
    return os.path.join(data_dir, "subtitles", f"{media_id}-{version}")


def drop_subtitle_cache(data_dir: str, media_id: int) -> None:
    """Forget every cached conversion of a media file (its source changed or it is gone)."""
    root = os.path.join(data_dir, "subtitles")
    if os.path.isdir(root):
        for name in os.listdir(root):
            if name.startswith(f"{media_id}-"):
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)

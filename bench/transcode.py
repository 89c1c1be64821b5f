"""Transcode benchmark: the project's ladder job against separate per-rung encodes and the raw command.

    python bench/transcode.py [--clip video/bbb_h264_aac_720p_30s.mp4] [--runs 2] [--redis redis://127.0.0.1:6379/7]

Links the clip (from ../shared/media) into a temporary library, scans it with the project's code and
prints, from one run:

1. the project's full ladder job run in-process by an RQ SimpleWorker (`tasks.run_transcode`): the
   worker's wall time and the job row's started_at -> finished_at, in s; and the time to playable, s
   from started_at until the row gets its output_dir while still running (EVENT playlists published;
   polled every 50 ms from a second thread; target <= 5 s);
2. three libx264 encodes of the same rung sizes, one ffmpeg process each in turn, with the project's
   x264 settings (`command.video_options`, keyframes every 2 s) and AAC muxed into each rung's HLS
   output: total s, and project / three (target <= 0.5);
3. the project's own argument list (`build_command(ladder_job_for(...))`) run bare, in s, and
   project / raw (target <= 1.05);
4. the SSIM of each published rung against the source scaled to its size (target >= 0.95).

Project and raw runs alternate, --runs times each; the best (min) of each is kept for the ratios.
The Redis DB given is flushed at start and end. Exit status 0 whatever the numbers.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rq import SimpleWorker  # noqa: E402
from sqlalchemy import select  # noqa: E402

from mediaserver import create_app  # noqa: E402
from mediaserver.db import get_db, new_session  # noqa: E402
from mediaserver.library.scan import run_library_scan  # noqa: E402
from mediaserver.models import MediaFile, TranscodeJob  # noqa: E402
from mediaserver.transcode import jobs  # noqa: E402
from mediaserver.transcode.command import audio_options, build_command, hls_options, video_options  # noqa: E402
from mediaserver.transcode.decision import main_video  # noqa: E402
from mediaserver.transcode.facts import media_facts  # noqa: E402
from mediaserver.transcode.ladder import SourceVideo, plan_ladder  # noqa: E402
from mediaserver.transcode.plan import ladder_job_for  # noqa: E402
from mediaserver.transcode.sources import keyframe_times  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
FFMPEG = "/usr/bin/ffmpeg" if os.path.exists("/usr/bin/ffmpeg") else "ffmpeg"


def make_app(base: Path, library: Path, redis_url: str):
    return create_app({"INSTANCE_PATH": str(base / "instance"), "DATABASE_URL": f"sqlite:///{base / 'bench.db'}",
                       "SECRET_KEY": "bench-secret-key-0123456789", "DATA_DIR": str(base / "data"),
                       "LIBRARY_ROOTS": [str(library)], "AUTO_TRANSCODE_DEFAULT": False, "TMDB_API_KEY": None,
                       "REDIS_URL": redis_url, "TRANSCODE_RETRY_INTERVALS_S": ()})


def project_run(app, media_id: int) -> dict:
    """One ladder job through RQ, in-process: worker wall s, row s, time to playable s (None if never
    published while running), final status, output folder."""
    with app.app_context():
        job_id = jobs.enqueue(get_db(), get_db().get(MediaFile, media_id)).id
    seen: dict = {}
    stop = threading.Event()

    def poll() -> None:
        with app.app_context():
            while not stop.is_set():
                with new_session() as session:
                    row = session.get(TranscodeJob, job_id)
                    if row is not None and row.output_dir is not None:
                        seen.update(at=datetime.now(timezone.utc), perf=time.perf_counter(), status=row.status)
                        return
                    if row is not None and row.status in ("failed", "cancelled"):
                        return
                stop.wait(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    with app.app_context():
        worker = SimpleWorker([app.task_queue], connection=app.redis)
        poller.start()
        began = time.perf_counter()
        worker.work(burst=True, logging_level="WARNING")
        wall_s = time.perf_counter() - began
    stop.set()
    poller.join()
    with app.app_context(), new_session() as session:
        row = session.get(TranscodeJob, job_id)
        started = row.started_at.replace(tzinfo=timezone.utc)  # SQLite hands back naive UTC
        row_s = (row.finished_at.replace(tzinfo=timezone.utc) - started).total_seconds() if row.finished_at else None
        playable_s = playable_worker_s = None
        if seen.get("status") == "running":  # published live, before the end
            playable_s = (seen["at"] - started).total_seconds()
            playable_worker_s = seen["perf"] - began
        return {"wall": wall_s, "row": row_s, "playable": playable_s, "playable_worker": playable_worker_s,
                "status": row.status, "error": row.error, "folder": row.output_dir}


def run_timed(argv: list[str], cwd: Path) -> float:
    """Run ffmpeg in `cwd`; seconds. Raises RuntimeError with its stderr tail on failure."""
    began = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg exited {proc.returncode}: {proc.stderr[-600:]}")
    return time.perf_counter() - began


def options(opts: dict) -> list[str]:
    return [a for k, v in opts.items() for a in ([f"-{k}"] if v is None else [f"-{k}", str(v)])]


def per_rung_command(source: str, video_index: int, audio_index: int, rung) -> list[str]:
    """One rung as its own ffmpeg process: scale, the project's x264 options (2 s keyframes), AAC, HLS."""
    video = {k: v for k, v in video_options(rung).items() if k != "an"}
    audio = {k: v for k, v in audio_options().items() if k not in ("vn", "sn")}
    return [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", source,
            "-map", f"0:{video_index}", "-map", f"0:{audio_index}", "-vf", f"scale={rung.width}:{rung.height},setsar=1",
            *options(video), *options(audio), *options(hls_options(rung.name)), f"{rung.name}/index.m3u8"]


def ssim(playlist: str, source: str, width: int, height: int) -> float | None:
    """SSIM "All" of a rendition against the source scaled (bicubic) to width x height."""
    proc = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-i", playlist, "-i", source, "-lavfi",
                           f"[1:v]scale={width}:{height}:flags=bicubic,setsar=1[ref];[0:v][ref]ssim", "-f", "null", "-"],
                          capture_output=True, text=True)
    found = re.findall(r"All:([0-9.]+)", proc.stderr)
    return float(found[-1]) if found else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="video/bbb_h264_aac_720p_30s.mp4", help="path under ../shared/media")
    parser.add_argument("--runs", type=int, default=2, help="project and raw runs each, alternated (best kept)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/7", help="a Redis DB free to flush")
    args = parser.parse_args()
    clip = MEDIA / args.clip
    base = Path(tempfile.mkdtemp(prefix="bench-transcode-", dir=MEDIA.parent.parent))
    app = None
    try:
        (library := base / "library").mkdir()
        shutil.copy2(clip, library / clip.name)  # not a symlink: the scan refuses links that lead out of the library
        app = make_app(base, library, args.redis)
        logging.getLogger().setLevel(logging.WARNING)  # create_app sets INFO: RQ and job chatter
        app.redis.flushdb()
        with app.app_context():
            run_library_scan(get_db(), [])
            media = get_db().scalar(select(MediaFile))
            facts = media_facts(media)
            source = facts.source
            video = main_video(facts.streams)
            began = time.perf_counter()
            times = keyframe_times(source, video.index)
            keyframes_s = time.perf_counter() - began
            ladder = ladder_job_for(facts, FFMPEG, times)
            media_id, argv = media.id, build_command(ladder)
        shown = ", ".join(f"{r.name} {r.width}x{r.height}{' copy' if r.copy else ''}" for r in ladder.rungs)
        print(f"clip: {args.clip} ({video.width}x{video.height}, {(media.duration_ms or 0) / 1000:.1f} s), "
              f"{os.cpu_count()} CPUs; rungs: {shown}; {len(times)} source keyframes, read in {keyframes_s:.2f} s "
              "(inside the project job; the raw runs time the ffmpeg command alone)")

        project, raw = [], []
        for i in range(args.runs):
            result = project_run(app, media_id)
            project.append(result)
            playable = "never while running" if result["playable"] is None else (
                f"{result['playable']:.2f} s after started_at ({result['playable_worker']:.2f} s after the worker began)")
            print(f"project run {i + 1}: worker {result['wall']:.2f} s, row started->finished {result['row'] or 0:.2f} s, "
                  f"playable {playable}; {result['status']}" + (f": {result['error']}" if result["error"] else ""))
            out = base / f"raw-{i}"
            for folder in ladder.folders:
                (out / folder).mkdir(parents=True)
            raw.append(run_timed(argv, out))
            shutil.rmtree(out, ignore_errors=True)
            print(f"raw run {i + 1}:     {raw[-1]:.2f} s")
        ok = [r for r in project if r["status"] == "succeeded"]
        wall = min(r["wall"] for r in ok) if ok else float("nan")
        row = min(r["row"] for r in ok) if ok else float("nan")
        playables = [r["playable"] for r in ok if r["playable"] is not None]
        playable = min(playables) if playables else None
        best_raw = min(raw)

        rungs = plan_ladder(SourceVideo(video.width, video.height, video.sample_aspect_ratio, video.rotation or 0))
        audio_index = ladder.audios[0].index
        three_s, parts = 0.0, []
        for rung in rungs:
            out = base / f"three-{rung.name}"
            (out / rung.name).mkdir(parents=True)
            spent = run_timed(per_rung_command(source, video.index, audio_index, rung), out)
            three_s += spent
            parts.append(f"{rung.name} {spent:.2f} s")
            shutil.rmtree(out, ignore_errors=True)
        print(f"three separate encodes: {', '.join(parts)}")

        published = Path(app.config["DATA_DIR"]) / "hls" / (ok[-1]["folder"] if ok else "none")
        scores = {r.name: ssim(str(published / r.name / "index.m3u8"), source, r.width, r.height)
                  for r in ladder.rungs} if ok else {}

        three = wall / three_s
        rows = [(f"1. project job, worker wall (s, best of {len(ok)})", wall, "", None),
                ("   project job, row started->finished (s)", row, "", None),
                ("   time to playable (s from started_at, best)", playable, "<= 5", (playable or 99) <= 5),
                ("2. three separate encodes, total (s)", three_s, "", None),
                ("   project / three", three, "<= 0.50", three <= 0.5),
                (f"3. raw project command (s, best of {len(raw)})", best_raw, "", None),
                ("   project / raw", wall / best_raw, "<= 1.05", wall / best_raw <= 1.05)]
        rows += [(f"4. SSIM {name} vs scaled source", score, ">= 0.95", (score or 0) >= 0.95)
                 for name, score in scores.items()]
        print(f"\nsummary (ratios use the best worker wall time)\n   {'measure':48s} {'value':>8s}  {'target':>7s}  result")
        for label, value, target, passed in rows:
            shown = f"{value:8.3f}" if value is not None else f"{'n/a':>8s}"
            print(f"   {label:48s} {shown}  {target:>7s}  {'' if passed is None else 'PASS' if passed else 'MISS'}")
    finally:
        if app is not None:
            app.redis.flushdb()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

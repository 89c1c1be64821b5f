"""Scan benchmark: the project's first scan against a sequential bare-ffprobe loop, and rescans.

    python bench/scan.py [--files 2000] [--rescan-files 10000] [--workers N]

Builds a library of N hard links to the shared clips under distinct names (in a temporary folder on
the same file system as ../shared/media, or copies when linking fails) and prints, from one run:

1. the project's first scan of the N files: `flask scan`'s whole code path (`run_library_scan`: walk,
   fingerprint, ffprobe in a bounded pool, database writes, and the catalog: names, NFO and sidecar
   subtitles, no TMDB key), in s, with the real ffprobe;
1b. the probe stage alone (`scanner.scan`: walk, fingerprint, the ffprobe pool, database writes;
   no catalog) on a fresh database, in s;
2. a sequential loop running bare `ffprobe -show_format -show_streams` once per file, in s, and the
   ratios of (1) and (1b) to it (target: <= 0.6);
3. a rescan of those N unchanged files, in s, with the number of ffprobe processes it started
   (counted by a wrapper script that logs each start; target: 0);
4. a rescan of --rescan-files unchanged files (default 10,000; target: <= 2 s, 0 ffprobe). That
   catalogue is seeded by scanning with ffprobe's answer memoised per source clip and cataloguing the
   files (no TMDB), since what is measured is the rescan; the first-scan cost is (1);
5. the same rescan as a whole command, `flask --app mediaserver scan` in a new process (wall, s,
   best of 3: start-up, imports, the scan; target <= 1.5 s), and `flask --app mediaserver --help`
   (wall, s, best of 5; target <= 0.4 s).
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache, partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mediaserver import create_app  # noqa: E402
from mediaserver.db import get_db  # noqa: E402
from mediaserver.library.catalog import catalog_files  # noqa: E402
from mediaserver.library.files import scan  # noqa: E402
from mediaserver.library.scan import run_library_scan  # noqa: E402
from mediaserver.scanner.probe import probe  # noqa: E402
from mediaserver.scanner.walk import MEDIA_EXTENSIONS, resolve_targets  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"


def build_library(folder: Path, count: int) -> list[Path]:
    """`count` links to the readable shared clips, named `NNNNN - <clip name>` in folders of 500."""
    clips = sorted(p for p in MEDIA.rglob("*") if p.suffix.lower() in MEDIA_EXTENSIONS and "broken" not in p.parts)
    files = []
    for i in range(count):
        source = clips[i % len(clips)]
        target = folder / f"{i // 500:03d}" / f"{i:05d} - {source.name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy(source, target)
        files.append(target)
    return files


def counting_ffprobe(folder: Path) -> tuple[str, Path]:
    """A wrapper that appends a line per ffprobe process started, then runs the real ffprobe."""
    log = folder / "ffprobe-starts.log"
    shim = folder / "ffprobe-counting"
    shim.write_text(f'#!/bin/sh\necho x >> "{log}"\nexec "{shutil.which("ffprobe")}" "$@"\n')
    shim.chmod(0o755)
    return str(shim), log


def starts(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def project_scan(app, library: Path, probe_fn, workers: int) -> tuple[float, str]:
    """`scanner.scan` alone with a given probe function (the rescans, and seeding the big catalogue)."""
    with app.app_context():
        targets = resolve_targets([str(library)], [])
        began = time.perf_counter()
        summary = scan(get_db(), targets, probe_fn, workers=workers)
        return time.perf_counter() - began, summary.line()


def full_scan(app) -> tuple[float, str, str]:
    """What `flask scan` runs: (seconds, summary line, catalog line)."""
    with app.app_context():
        began = time.perf_counter()
        result = run_library_scan(get_db(), [])
        return time.perf_counter() - began, result.summary.line(), result.catalog.line()


def make_app(base: Path, ffprobe: str, library: Path | None = None, workers: int = 1):
    return create_app({"INSTANCE_PATH": str(base / "instance"), "DATABASE_URL": f"sqlite:///{base / 'bench.db'}",
                       "SECRET_KEY": "bench-secret-key-0123456789", "DATA_DIR": str(base / "data"),
                       "FFPROBE": ffprobe, "LIBRARY_ROOTS": [str(library)] if library else [],
                       "PROBE_WORKERS": workers, "AUTO_TRANSCODE_DEFAULT": False, "TMDB_API_KEY": None})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rescan-files", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="probe pool size (default: CPUs)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="bench-scan-", dir=MEDIA.parent.parent))
    try:
        shim, log = counting_ffprobe(base)
        files = build_library(base / "library", args.files)
        os.sync()  # the links' metadata reaches the disk now, not during the first timed scan
        print(f"library: {len(files)} files, probe pool: {args.workers} workers, {os.cpu_count()} CPUs")

        app = make_app(base / "a", "ffprobe", base / "library", args.workers)
        first_s, line, catalog_line = full_scan(app)
        print(f"1. project first scan:        {first_s:8.2f} s  ({line}; {catalog_line})")
        probe_only = make_app(base / "c", "ffprobe")
        stage_s, line = project_scan(probe_only, base / "library", partial(probe, ffprobe="ffprobe"), args.workers)
        print(f"1b. probe stage alone:        {stage_s:8.2f} s  ({line})")

        began = time.perf_counter()
        for path in files:
            subprocess.run(["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
                           capture_output=True, check=False)
        loop_s = time.perf_counter() - began
        print(f"2. sequential bare ffprobe:   {loop_s:8.2f} s  -> first scan / loop = {first_s / loop_s:.2f}, "
              f"probe stage / loop = {stage_s / loop_s:.2f} (target <= 0.60)")

        app.config["FFPROBE"] = shim  # from here on every ffprobe start is counted
        rescan_s, line, _ = full_scan(app)
        print(f"3. rescan, {len(files)} unchanged:  {rescan_s:8.2f} s  ({line}; {starts(log)} ffprobe started)")

        big = build_library(base / "big", args.rescan_files)
        seeded = make_app(base / "b", shim)
        probe_fn = partial(probe, ffprobe=shim)
        os.sync()
        project_scan(seeded, base / "big", memoised_probe, args.workers)
        before = starts(log)
        with seeded.app_context():  # what the first `flask scan` would have made of them (no TMDB key)
            catalog_files(get_db(), list(range(1, len(big) + 1)), None)
        big_s, line = project_scan(seeded, base / "big", probe_fn, args.workers)
        print(f"4. rescan, {len(big)} unchanged: {big_s:8.2f} s  ({line}; {starts(log) - before} ffprobe started; "
              f"target <= 2 s, 0 ffprobe)")
        env = {**os.environ, "MEDIASERVER_INSTANCE": str(base / "b" / "instance"), "SECRET_KEY": "bench-secret-key-0123456789",
               "DATABASE_URL": f"sqlite:///{base / 'b' / 'bench.db'}", "MEDIASERVER_DATA_DIR": str(base / "b" / "data"),
               "MEDIASERVER_LIBRARY": str(base / "big"), "MEDIASERVER_FFPROBE": shim, "MEDIASERVER_AUTO_TRANSCODE": "0",
               "TMDB_API_KEY": "", "PYTHONPATH": str(ROOT)}
        flask = [str(Path(sys.executable).with_name("flask")), "--app", "mediaserver"]
        before = starts(log)
        command_s, output = best_of(3, flask + ["scan"], env)
        print(f"5. flask scan, {len(big)} unchanged: {command_s:6.2f} s  ({output.strip().splitlines()[-1]}; "
              f"{starts(log) - before} ffprobe started; whole command, target <= 1.5 s)")
        help_s, _ = best_of(5, flask + ["--help"], env)
        print(f"   flask --help:               {help_s:8.2f} s  (target <= 0.4 s)")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


def best_of(runs: int, argv: list[str], env: dict) -> tuple[float, str]:
    """The shortest wall time (s) of `runs` runs of `argv`, and the last run's standard output."""
    best, output = float("inf"), ""
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
        best, output = min(best, time.perf_counter() - began), done.stdout
    return best, output


def memoised_probe(path: str):
    """ffprobe's answer for the shared clip that `path` links to, probed once per clip and pool process
    (seeding the big catalogue only; a module-level function, as the scanner's pool processes need)."""
    return _probe_clip(os.path.realpath(path) if os.path.islink(path) else _source_of(path))


@lru_cache(maxsize=None)
def _probe_clip(source: str):
    return probe(source, ffprobe="ffprobe")


def _source_of(path: str) -> str:
    """The shared clip a benchmark file links to (its name after `NNNNN - `)."""
    name = os.path.basename(path).split(" - ", 1)[1]
    return str(next(MEDIA.rglob(name)))


if __name__ == "__main__":
    raise SystemExit(main())

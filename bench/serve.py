"""Segment serving benchmark: requests per second for the same HLS segments through the app's token
check, through nginx with X-Accel-Redirect, and from nginx as plain static files.

    python bench/serve.py [--clip video/bbb_h264_aac_720p_30s.mp4] [--seconds 10] [--runs 2]
                          [--connections 32] [--threads 2] [--redis redis://127.0.0.1:6379/4]

Needs nginx and wrk (`bash scripts/ensure-tools.sh nginx wrk`). Set-up, in a temporary folder
(removed at the end): the clip linked into a library, scanned, and transcoded into its HLS ladder
by the project's job (an RQ SimpleWorker in this process); a user and one stream token for it.
The URLs are every segment (`seg_*.m4s`) of every rung and audio playlist of that ladder, in turn.
Then, as subprocesses (tests/deploy_stack.py, as the deployment test runs them):

1. app: one gunicorn eventlet web process (deploy/gunicorn.conf.py) with no X-Accel prefix: it
   checks the token and the path, then sends the file itself (`/hls/<id>/<token>/<rung>/<segment>`);
2. x-accel: nginx with the shipped site (deploy/nginx/mediaserver.conf) in front of a second such
   process with MEDIASERVER_X_ACCEL_PREFIX=/_protected: the app checks, nginx sends the file
   (the same URLs, through nginx);
3. static: the same nginx serving the ladder's folder as plain files (`location /static-ladder/`,
   no token, no app): the ceiling.

Each is loaded by wrk (--threads threads, --connections keep-alive connections, a Lua script
cycling through the URLs) for --seconds after 2 s of warm-up; the three alternate, --runs times,
and the best run of each counts. Every URL is fetched once through each before, and its bytes
compared with the file. Printed: requests/s, MB/s, p50/p99 latency and error count of each run, and
the CPU time the serving processes spent per request (utime+stime from /proc: the web process for
app, it and nginx for x-accel, nginx for static; comparable when other work shares the machine),
then app / static (target >= 0.5) and x-accel / static (target >= 0.9). nginx runs with
`worker_processes auto` and no access log; the web processes without an access log.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
from rq import SimpleWorker  # noqa: E402
from sqlalchemy import select  # noqa: E402

from deploy.nginx_site import X_ACCEL_PREFIX  # noqa: E402
from mediaserver import create_app, tokens  # noqa: E402
from mediaserver.accounts import create_user  # noqa: E402
from mediaserver.db import get_db  # noqa: E402
from mediaserver.library.scan import run_library_scan  # noqa: E402
from mediaserver.models import MediaFile  # noqa: E402
from mediaserver.transcode import execute, jobs  # noqa: E402
from tests.deploy_stack import Stack, app_env, free_port  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
SECRET = "bench-secret-key-0123456789"
LUA = """local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def transcoded(base: Path, clip: Path, redis_url: str) -> tuple[int, str, Path]:
    """Scan and transcode `clip`: (media id, a stream token valid for 2 h, the ladder's folder)."""
    library = base / "library"
    library.mkdir()
    shutil.copy2(clip, library / clip.name)  # not a symlink: the scan refuses links that lead out of the library
    app = create_app({"INSTANCE_PATH": str(base / "instance"), "DATABASE_URL": f"sqlite:///{base / 'bench.db'}",
                      "SECRET_KEY": SECRET, "DATA_DIR": str(base / "data"), "LIBRARY_ROOTS": [str(library)],
                      "AUTO_TRANSCODE_DEFAULT": False, "TMDB_API_KEY": None, "REDIS_URL": redis_url,
                      "TRANSCODE_RETRY_INTERVALS_S": ()})
    logging.getLogger().setLevel(logging.WARNING)  # create_app sets INFO: RQ and job chatter
    app.redis.flushdb()
    with app.app_context():
        run_library_scan(get_db(), [])
        user = create_user("bench", "bench-password-1", is_admin=True)
        media = get_db().scalar(select(MediaFile))
        job_id = jobs.enqueue(get_db(), media).id
        SimpleWorker([app.task_queue], connection=app.redis).work(burst=True, logging_level="WARNING")
        media = get_db().get(MediaFile, media.id)
        job = media.playable_job
        assert job is not None and job.status == "succeeded" and job.id == job_id, "the transcode failed"
        token, _ = tokens.issue(SECRET, user.id, media.id, 7200, time.time())
        return media.id, token, Path(execute.settings().hls_root) / job.output_dir


def cpu_s(pids: list[int]) -> float:
    """CPU time (user + system, s) the processes `pids` and their children have used so far."""
    total = 0.0
    for pid in pids + [c for p in pids for c in _children(p)]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wrk(url: str, paths: list[str], script: Path, seconds: int, threads: int, connections: int,
        servers: list[int]) -> dict:
    """One wrk run against `url` cycling through `paths`: req/s, MB/s, p50/p99 ms, errors, and the
    CPU time the `servers` processes (and their children) spent per request (us)."""
    script.write_text(LUA % ", ".join(f'"{p}"' for p in paths))
    argv = ["wrk", f"-t{threads}", f"-c{connections}", "--latency", "-s", str(script), url]
    subprocess.run(argv[:1] + ["-t1", "-c4", "-d2s"] + argv[3:], check=True, capture_output=True)  # warm-up
    cpu_before = cpu_s(servers)
    out = subprocess.run(argv[:3] + [f"-d{seconds}s"] + argv[3:], check=True, capture_output=True, text=True).stdout
    cpu = cpu_s(servers) - cpu_before
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    mb_s = float(transfer.group(1)) * {"B": 1 / 2**20, "KB": 1 / 1024, "MB": 1, "GB": 1024}[transfer.group(2)]
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    bad_status = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(map(int, socket_errors.groups() if socket_errors else ())) + int(bad_status.group(1) if bad_status else 0)
    latency = {p: _ms(v) for p, v in re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M)}
    requests_done = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rate": rate, "mb_s": mb_s, "p50": latency.get("50"), "p99": latency.get("99"), "errors": errors,
            "cpu_us": cpu / max(1, requests_done) * 1e6}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="video/bbb_h264_aac_720p_30s.mp4", help="path under ../shared/media")
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured run (s)")
    parser.add_argument("--runs", type=int, default=2, help="runs of each of the three, alternated (best kept)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's keep-alive connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/4", help="a Redis DB free to flush")
    args = parser.parse_args()
    missing = [tool for tool in ("nginx", "wrk") if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}"))]
    if missing:
        print(f"bench/serve.py: needs {' and '.join(missing)}: bash scripts/ensure-tools.sh nginx wrk", file=sys.stderr)
        return 1
    base = Path(tempfile.mkdtemp(prefix="bench-serve-", dir=MEDIA.parent.parent))
    stack = Stack(base)
    try:
        began = time.perf_counter()
        media_id, token, ladder = transcoded(base, MEDIA / args.clip, args.redis)
        files = sorted(ladder.glob("*/seg_*.m4s"), key=lambda p: (p.name, p.parent.name))  # rungs in turn
        sizes = [f.stat().st_size for f in files]
        print(f"clip: {args.clip}, ladder made in {time.perf_counter() - began:.1f} s: {len(files)} segments in "
              f"{len({f.parent for f in files})} playlists, {min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KiB "
              f"(mean {sum(sizes) / len(sizes) / 1024:.0f} KiB); {os.cpu_count()} CPUs; wrk -t{args.threads} "
              f"-c{args.connections}, {args.seconds} s per run")

        env = app_env({"SECRET_KEY": SECRET, "DATABASE_URL": f"sqlite:///{base / 'bench.db'}", "REDIS_URL": args.redis,
                       "MEDIASERVER_INSTANCE": str(base / "instance"), "MEDIASERVER_DATA_DIR": str(base / "data"),
                       "MEDIASERVER_LIBRARY": str(base / "library"), "MEDIASERVER_AUTO_TRANSCODE": "0",
                       "TMDB_API_KEY": "", "MEDIASERVER_SOCKETIO_CHANNEL": f"bench-serve-{os.getpid()}"})
        app_port, accel_port, nginx_port, static_port = (free_port() for _ in range(4))
        urls = {"app": stack.gunicorn("web-app", app_port, {**env, "MEDIASERVER_X_ACCEL_PREFIX": ""}, access_log=False)}
        stack.gunicorn("web-accel", accel_port, env, access_log=False)
        static = (f"server {{\n    listen 127.0.0.1:{static_port};\n    sendfile on;\n    tcp_nopush on;\n"
                  f"    location /static-ladder/ {{\n        alias {ladder}/;\n    }}\n}}\n")
        urls["x-accel"] = stack.nginx("nginx", nginx_port, [accel_port], str(base / "data"), [str(base / "library")],
                                      extra=static, workers="auto", access_log=False)
        urls["static"] = f"http://127.0.0.1:{static_port}"
        rel = [f.relative_to(ladder).as_posix() for f in files]
        paths = {"app": [f"/hls/{media_id}/{token}/{r}" for r in rel], "static": [f"/static-ladder/{r}" for r in rel]}
        paths["x-accel"] = paths["app"]

        for name, url in urls.items():  # every URL answers with its file's bytes
            for path, file in zip(paths[name], files):
                response = requests.get(url + path, timeout=10)
                assert response.status_code == 200 and response.content == file.read_bytes(), (name, path)
        named = requests.get(f"http://127.0.0.1:{accel_port}{paths['app'][0]}").headers.get("X-Accel-Redirect", "")
        assert named.startswith(f"{X_ACCEL_PREFIX}/data/hls/"), named  # (b)'s web process sends no bytes

        pids = {name: proc.pid for name, proc in stack.procs.items()}
        servers = {"app": [pids["web-app"]], "x-accel": [pids["web-accel"], pids["nginx"]], "static": [pids["nginx"]]}
        results: dict[str, list[dict]] = {name: [] for name in urls}
        for run in range(args.runs):
            for name, url in urls.items():
                result = wrk(url, paths[name], base / f"{name}.lua", args.seconds, args.threads, args.connections,
                             servers[name])
                results[name].append(result)
                print(f"run {run + 1} {name:8s} {result['rate']:9.0f} req/s {result['mb_s']:8.0f} MB/s   "
                      f"p50 {result['p50'] or 0:7.2f} ms  p99 {result['p99'] or 0:7.2f} ms  errors {result['errors']}   "
                      f"server CPU {result['cpu_us']:6.0f} us/request")
        best = {name: max(r["rate"] for r in runs) for name, runs in results.items()}
        rows = [("1. app: token check + file sent by the app (req/s)", best["app"], "", None),
                ("2. nginx + X-Accel-Redirect, app checks (req/s)", best["x-accel"], "", None),
                ("3. nginx static, same files (req/s)", best["static"], "", None),
                ("   app / static", best["app"] / best["static"], ">= 0.50", best["app"] / best["static"] >= 0.5),
                ("   x-accel / static", best["x-accel"] / best["static"], ">= 0.90",
                 best["x-accel"] / best["static"] >= 0.9)]
        print(f"\nsummary (best run of each)\n   {'measure':52s} {'value':>9s}  {'target':>7s}  result")
        for label, value, target, passed in rows:
            print(f"   {label:52s} {value:9.2f}  {target:>7s}  {'' if passed is None else 'PASS' if passed else 'MISS'}")
    finally:
        stack.stop()
        try:
            import redis

            redis.Redis.from_url(args.redis).flushdb()
        except Exception:  # noqa: BLE001 - cleaning up only
            pass
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

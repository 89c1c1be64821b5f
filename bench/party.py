"""Party fan-out benchmark: how long a host's command takes to reach every member of a big party.

    python bench/party.py [--clients 50,200,500] [--commands 20] [--procs 4] [--parse rev|full]
                          [--compress] [--keep]

Issue 5's target: p99 <= 100 ms at 500 clients on one web process.

Set-up (a temporary instance, removed at the end unless --keep): SQLite in a temporary folder,
Redis DB 6 (flushed at start and end), a Socket.IO channel of its own, the per-address join limit
lifted (every guest comes from 127.0.0.1); `flask db upgrade`, a host user (`flask users create`),
`flask scan` of a library holding one copy of ../shared/media/video/bbb_h264_aac_720p_30s.mp4; then
ONE production web process, `serve.py` (eventlet, Redis message queue), as a subprocess. The host
logs in over HTTP (with the session's CSRF token), creates the party and joins it over Socket.IO
(`/party`, websocket transport) from this process.

For each N of --clients (ascending; the party grows, the earlier guests stay): guests are added until
N are in the party, each with its own token (`POST /api/parties/<code>/join`) and its own
python-socketio AsyncClient (asyncio + aiohttp) emitting `join {code, token}`; the clients are
spread over --procs client processes so that one event loop does not serialise them all. Every
client sends a `report` every 2 s, as the web client does (else the server marks it offline after
15 s). Once the join storm is over (no `state` anywhere for 1 s), this process:

1. baseline, the floor of one hop: 30 `time_ping` -> `time_pong` round trips of the host, in turn,
   measured while the N guests sit connected (the same server, same moment); also once before any
   guest joined;
2. measures the server's background CPU (reports, timers, heartbeats) over 3 s without commands;
3. sends --commands commands as the host, alternately `seek` (to i s) and `pause`, each with the
   party's current `rev` and a fresh `event_id`, the next one only after the host got the previous
   command's `state` and 300-500 ms more (so they never overlap). It notes the wall-clock send time
   (time.time_ns) of each; each command makes revision rev+1.

Each guest notes the wall-clock time (time.time_ns, same machine and clock) at which it first
decoded a `state` carrying each revision. Latency = that time - the send time of the command that
made the revision; one sample per guest per command. Printed per N:
- clients, samples, missing (a guest that never got a revision); p50, p99, max latency (ms);
- ping p50/p99: the host's time_ping round trip (ms), the baseline;
- srv cpu/cmd: serve.py's CPU time (utime+stime, /proc/<pid>/stat) over the command phase per
  command, background included; net/cmd: the same less the background rate measured in step 2;
  idle: that background in % of one CPU; cli cpu/cmd: the client processes' CPU per command;
- state B: the `state` packet's size; join s: how long adding the guests took;
- first: median over commands of the first guest's latency (~ the server's path up to the
  broadcast); spread: median over commands of last - first guest (~ the fan-out to N sockets and
  the N clients' own processing).
The machine's load average is printed at the start and the end: the clients share the machine's
cores with the server, so a loaded machine shows in the numbers.

--parse rev (default): the clients decode a `state` packet only as far as its `rev` (the packet is
read and framed, then the revision found with one rfind), because 500 python clients fully
decoding ~50 KB of JSON each on the same 2 cores as the server would measure the clients, not
the server (browsers decode on their own machines). --parse full decodes every packet with json
(the time is taken after decoding): the client-side cost, for comparison. --compress makes the
clients offer permessage-deflate as browsers do (the server then deflates every packet per socket).
--keep keeps the temporary folder: serve.log, the database and samples-<N>.json ({rev: [send time
ns, [latency ms per guest]]}). Exit status 0 whatever the numbers.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from party_clients import NS, Host, guest_worker, report_loop  # the guests and the host (bench/party_clients.py)

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT.parent / "shared" / "media" / "video" / "bbb_h264_aac_720p_30s.mp4"
REDIS_URL = "redis://127.0.0.1:6379/6"
HOST_USER, HOST_PASSWORD = "benchhost", "bench-password-123"
IDLE_S = 3.0                 # s of no command, to measure the server's background CPU
TARGET_CLIENTS, TARGET_P99_MS = 500, 100.0


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def cpu_s(pid: int) -> float:
    """utime + stime of process `pid`, in s."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flush_redis() -> None:
    from redis import Redis

    Redis.from_url(REDIS_URL).flushdb()


def setup_instance(base: Path) -> dict:
    """Migrate, create the host user and scan the clip; returns the environment for serve.py."""
    library = base / "library" / "Movies"
    library.mkdir(parents=True)
    shutil.copy2(CLIP, library / "Big Buck Bunny (2008).mp4")  # not a symlink: the scan refuses links leading out
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIASERVER_", "TMDB_"))}
    env.update(MEDIASERVER_INSTANCE=str(base / "instance"), DATABASE_URL=f"sqlite:///{base / 'bench.db'}",
               REDIS_URL=REDIS_URL, SECRET_KEY="bench-party-secret-0123456789",
               MEDIASERVER_LIBRARY=str(base / "library"), MEDIASERVER_AUTO_TRANSCODE="false",
               MEDIASERVER_SOCKETIO_CHANNEL=f"bench-party-{uuid.uuid4().hex}", PYTHONUNBUFFERED="1",
               # every guest joins from 127.0.0.1: lift the per-address join limit (20 a minute)
               MEDIASERVER_PARTY_JOIN_LIMIT_PER_IP="1000000")
    flask = [sys.executable, "-m", "flask", "--app", "mediaserver"]
    for args in (["db", "upgrade"], ["users", "create", HOST_USER, "--password", HOST_PASSWORD, "--admin"],
                 ["scan"]):
        subprocess.run(flask + args, cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def media_file_id(base: Path) -> int:
    with sqlite3.connect(base / "bench.db") as db:
        return db.execute("SELECT id FROM media_files WHERE status = 'ok' ORDER BY id LIMIT 1").fetchone()[0]


def start_server(base: Path, env: dict, port: int) -> subprocess.Popen:
    import requests

    log = open(base / "serve.log", "wb")
    server = subprocess.Popen([sys.executable, "serve.py", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"serve.py exited ({server.returncode}); see {base / 'serve.log'}")
        try:
            requests.get(f"http://127.0.0.1:{port}/api/auth/me", timeout=1)
            return server
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("serve.py did not start listening within 30 s")


async def ask_all(workers, message) -> list:
    loop = asyncio.get_running_loop()
    for parent, _process in workers:
        parent.send(message)
    return [await loop.run_in_executor(None, parent.recv) for parent, _process in workers]


async def wait_quiet(workers, quiet_s: float = 1.0, timeout_s: float = 300.0) -> None:
    """Until no guest has received a `state` for `quiet_s` (the join storm is delivered)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = max(await ask_all(workers, ("last", None)))
        if time.time_ns() - last > quiet_s * 1e9:
            return
        await asyncio.sleep(0.25)


async def run(args, url: str, code: str, cookie: str, server_pid: int) -> None:
    full = args.parse == "full"
    host = Host(full, args.compress)
    await host.sio.connect(url, namespaces=[NS], transports=["websocket"], headers={"Cookie": cookie})
    answer = await host.sio.call("join", {"code": code, "token": ""}, namespace=NS, timeout=30)
    if not (answer and answer.get("ok")):
        raise RuntimeError(f"the host could not join: {answer}")
    asyncio.get_running_loop().create_task(report_loop(host.sio))
    await host.wait_rev(0, 10)

    await host.ping(5)  # warm-up
    rtt0 = await host.ping(30)
    print(f"baseline, 0 guests: time_ping round trip p50 {pct(rtt0, 50):6.2f} ms  p99 {pct(rtt0, 99):6.2f} ms")
    ctx = multiprocessing.get_context("spawn")
    workers = []
    for _ in range(args.procs):
        parent, child = ctx.Pipe()
        process = ctx.Process(target=guest_worker, args=(child, url, code, full, args.compress), daemon=True)
        process.start()
        workers.append((parent, process))
    print(f"{'clients':>7} {'samples':>7} {'missing':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'ping p50':>8} {'ping p99':>8} {'srv cpu/cmd':>11} {'  net/cmd':>11} {'idle':>7} {'cli cpu/cmd':>11} "
          f"{'state B':>8} {'join s':>7} {'first':>7} {'spread':>7}")
    results = {}
    joined = 0
    try:
        for n in sorted(args.clients):
            began = time.monotonic()
            names = [f"guest-{i:04d}" for i in range(joined, n)]
            counts = await asyncio.gather(*(
                asyncio.get_running_loop().run_in_executor(None, _add, parent, names[w::len(workers)])
                for w, (parent, _p) in enumerate(workers)))
            joined = sum(c for c, _e in counts)
            for _c, errors in counts:
                for error in errors[:3]:
                    print(f"  join failed: {error}")
            await wait_quiet(workers)
            join_s = time.monotonic() - began
            rtt = await host.ping(30)
            idle0, idle_t0 = cpu_s(server_pid), time.monotonic()
            await asyncio.sleep(IDLE_S)  # the background: reports, timers, heartbeats
            idle_rate = (cpu_s(server_pid) - idle0) / (time.monotonic() - idle_t0)

            sent: dict[int, int] = {}
            cpu0, ccpu0 = cpu_s(server_pid), sum(await ask_all(workers, ("cpu", None)))
            phase_t0 = time.monotonic()
            for i in range(args.commands):
                rev = host.rev
                event = "seek" if i % 2 == 0 else "pause"
                data = {"rev": rev, "event_id": uuid.uuid4().hex, "position_ms": (i + 1) * 1000}
                sent[rev + 1] = time.time_ns()
                await host.sio.emit(event, data, namespace=NS)
                if not await host.wait_rev(rev + 1, 10):
                    print(f"  command {i} ({event} at rev {rev}) produced no state in 10 s; "
                          f"last rejection: {[(r.get('code'), r.get('reason')) for r in host.rejected[-1:]]}")
                    sent.pop(rev + 1, None)
                await asyncio.sleep(random.uniform(0.3, 0.5))
            await asyncio.sleep(1.0)  # stragglers
            cpu1, ccpu1 = cpu_s(server_pid), sum(await ask_all(workers, ("cpu", None)))
            phase_s = time.monotonic() - phase_t0

            firsts = [per_guest for got in await ask_all(workers, ("collect", list(sent))) for per_guest in got]
            latencies = [(ns - sent[rev]) / 1e6 for per_guest in firsts for rev, ns in per_guest.items()
                         if ns is not None]
            missing = sum(ns is None for per_guest in firsts for ns in per_guest.values())
            dropped = sum(await ask_all(workers, ("dropped", None)))
            if dropped:
                print(f"  {dropped} guests lost their connection (the server dropped them; their samples are missing)")
            commands = max(1, len(sent))
            per_command = [[g[rev] for g in firsts if g[rev] is not None] for rev in sent]
            per_command = [[(ns - sent[rev]) / 1e6 for ns in got] for rev, got in zip(sent, per_command) if got]
            first = statistics.median(min(v) for v in per_command) if per_command else float("nan")
            spread = statistics.median(max(v) - min(v) for v in per_command) if per_command else float("nan")
            if latencies:
                row = (pct(latencies, 50), pct(latencies, 99), max(latencies))
            else:
                row = (float("nan"),) * 3
            results[n] = row
            if args.keep:  # raw samples: {rev: [send time ns, [latency ms per guest, None when missing]]}
                (args.base / f"samples-{n}.json").write_text(json.dumps(
                    {rev: [sent[rev], [None if g[rev] is None else (g[rev] - sent[rev]) / 1e6 for g in firsts]]
                     for rev in sent}))
            net = (cpu1 - cpu0 - idle_rate * phase_s) / commands
            print(f"{joined:>7} {len(latencies):>7} {missing:>7} {row[0]:>8.1f} {row[1]:>8.1f} {row[2]:>8.1f} "
                  f"{pct(rtt, 50):>8.2f} {pct(rtt, 99):>8.2f} {(cpu1 - cpu0) / commands * 1000:>8.1f} ms "
                  f"{net * 1000:>8.1f} ms {idle_rate * 100:>6.1f}% {(ccpu1 - ccpu0) / commands * 1000:>8.1f} ms "
                  f"{host.bytes:>8} {join_s:>7.1f} {first:>7.1f} {spread:>7.1f}", flush=True)
    finally:
        await ask_all(workers, ("stop", None))
        for _parent, process in workers:
            process.join(10)
        await host.sio.disconnect()
    if TARGET_CLIENTS in results:
        p99 = results[TARGET_CLIENTS][1]
        verdict = "met" if p99 <= TARGET_P99_MS else "NOT met"
        print(f"target: p99 <= {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients on one process: "
              f"{p99:.1f} ms, {verdict}")
    else:
        print(f"target: p99 <= {TARGET_P99_MS:.0f} ms at {TARGET_CLIENTS} clients on one process "
              f"(not measured: no run at {TARGET_CLIENTS})")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("(first: median over commands of the first guest's latency, ~ the server's path to the broadcast; "
          "spread: median over commands of last - first guest, ~ the fan-out to N sockets and N clients)")
    print(f"(srv cpu/cmd: serve.py's CPU over the command phase per command, reports, timers and heartbeats "
          f"included; net/cmd: the same less the background measured over {IDLE_S:.0f} s without commands just "
          f"before (idle: that background, % of one CPU); cli cpu/cmd: the {args.procs} client processes' CPU "
          f"per command)")


def _add(parent, names: list[str]):
    parent.send(("add", names))
    return parent.recv()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=lambda s: [int(v) for v in s.split(",")], default=[50, 200, 500],
                        help="party sizes, comma-separated (default 50,200,500)")
    parser.add_argument("--commands", type=int, default=20, help="host commands per size (default 20)")
    parser.add_argument("--procs", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--parse", choices=("rev", "full"), default="rev",
                        help="how far clients decode a state: its rev only (default) or all of it")
    parser.add_argument("--compress", action="store_true",
                        help="clients offer permessage-deflate, as browsers do (default: off, as python-socketio)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (serve.log, bench.db)")
    args = parser.parse_args()

    import requests

    def interrupted(_signum, _frame):
        raise KeyboardInterrupt  # so that the clean-up below runs

    signal.signal(signal.SIGTERM, interrupted)
    base = args.base = Path(tempfile.mkdtemp(prefix="bench-party-"))
    server = None
    try:
        flush_redis()
        env = setup_instance(base)
        port = free_port()
        server = start_server(base, env, port)
        url = f"http://127.0.0.1:{port}"
        session = requests.Session()
        csrf = session.get(f"{url}/api/auth/csrf", timeout=10)  # POSTs carry the session's CSRF token
        headers = {"X-CSRFToken": csrf.json()["csrf_token"]} if csrf.status_code == 200 else {}
        login = session.post(f"{url}/api/auth/login", json={"username": HOST_USER, "password": HOST_PASSWORD},
                             headers=headers, timeout=10)
        login.raise_for_status()
        if "csrf_token" in login.json():  # a new session, a new token
            headers = {"X-CSRFToken": login.json()["csrf_token"]}
        created = session.post(f"{url}/api/parties", json={"media_file_id": media_file_id(base)}, headers=headers,
                               timeout=10)
        created.raise_for_status()
        code = created.json()["code"]
        cookie = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
        print(f"serve.py (eventlet, pid {server.pid}) on {url}; party {code}; clients in {args.procs} processes, "
              f"parse={args.parse}, compress={'on' if args.compress else 'off'}, {args.commands} commands per size; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        asyncio.run(run(args, url, code, cookie, server.pid))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        try:
            flush_redis()
        except Exception as exc:  # Redis gone: nothing to flush
            print(f"could not flush {REDIS_URL}: {exc}", file=sys.stderr)
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

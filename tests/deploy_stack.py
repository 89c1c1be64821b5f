"""The deployment of deploy/ on loopback, as subprocesses: nginx (the shipped site, rendered by
deploy/nginx_site.py with free ports and temporary folders), gunicorn web processes
(deploy/gunicorn.conf.py, eventlet worker) and `worker.py`. Used by tests/e2e/test_deploy.py and
bench/serve.py; it imports nothing from the app or the other test helpers.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from deploy.nginx_site import TEMPLATE, X_ACCEL_PREFIX, render, standalone_conf

PROJECT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable  # the virtualenv's (`make test`, bench/serve.py run with it)
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
#: nginx's access log, one request per line: upstream (empty when nginx answered alone) and the
#: X-Accel-Redirect the app answered with (before nginx's internal redirect; "-" when none).
ACCESS_LOG_FORMAT = ('$remote_addr "$request" $status $body_bytes_sent '
                     'upstream=$upstream_addr accel=$upstream_http_x_accel_redirect')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(base_env: dict, **settings: str) -> dict:
    """The environment of the stack's processes: `base_env` (the test's SECRET_KEY, DATABASE_URL, ...)
    behind nginx: ProxyFix for one proxy, stream files through X-Accel-Redirect."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "MEDIASERVER_PROXY_FIX": "1",
           "MEDIASERVER_X_ACCEL_PREFIX": X_ACCEL_PREFIX, **base_env, **settings}
    env.pop("MEDIASERVER_ASYNC_MODE", None)
    return env


class Stack:
    """Named subprocesses with their logs in `base`; `stop()` ends every one (tests call it in teardown)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.procs: dict[str, subprocess.Popen] = {}
        self.stop_signals: dict[str, int] = {}

    def start(self, name: str, argv: list[str], env: dict | None = None, stop_signal: int = signal.SIGTERM) -> None:
        with open(self.base / f"{name}.log", "ab") as log:
            self.procs[name] = subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                                start_new_session=True)
        self.stop_signals[name] = stop_signal

    def gunicorn(self, name: str, port: int, env: dict, access_log: bool = True) -> str:
        """A web process (`gunicorn -c deploy/gunicorn.conf.py`) on 127.0.0.1:`port`, its access log
        (with each response's body bytes) in its log; returns its URL once it answers."""
        self.start(name, [GUNICORN, "-c", str(PROJECT / "deploy" / "gunicorn.conf.py")],
                   {**env, "MEDIASERVER_BIND": f"127.0.0.1:{port}", "MEDIASERVER_ACCESS_LOG": "-" if access_log else ""},
                   stop_signal=signal.SIGINT)  # quick shutdown: open WebSockets would hold TERM's graceful one
        url = f"http://127.0.0.1:{port}"
        self.wait_http(name, url + "/login")
        return url

    def worker(self, name: str, env: dict) -> None:
        self.start(name, [PYTHON, "worker.py"], env)

    def nginx(self, name: str, port: int, web_ports: list[int], data_dir: str, library: list[str],
              extra: str = "", workers: str = "1", access_log: bool = True) -> str:
        """nginx with the shipped site, plain HTTP on 127.0.0.1:`port`, in front of `web_ports`
        (`extra`: more of the http context, after the site)."""
        prefix = self.base / name
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / "tmp" / kind).mkdir(parents=True, exist_ok=True)
        site = prefix / "site.conf"
        site.write_text(render(TEMPLATE.read_text(), web=[f"127.0.0.1:{p}" for p in web_ports], data_dir=data_dir,
                               library=library, listen=[f"127.0.0.1:{port}"], plain=True) + extra)
        conf = prefix / "nginx.conf"
        conf.write_text(standalone_conf(site, prefix, ACCESS_LOG_FORMAT if access_log else None, workers))
        checked = subprocess.run([NGINX, "-t", "-q", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.start(name, [NGINX, "-p", str(prefix), "-c", str(conf)], stop_signal=signal.SIGQUIT)
        url = f"http://127.0.0.1:{port}"
        self.wait_http(name, url + "/login")
        return url

    def access_log(self, name: str) -> list[str]:
        path = self.base / name / "access.log"
        return path.read_text(errors="replace").splitlines() if path.exists() else []

    def wait_http(self, name: str, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.procs[name].poll() is None, f"{name} exited:\n{self.log(name)}"
            try:
                requests.get(url, timeout=5)  # gunicorn listens before its worker has loaded the app
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.05)
        raise AssertionError(f"{name} did not answer HTTP within {timeout} s:\n{self.log(name)}")

    def log(self, name: str) -> str:
        return (self.base / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """End every process (its whole session: gunicorn's worker, a worker's work horse and ffmpeg)."""
        for name, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(self.stop_signals[name])
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        self.procs.clear()

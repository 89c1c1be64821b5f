"""Real web processes for the multi-process tests (test_party_processes.py, test_session_processes.py):
`serve.py` (eventlet) processes on one database, one Redis and one Socket.IO channel, started, killed
and stopped by name; and the timeline's rule for a state seen at one time, projected to another."""
import signal
import socket
import subprocess
import time

import requests

from tests.helpers import PROJECT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """`serve.py` processes on one database, one Redis and one Socket.IO channel."""

    def __init__(self, base, env) -> None:
        self.base, self.env, self.procs, self.logs = base, env, {}, {}

    def start(self, name: str, port: int) -> str:
        log = open(self.base / f"{name}.log", "ab")
        self.logs[name] = log
        self.procs[name] = subprocess.Popen([str(PROJECT / ".venv/bin/python"), "serve.py", "--port", str(port)],
                                            cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return f"http://127.0.0.1:{port}"

    def wait_up(self, name: str, url: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.procs[name].poll() is None, f"{name} exited:\n{self.log(name)}"
            try:  # a process just started answers its first request slowly on a busy machine: wait on
                requests.get(url + "/p/nosuchcode/qr.svg", timeout=(1, 5))
                return
            except (requests.ConnectionError, requests.Timeout):  # (ReadTimeout is not a ConnectionError)
                time.sleep(0.05)
        raise AssertionError(f"{name} did not answer HTTP within {timeout} s:\n{self.log(name)}")

    def kill(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(10)

    def log(self, name: str) -> str:
        self.logs[name].flush()
        return (self.base / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for log in self.logs.values():
            log.close()


def position(state: dict, at_ms: int) -> int:
    """A `state` or `session_state`'s position (ms) projected to server time `at_ms` (the timeline's rule)."""
    if state["state"] != "playing":
        return state["position_ms"]
    return state["position_ms"] + max(0, at_ms - state["anchor_server_ms"])

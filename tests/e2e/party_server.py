"""A real `serve.py` (eventlet) process over a one-title library, for the party end-to-end tests.

The title is the 30 s H.264/AAC clip played three times over (ffmpeg's concat demuxer, stream copy:
a 90 s direct-play MP4 made in the test's temporary folder, never in the repository); `tracks` adds an
album of tagged MP3 tones (direct play) for the listening party tests.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import requests

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.helpers import NO_RATE_LIMITS_ENV, PASSWORD, PROJECT, app_config, clip, csrf_session


def csrf_post(context, url: str, data: dict):
    """POST JSON `data` from a Playwright browser context (its cookies) with the session's CSRF token,
    taken from `GET /api/auth/csrf` as static/js/csrf.js takes the page's."""
    origin = "/".join(url.split("/")[:3])
    token = context.request.get(origin + "/api/auth/csrf").json()["csrf_token"]
    return context.request.post(url, data=data, headers={"X-CSRFToken": token})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PartyServer:
    """`start()`, `kill()` (SIGKILL), `stop()`; `url`, `media_id`; `login(context)` logs a Playwright
    browser context in as the admin; `state(code)` / `members(code)` read the party as the admin."""

    def __init__(self, base: Path, tracks: tuple[tuple[str, int], ...] = ()) -> None:
        self.base = base
        library = base / "library" / "Movies"
        library.mkdir(parents=True)
        album = base / "library" / "Music" / "Solar Band" / "Night Album"
        for number, (title, seconds) in enumerate(tracks, start=1):  # (title, length in s)
            album.mkdir(parents=True, exist_ok=True)
            subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"sine=f={300 + 40 * number}:d={seconds}",
                            "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", "-metadata", f"title={title}",
                            "-metadata", "artist=Solar Band", "-metadata", "album=Night Album",
                            "-metadata", f"track={number}/{len(tracks)}", str(album / f"{number:02d} {title}.mp3")],
                           check=True)
        listing = base / "concat.txt"
        listing.write_text(f"file '{clip('video/bbb_h264_aac_720p_30s.mp4')}'\n" * 3)
        subprocess.run(["ffmpeg", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy",
                        str(library / "Big Buck Bunny (2008).mp4")], check=True)
        self.config = app_config(base, LIBRARY_ROOTS=[str(base / "library")])
        app = create_app(self.config)
        with app.app_context():
            create_user("alice", PASSWORD, is_admin=True)
        result = app.test_cli_runner().invoke(args=["scan"])
        assert result.exit_code == 0, result.output
        self.media_id = 1
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.last_start_s = 0.0
        self.admin = csrf_session()

    def env(self) -> dict:
        c = self.config
        return {**os.environ, "SECRET_KEY": c["SECRET_KEY"], "DATABASE_URL": c["DATABASE_URL"],
                "REDIS_URL": c["REDIS_URL"], "MEDIASERVER_DATA_DIR": c["DATA_DIR"],
                "MEDIASERVER_INSTANCE": c["INSTANCE_PATH"], "MEDIASERVER_LIBRARY": str(self.base / "library"),
                "MEDIASERVER_SOCKETIO_CHANNEL": c.get("SOCKETIO_CHANNEL", f"test-{uuid.uuid4().hex}"),
                **NO_RATE_LIMITS_ENV}  # every guest joins from 127.0.0.1

    def start(self, timeout_s: float = 30) -> None:
        started = time.monotonic()
        self.process = subprocess.Popen([sys.executable, "serve.py", "--port", str(self.port)], cwd=PROJECT,
                                        env=self.env(), stdout=subprocess.DEVNULL,
                                        stderr=open(self.base / "server.log", "ab"))
        while time.monotonic() - started < timeout_s:
            try:
                if requests.get(self.url + "/login", timeout=1).status_code < 500:
                    self.last_start_s = time.monotonic() - started
                    self.admin.post(self.url + "/api/auth/login", json={"username": "alice", "password": PASSWORD})
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"serve.py did not answer within {timeout_s} s: {(self.base / 'server.log').read_text()}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None

    def login(self, context) -> None:
        response = csrf_post(context, self.url + "/api/auth/login", {"username": "alice", "password": PASSWORD})
        assert response.ok, response.text()

    def state(self, code: str) -> dict:
        try:
            response = self.admin.get(f"{self.url}/api/parties/{code}", timeout=2)
        except requests.ConnectionError:
            return {}
        return response.json() if response.ok else {}

    def members(self, code: str) -> list[dict]:
        return self.state(code).get("members", [])

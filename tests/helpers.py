"""Test helpers: the shared clips, temporary libraries, app configs, a burst RQ worker.

The clips live in `../shared/media` beside the checkout (MEDIASERVER_TEST_MEDIA overrides); tests
hard-link them into temporary library layouts (a copy where linking fails) and never copy them into
the repository. Not symlinks: a library reads nothing whose real path leaves its folder.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import socket
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from rq import SimpleWorker
from werkzeug.datastructures import Headers

PROJECT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("MEDIASERVER_TEST_MEDIA", Path(__file__).resolve().parents[1] / ".." / "shared" / "media")).resolve()
#: 92 tagged audio files, crafted and broken ones among them (its MANIFEST.md); MEDIASERVER_TEST_MUSIC_TAGS overrides.
MUSIC_TAGS = Path(os.environ.get("MEDIASERVER_TEST_MUSIC_TAGS",
                                 Path(__file__).resolve().parents[1] / ".." / "shared" / "music-tags")).resolve()


def _claim_redis_db(first: int = 15, last: int = 8) -> str:
    """A Redis database number no other test session on this machine is using (a file lock per
    number, released when the process ends), so that concurrent runs never flush each other's jobs."""
    for number in range(first, last - 1, -1):
        handle = open(os.path.join(tempfile.gettempdir(), f"mediaserver-tests-redis-{number}.lock"), "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _LOCKS.append(handle)
        server = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
        return f"{server.scheme}://{server.netloc}/{number}"  # the server `make` checked, our own db
    raise RuntimeError(f"Redis test databases {last}-{first} are all in use by other test sessions")


_LOCKS: list = []
#: A Redis database of its own, flushed around every test that uses it.
TEST_REDIS_URL = os.environ.get("MEDIASERVER_TEST_REDIS_URL") or _claim_redis_db()
PASSWORD = "correct horse battery"


def clip(rel: str) -> Path:
    path = MEDIA / rel
    assert path.is_file(), f"shared clip {path} is missing: is ../shared/media beside the checkout?"
    return path


def link_clip(rel: str, target: str | bytes | os.PathLike) -> None:
    """Put the shared clip `rel` at `target` (its folder must exist) as a file of its own folder: a hard
    link, or a copy (shutil.copy2) where linking fails (another file system; a file this user may not
    link to, fs.protected_hardlinks). Never a symlink: the server refuses every file whose real path
    leaves its library folder (README "Security"); tests of that make their symlinks themselves."""
    link_file(clip(rel), target)


def link_file(source: str | os.PathLike, target: str | bytes | os.PathLike) -> None:
    """`source` (a shared file: a clip, a file of MUSIC_TAGS) at `target` as a hard link, or a copy
    where linking fails; never a symlink (see `link_clip`)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def make_library(root: Path, files: dict[str, str]) -> Path:
    """Link shared clips into `root` under the given names (`link_clip`): {"Movies/A.mp4": "video/flower.mp4"}."""
    for name, rel in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        link_clip(rel, target)
    return root


def app_config(base: Path, **extra) -> dict:
    from tests.databases import database_url  # here: conftest loads tests.databases as a plugin first

    return {
        "TESTING": True,
        "INSTANCE_PATH": str(base / "instance"),
        "SECRET_KEY": "test-secret-key-0123456789",
        # base/test.db, or with MEDIASERVER_TEST_DATABASE_URL a PostgreSQL database of base's own (tests/databases.py)
        "DATABASE_URL": extra["DATABASE_URL"] if "DATABASE_URL" in extra else database_url(base),
        "REDIS_URL": TEST_REDIS_URL,
        "DATA_DIR": str(base / "data"),
        "LIBRARY_ROOTS": [],
        "AUTO_TRANSCODE_DEFAULT": False,
        # Each app its own Socket.IO channel: apps in one test session never hear each other's rooms.
        "SOCKETIO_CHANNEL": f"mediaserver-test-{uuid.uuid4().hex}",
        # ... and its own rate limit counters (web/ratelimit.py), whatever ran before on this Redis
        "RATE_LIMIT_PREFIX": f"mediaserver-test-{uuid.uuid4().hex}:ratelimit",
        **extra,
    }


def run_worker(app) -> None:
    """Process every queued job with a real RQ worker in burst mode (in this process)."""
    with app.app_context():
        SimpleWorker([app.task_queue], connection=app.redis).work(burst=True)


#: Clips ffmpeg cannot decode to the end (MANIFEST.md); every other clip must get a ladder.
UNDECODABLE = {"broken/flower_truncated.mp4"}
UNREADABLE = {"broken/sample_malformed_free_box.mp4"}


def shared_media() -> list[str]:
    """Every media file of ../shared/media (paths relative to it), as the scanner sees them."""
    from mediaserver.scanner.walk import MEDIA_EXTENSIONS

    return sorted(p.relative_to(MEDIA).as_posix() for p in MEDIA.rglob("*")
                  if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS)


def decodable_media() -> list[str]:
    return [p for p in shared_media() if p not in UNDECODABLE | UNREADABLE]


def media_id(app, rel_path: str) -> int:
    from sqlalchemy import select

    from mediaserver.db import get_db
    from mediaserver.models import MediaFile

    with app.app_context():
        return get_db().scalar(select(MediaFile.id).where(MediaFile.path == rel_path))


#: Rate limits (web/ratelimit.py) out of the way, for modules whose tests make many parties, guests or
#: logins from one address within a minute; test_security.py tests the limits themselves.
NO_RATE_LIMITS = {"LOGIN_LIMIT_PER_IP": 100_000, "LOGIN_LIMIT_PER_ACCOUNT": 100_000,
                  "PARTY_JOIN_LIMIT_PER_IP": 100_000, "PARTY_CREATE_LIMIT_PER_USER": 100_000}
#: The same for a server process started with the environment.
NO_RATE_LIMITS_ENV = {f"MEDIASERVER_{key}": str(value) for key, value in NO_RATE_LIMITS.items()}

#: The methods Flask-WTF's CSRF check covers (mediaserver/web/security.py).
UNSAFE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))


def _needs_csrf(method: str, headers) -> bool:
    return (method.upper() in UNSAFE_METHODS and "X-CSRFToken" not in headers
            and not str(headers.get("Authorization", "")).startswith("Bearer "))


class CSRFClient(FlaskClient):
    """Flask's test client for every test app (conftest sets `Flask.test_client_class`): every POST, PUT,
    PATCH and DELETE sends the session's CSRF token as `X-CSRFToken`, fetched from `GET /api/auth/csrf`
    with the client's cookies first, as static/js/csrf.js sends the page's. A request that names its
    own `X-CSRFToken` or a Bearer token is left alone; `raw_client(app)` sends none (CSRF tests)."""

    def open(self, *args, **kwargs):
        headers = Headers(kwargs.pop("headers", None) or {})
        if args and isinstance(args[0], str) and _needs_csrf(kwargs.get("method", "GET"), headers):
            headers["X-CSRFToken"] = super().open("/api/auth/csrf").json["csrf_token"]
        return super().open(*args, headers=headers, **kwargs)


@contextmanager
def serving(app):
    """`app` on a threaded werkzeug server on a free port of 127.0.0.1; yields its base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    # as serve.py and gunicorn do: an answer written right after another is not held back by Nagle's
    # algorithm waiting for the client's delayed ACK (40 ms)
    server.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def raw_client(app):
    """A test client that sends no CSRF token of its own (Flask's FlaskClient)."""
    return FlaskClient(app, app.response_class, use_cookies=True)


def csrf_session():
    """A requests.Session that sends X-CSRFToken (from the server's `GET /api/auth/csrf`, with the
    session's cookies) on every POST, PUT, PATCH and DELETE, for tests against a live server."""
    import requests

    class CSRFSession(requests.Session):
        def request(self, method, url, *args, **kwargs):
            headers = dict(kwargs.pop("headers", None) or {})
            if _needs_csrf(method, headers):
                origin = urlsplit(url)
                token = super().request("GET", f"{origin.scheme}://{origin.netloc}/api/auth/csrf", timeout=10)
                headers["X-CSRFToken"] = token.json()["csrf_token"]
            return super().request(method, url, *args, headers=headers, **kwargs)

    return CSRFSession()


def logging_ffprobe(folder: Path):
    """An `ffprobe` in `folder` that appends the arguments of every run to a log, then runs the real
    one: (its path, a function giving the log's text, "" before any run)."""
    log = folder / "ffprobe-calls.log"
    shim = folder / "ffprobe-logging"
    shim.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{shutil.which("ffprobe")}" "$@"\n')
    shim.chmod(0o755)
    return shim, lambda: log.read_text() if log.exists() else ""

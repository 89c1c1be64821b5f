"""Test helpers: the shared clips, temporary libraries, app configs, a burst RQ worker.

The clips live in `../shared/media` beside the checkout (MEDIASERVER_TEST_MEDIA overrides); tests
link them into temporary library layouts and never copy them into the repository.
"""
from __future__ import annotations

import fcntl
import os
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from rq import SimpleWorker


PROJECT = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("MEDIASERVER_TEST_MEDIA", Path(__file__).resolve().parents[1] / ".." / "shared" / "media")).resolve()


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


def make_library(root: Path, files: dict[str, str]) -> Path:
    """Symlink shared clips into `root` under the given names: {"Movies/A.mp4": "video/flower.mp4"}."""
    for name, rel in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(clip(rel))
    return root


def app_config(base: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(base / "instance"),
        "SECRET_KEY": "test-secret-key-0123456789",
        "DATABASE_URL": f"sqlite:///{base / 'test.db'}",
        "REDIS_URL": TEST_REDIS_URL,
        "DATA_DIR": str(base / "data"),
        "LIBRARY_ROOTS": [],
        "AUTO_TRANSCODE_DEFAULT": False,
        # Each app its own Socket.IO channel: apps in one test session never hear each other's rooms.
        "SOCKETIO_CHANNEL": f"mediaserver-test-{uuid.uuid4().hex}",
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
    from mediaserver.scanner.scan import MEDIA_EXTENSIONS

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

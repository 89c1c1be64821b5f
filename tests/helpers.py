"""Test helpers: the shared clips, temporary libraries, app configs, a burst RQ worker.

The clips live in `../shared/media` beside the checkout (MEDIASERVER_TEST_MEDIA overrides); tests
link them into temporary library layouts and never copy them into the repository.
"""
from __future__ import annotations

import os
from pathlib import Path

from rq import SimpleWorker


MEDIA = Path(os.environ.get("MEDIASERVER_TEST_MEDIA", Path(__file__).resolve().parents[1] / ".." / "shared" / "media")).resolve()
#: A Redis database of its own, flushed around every test that uses it.
TEST_REDIS_URL = os.environ.get("MEDIASERVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
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
        **extra,
    }


def run_worker(app) -> None:
    """Process every queued job with a real RQ worker in burst mode (in this process)."""
    with app.app_context():
        SimpleWorker([app.task_queue], connection=app.redis).work(burst=True)


#: Clips transcoded once for the whole session: the integration and browser tests share them.
LADDER_CLIPS = {
    "Movies/Big Buck Bunny (2008)/bbb_h264_aac_720p_30s.mp4": "video/bbb_h264_aac_720p_30s.mp4",
    "Movies/HEVC/bbb_hevc_720p_10s.mp4": "video/bbb_hevc_720p_10s.mp4",
    "Movies/WebM/flower.webm": "video/flower.webm",
    "Movies/Rabbit/rabbit320.mp4": "video/rabbit320.mp4",
    "Music/bear_with_picture.flac": "audio/bear_with_picture.flac",
    "Broken/flower_truncated.mp4": "broken/flower_truncated.mp4",
}


def media_id(app, rel_path: str) -> int:
    from sqlalchemy import select

    from mediaserver.db import get_db
    from mediaserver.models import MediaFile

    with app.app_context():
        return get_db().scalar(select(MediaFile.id).where(MediaFile.path == rel_path))

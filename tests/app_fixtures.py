"""Fixtures of the tests that build apps (flaskr's `app`, `client`, `runner`), a real Redis database per
test, and a transcoded library: `titles_app` with the few clips most tests of titles use, `ladder_app`
with all of ../shared/media for the tests of every clip (the same library, grown: each clip is
transcoded once per session). tests/integration/conftest.py and tests/e2e/conftest.py import them;
unit tests (tests/unit/) build no app and import none of this."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from redis import Redis
from sqlalchemy import select

from mediaserver import create_app
from mediaserver.accounts import create_user
from mediaserver.db import get_db
from mediaserver.models import MediaFile
from mediaserver.transcode import jobs
from tests.helpers import MEDIA, PASSWORD, TEST_REDIS_URL, CSRFClient, app_config, run_worker, shared_media

# Every app's test_client() sends the CSRF token on POST/PUT/PATCH/DELETE; CSRF tests use helpers.raw_client.
Flask.test_client_class = CSRFClient


@pytest.fixture
def redis_db():
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def app(tmp_path, redis_db):
    app = create_app(app_config(tmp_path))
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def user(app):
    with app.app_context():
        return create_user("alice", PASSWORD, is_admin=True)


@pytest.fixture
def auth_client(client, user):
    response = client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    return client


#: The clips the tests of particular titles use (playback and direct play, X-Accel, the named ladder
#: cases of test_transcode), as paths under ../shared/media.
TITLE_CLIPS = ("video/bbb_h264_aac_720p_30s.mp4", "video/big_buck_bunny_0_30.webm", "video/bbb_hevc_720p_10s.mp4",
               "video/friday_multitrack.mkv", "video/sample_with_pgs_subtitles.mkv", "video/sample_with_srt.mkv",
               "video/rabbit320.mp4", "video/crystal.mp4", "audio/bear_with_picture.flac",
               "broken/flower_truncated.mp4")


class TranscodedLibrary:
    """The session's library of shared clips, copied into a folder of its own (a library is read only
    inside its root: no link may lead out), scanned and transcoded by a real RQ worker. `having(clips)`
    adds the clips it lacks (copied, scanned, their ladders made) and returns its app: the tests of a
    few titles get those, the tests of every clip all of them, and a pass that runs both transcodes
    each clip once."""

    def __init__(self) -> None:
        self.app = None
        self.base: Path | None = None

    def having(self, factory, clips) -> object:
        if self.app is None:
            self.base = factory.mktemp("library")
            (self.base / "lib").mkdir()
            Redis.from_url(TEST_REDIS_URL).flushdb()
            self.app = create_app(app_config(self.base, LIBRARY_ROOTS=[str(self.base / "lib")],
                                             AUTO_TRANSCODE_DEFAULT=True))
            with self.app.app_context():
                create_user("alice", PASSWORD, is_admin=True)
        missing = [rel for rel in clips if not (self.base / "lib" / rel).exists()]
        for rel in missing:
            (self.base / "lib" / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(MEDIA / rel, self.base / "lib" / rel)
        if missing:
            result = self.app.test_cli_runner().invoke(args=["scan"])
            assert result.exit_code == 0, result.output
            with self.app.app_context():  # direct-play audio too (the scan leaves it out): its ladder is tested
                db = get_db()
                for media in db.scalars(select(MediaFile).where(MediaFile.status == "ok")).all():
                    if media.latest_job is None:
                        jobs.enqueue(db, media)
            run_worker(self.app)
        return self.app

    def close(self) -> None:
        if self.base is not None:
            Redis.from_url(TEST_REDIS_URL).flushdb()
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


#: One per session: the integration and e2e conftests each declare the fixtures (one per directory).
_LIBRARY = TranscodedLibrary()


@pytest.fixture(scope="session")
def titles_app(tmp_path_factory):
    """An app whose library holds TITLE_CLIPS (at their paths under ../shared/media), transcoded."""
    yield _LIBRARY.having(tmp_path_factory, TITLE_CLIPS)
    _LIBRARY.close()


@pytest.fixture(scope="session")
def ladder_app(tmp_path_factory):
    """An app whose library holds every clip of ../shared/media, transcoded (for the tests of every clip)."""
    yield _LIBRARY.having(tmp_path_factory, shared_media())
    _LIBRARY.close()

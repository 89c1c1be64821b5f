"""Fixtures of the tests that build apps (flaskr's `app`, `client`, `runner`), a real Redis database per
test, and `ladder_app`: all of ../shared/media scanned and transcoded once per session, for the tests
that need every clip. tests/integration/conftest.py and tests/e2e/conftest.py import them; unit tests
(tests/unit/) build no app and import none of this."""
from __future__ import annotations

import shutil

import pytest
from flask import Flask
from redis import Redis

from mediaserver import create_app
from mediaserver.accounts import create_user
from tests.helpers import MEDIA, PASSWORD, TEST_REDIS_URL, CSRFClient, app_config, run_worker

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


#: The session's ladder app, once built: the integration and e2e conftests each declare `ladder_app`
#: (a fixture per directory), and a pass that runs both builds it once.
_LADDER: dict = {}


@pytest.fixture(scope="session")
def ladder_app(tmp_path_factory):
    """An app whose library is all of ../shared/media, scanned and transcoded by a real RQ worker."""
    if "app" not in _LADDER:
        base = tmp_path_factory.mktemp("ladder")
        Redis.from_url(TEST_REDIS_URL).flushdb()
        app = create_app(app_config(base, LIBRARY_ROOTS=[str(MEDIA)], AUTO_TRANSCODE_DEFAULT=True))
        with app.app_context():
            create_user("alice", PASSWORD, is_admin=True)
        result = app.test_cli_runner().invoke(args=["scan"])
        assert result.exit_code == 0, result.output
        run_worker(app)
        _LADDER.update(app=app, base=base)
    yield _LADDER["app"]
    if "base" in _LADDER:  # the first of the two fixtures to finish, at the end of the session
        Redis.from_url(TEST_REDIS_URL).flushdb()
        shutil.rmtree(_LADDER.pop("base"), ignore_errors=True)

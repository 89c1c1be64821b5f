"""Fixtures (flaskr's `app`, `client`, `runner`), a real Redis database per test, a transcoded library."""
from __future__ import annotations

import shutil

import pytest
from flask import Flask
from redis import Redis

from mediaserver import create_app
from mediaserver.web.auth import create_user
from tests.helpers import MEDIA, PASSWORD, TEST_REDIS_URL, CSRFClient, app_config, run_worker

# Every app's test_client() sends the CSRF token on POST/PUT/PATCH/DELETE; CSRF tests use helpers.raw_client.
Flask.test_client_class = CSRFClient

pytest_plugins = ["tests.fake_tmdb", "tests.databases"]  # the `fake_tmdb` fixture; a database per test


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


@pytest.fixture(scope="session")
def ladder_app(tmp_path_factory):
    """An app whose library is all of ../shared/media, scanned and transcoded by a real RQ worker."""
    base = tmp_path_factory.mktemp("ladder")
    library = MEDIA
    conn = Redis.from_url(TEST_REDIS_URL)
    conn.flushdb()
    app = create_app(app_config(base, LIBRARY_ROOTS=[str(library)], AUTO_TRANSCODE_DEFAULT=True))
    with app.app_context():
        create_user("alice", PASSWORD, is_admin=True)
    result = app.test_cli_runner().invoke(args=["scan"])
    assert result.exit_code == 0, result.output
    run_worker(app)
    yield app
    conn.flushdb()
    shutil.rmtree(base, ignore_errors=True)

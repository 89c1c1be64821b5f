"""Integration tests: real apps (tests/app_fixtures.py), a real Redis database, SQLite or PostgreSQL,
real ffmpeg, and the fake TMDB server (tests/fake_tmdb.py)."""
from tests.app_fixtures import app, auth_client, client, ladder_app, redis_db, runner, titles_app, user  # noqa: F401
from tests.fake_tmdb import fake_tmdb  # noqa: F401

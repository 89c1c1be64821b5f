"""The Alembic migrations on the suite's database (SQLite, or PostgreSQL with MEDIASERVER_TEST_DATABASE_URL):
from an empty database to head, a schema equal to the models', one step down and up, all the way down and up."""
from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from mediaserver.db import alembic_config, make_engine
from mediaserver.models import Base, MediaFile, Movie, Participant, Stream, TranscodeJob, User, WatchSession
from tests.databases import backend, database_url

SCRIPTS = ScriptDirectory.from_config(alembic_config("sqlite://"))
HEAD = SCRIPTS.get_current_head()
#: Newest first: 0005, 0004, ..., 0001.
REVISIONS = [script.revision for script in SCRIPTS.walk_revisions()]


@pytest.fixture
def url(tmp_path):
    return database_url(tmp_path, migrated=False)


def current(url: str) -> str | None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def differences(url: str) -> list:
    """What autogenerate would write to bring the database to the models (types and defaults compared)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_database_under_test_is_empty_before_the_first_upgrade(url):
    assert tables(url) == set(), backend()
    assert current(url) is None


def test_upgrade_from_empty_gives_the_models_schema(url):
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    assert current(url) == HEAD
    assert tables(url) == set(Base.metadata.tables) | {"alembic_version"}
    assert differences(url) == [], f"{backend()}: the migrations and the models disagree"


def test_downgrade_one_step_and_upgrade_again(url):
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "-1")
    assert current(url) == SCRIPTS.get_revision(HEAD).down_revision
    command.upgrade(cfg, "head")
    assert current(url) == HEAD
    assert differences(url) == []


def downgrade_step_by_step(cfg, url: str) -> None:
    """From head to base one revision at a time, each step checked; no table is left but Alembic's."""
    for revision in REVISIONS:
        assert current(url) == revision
        command.downgrade(cfg, "-1")
    assert current(url) is None
    assert tables(url) <= {"alembic_version"}, f"{backend()}: downgrading to base left tables behind"


def test_downgrade_step_by_step_to_base_and_back_up(url):
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    downgrade_step_by_step(cfg, url)
    for revision in reversed(REVISIONS):
        command.upgrade(cfg, "+1")
        assert current(url) == revision
    assert differences(url) == []


def test_downgrade_to_base_with_rows_in_the_tables(url):
    """Rows do not stop a downgrade (foreign keys; SQLite's batch table copies keep or drop them whole)."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    engine = make_engine(url)
    with Session(engine) as session:
        movie = Movie(title="Big Buck Bunny", year=2008, match_status="matched", cast=[{"name": "Bunny"}])
        media = MediaFile(root="/library", path="Movies/bbb.mp4", size=1, mtime=0.0, status="ok", movie=movie,
                          streams=[Stream(index=0, type="video", is_vfr=True)],
                          jobs=[TranscodeJob(status="succeeded"), TranscodeJob(status="queued")])
        user = User(username="alice", password_hash="x", is_admin=True)
        party = WatchSession(code="abc", media_file_id=None, snapshot={"rev": 1})
        session.add_all([media, user, party])
        session.flush()
        party.participants.append(Participant(user_id=user.id, display_name="alice", role="host"))
        session.commit()
    engine.dispose()
    downgrade_step_by_step(cfg, url)
    command.upgrade(cfg, "head")
    assert differences(url) == []


def test_the_search_migration_fills_search_text_for_existing_rows(url):
    """0008 adds `search_text` to episodes, artists, albums and tracks and fills it for the rows already
    there (the models keep it up to date afterwards, so a missed backfill would hide them from search)."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "0007")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO shows (id, title, match_status, created_at) VALUES (1, 'S', 'off', '2026-01-01')"))
        conn.execute(text("INSERT INTO seasons (id, show_id, number) VALUES (1, 1, 1)"))
        conn.execute(text("INSERT INTO episodes (id, season_id, number, title) VALUES (1, 1, 1, 'Le Café Noir')"))
        conn.execute(text("INSERT INTO artists (id, name, name_key, sort_name) VALUES (1, 'Björk', 'björk', 'Björk')"))
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT search_text FROM episodes")).scalar() == "cafe noir"
        assert conn.execute(text("SELECT search_text FROM artists")).scalar() == "bjork"
    engine.dispose()

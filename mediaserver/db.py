"""The database: one engine per app, one session per request (flaskr's `get_db` pattern), Alembic migrations.

An app's engine and session factory are made on first use (`database(app)`): a command that never
touches the database never imports SQLAlchemy, and one whose database is at `SCHEMA_HEAD` already
never imports Alembic.
"""
from __future__ import annotations

import logging
import os
import weakref
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app, g
from flask.cli import AppGroup

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("mediaserver.db")
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
#: The newest migration's revision (`migrations/versions/`): a database whose `alembic_version` says
#: this needs no migration, so starting the app then costs no Alembic import. Moved with each new
#: migration; tests/integration/test_migrations.py checks it against Alembic's own head.
SCHEMA_HEAD = "0009"

#: The largest id a row can have on every supported database: ids are SQL INTEGER, 32-bit on
#: PostgreSQL (64-bit on SQLite). A larger number names no row; looked up, it would make PostgreSQL
#: raise DataError ("integer out of range") where SQLite finds nothing. The `int` URL converter stops
#: at it (a 404) and request bodies are checked with `fits_id`.
MAX_ID = 2**31 - 1


def fits_id(value: int) -> bool:
    """Whether `value` can be looked up as an id on every database (a row id is never larger)."""
    return -MAX_ID <= value <= MAX_ID


#: Every live engine. A forked RQ work-horse must not reuse its parent's pooled connections
#: (SQLAlchemy docs, "Using Connection Pools with Multiprocessing or os.fork()"): one hook for all.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
os.register_at_fork(after_in_child=lambda: [engine.dispose(close=False) for engine in list(_ENGINES)])


def make_engine(url: str) -> Engine:
    """Create the engine; SQLite gets WAL and a 30 s busy timeout so the web and the worker can share it."""
    from sqlalchemy import create_engine, event

    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised on every connect
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # SQLite docs: in WAL mode NORMAL is safe from corruption; a power cut may lose the last commits.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class Database:
    """An app's database at `url`: the engine and the session factory, made on first use. An SQLite
    database is brought to the newest migration then, unless `migrate` is False; any other is migrated
    only by `flask db upgrade` (so that several app processes never race on DDL)."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url, self.migrate = url, migrate

    @cached_property
    def engine(self) -> Engine:
        """The engine (made, and an SQLite file migrated, on first use)."""
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(self.url)
        _ENGINES.add(engine)
        if self.url.startswith("sqlite") and self.migrate:
            upgrade_if_behind(engine, self.url)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker:
        """The session factory (objects stay readable after a commit: `expire_on_commit=False`)."""
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)


def database(app: Flask | None = None) -> Database:
    """The Database of `app` (default: the current app)."""
    return (app or current_app).extensions["database"]


def get_db() -> Session:
    """The request's (or job's) session, opened on first use and closed at teardown."""
    if "db" not in g:
        g.db = database().sessions()
    return g.db


def new_session() -> Session:
    """A session of its own, for work outside a request (RQ jobs); close it when done."""
    return database().sessions()


def close_db(_exc: BaseException | None = None) -> None:
    """Teardown: close (and so roll back) the request's session, if one was opened."""
    session = g.pop("db", None)
    if session is not None:
        session.close()


def alembic_config(url: str) -> AlembicConfig:
    """Alembic configuration for `migrations/` against the database at `url`."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest migration (Alembic `upgrade head`)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def schema_version(engine: Engine) -> str | None:
    """The revision in the database's `alembic_version` table; None when there is none (a new
    database) or it cannot be read."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def upgrade_if_behind(engine: Engine, url: str) -> bool:
    """Migrate the database at `url` (reached through `engine`) unless it is at SCHEMA_HEAD already;
    True when Alembic ran."""
    if schema_version(engine) == SCHEMA_HEAD:
        return False
    upgrade(url)
    return True


db_cli = AppGroup("db", help="Database migrations.")


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Apply every pending migration (any database: SQLite, PostgreSQL, ...)."""
    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is at the newest migration")


def init_app(app: Flask) -> None:
    """Bind the app's Database (engine made on first use), register teardown and `flask db upgrade`."""
    app.extensions["database"] = Database(app.config["DATABASE_URL"], app.config.get("MIGRATE_ON_START", True))
    app.teardown_appcontext(close_db)
    app.cli.add_command(db_cli)

"""The tests' databases: an SQLite file per app folder (the default), or a PostgreSQL database each.

SQLite: the migrations run once per session into a template file, and every app folder gets a copy
of it (`folder/test.db`): an app then starts with its database at the newest migration, without
Alembic (creating an app that migrates costs 0.25-0.6 s, one that copies 0.03 s).

`MEDIASERVER_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/test` switches every test to
PostgreSQL. The URL names a server and a database that exists on it (`test`), used only to create
and drop others: once per session the migrations (`mediaserver.db.upgrade`) run into a template
database, then every app folder gets its own copy (`CREATE DATABASE ... TEMPLATE`, a block copy,
much faster than migrating). A test's databases are dropped after it (on a background connection,
so that the next test need not wait), those of session fixtures at the end of the session.

Names are `mediaserver_test_<pid>_<n>`: concurrent sessions on one machine never meet, and a session
that was killed leaves databases that the next one drops (their pid is gone).
"""
from __future__ import annotations

import itertools
import os
import queue
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import NullPool

#: The server the tests use, or None for SQLite.
SERVER_URL = os.environ.get("MEDIASERVER_TEST_DATABASE_URL") or None
PREFIX = "mediaserver_test_"


def backend() -> str:
    """`sqlite` or the server's dialect name (`postgresql`), for skips and for messages."""
    return make_url(SERVER_URL).get_backend_name() if SERVER_URL else "sqlite"


class ServerDatabases:
    """Databases on a server (PostgreSQL), one per app folder, cloned from a migrated template."""

    def __init__(self, url: str) -> None:
        self.server: URL = make_url(url)
        self.prefix = f"{PREFIX}{os.getpid()}_"
        self.template = f"{self.prefix}template"
        self._numbers = itertools.count(1)
        self._by_folder: dict[Path, str] = {}
        self._scopes: list[list[str]] = [[]]  # the session's, then the running test's
        self._lock = threading.RLock()
        self._admin: Connection | None = None
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
        self.errors: list[str] = []
        self.created = 0

    def url(self, name: str) -> str:
        return self.server.set(database=name).render_as_string(hide_password=False)

    def _connect(self) -> Connection:
        # AUTOCOMMIT: CREATE/DROP DATABASE cannot run inside a transaction block.
        return create_engine(self.server, poolclass=NullPool, isolation_level="AUTOCOMMIT").connect()

    def start(self) -> None:
        """Connect, drop what killed sessions left, and migrate the template (once; later calls return)."""
        from mediaserver.db import upgrade

        with self._lock:
            if self._admin is not None:
                return
            admin = self._connect()
            self._drop_stale(admin)
            admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.template}"')
            admin.exec_driver_sql(f'CREATE DATABASE "{self.template}"')
            upgrade(self.url(self.template))  # NullPool: no connection is left on the template
            self._dropper = threading.Thread(target=self._drop_loop, name="test-database-dropper", daemon=True)
            self._dropper.start()
            self._admin = admin

    def _drop_stale(self, conn: Connection) -> None:
        """Drop what killed sessions left behind (their process is gone)."""
        names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                             {"prefix": PREFIX})
        for (name,) in names.all():
            match = re.fullmatch(rf"{PREFIX}(\d+)_\w+", name)
            if match and not _alive(int(match.group(1))):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def database_url(self, folder: Path, migrated: bool = True) -> str:
        """The database of the app whose folder is `folder` (the same one for every call with it):
        at the newest migration, or empty (`migrated=False`, for the migrations' own tests)."""
        folder = Path(folder).resolve()
        self.start()
        with self._lock:
            name = self._by_folder.get(folder)
            if name is None:
                name = f"{self.prefix}{next(self._numbers)}"
                template = self.template if migrated else "template0"
                self._admin.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                self._by_folder[folder] = name
                self.created += 1
                self._scopes[-1].append(name)
            return self.url(name)

    @contextmanager
    def scope(self):
        """Databases created inside are dropped on leaving it (a test's)."""
        with self._lock:
            self._scopes.append([])
        try:
            yield
        finally:
            with self._lock:
                names = self._scopes.pop()
                self._forget(names)
            for name in names:
                self._drops.put(name)

    def _forget(self, names: list[str]) -> None:
        for folder in [f for f, n in self._by_folder.items() if n in names]:
            del self._by_folder[folder]

    def _drop_loop(self) -> None:
        conn = self._connect()
        try:
            while (name := self._drops.get()) is not None:
                try:
                    # FORCE (PostgreSQL 13+) ends the connections a test's app or subprocess still holds.
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except Exception as exc:  # noqa: BLE001 - reported at the end of the session
                    self.errors.append(f"{name}: {exc}")
        finally:
            conn.close()

    def close(self) -> None:
        """End of session: drop every database left, then the template."""
        if self._admin is None:
            return
        with self._lock:
            names = [n for scope in self._scopes for n in scope]
            self._scopes = [[]]
            self._forget(names)
        for name in names:
            self._drops.put(name)
        self._drops.put(None)
        self._dropper.join()
        self._admin.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self._admin.close()
        self._admin = None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


class SQLiteTemplate:
    """One SQLite file migrated once per session (in a temporary folder of its own), copied for each app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.path: Path | None = None
        self.copies = 0

    def copy_to(self, target: Path) -> None:
        """Put a migrated database at `target` unless one is there already (an app folder reused)."""
        from mediaserver.db import upgrade

        with self._lock:
            if self.path is None:
                path = Path(tempfile.mkdtemp(prefix="mediaserver-test-template-")) / "template.db"
                upgrade(f"sqlite:///{path}")  # Alembic's own engine: closed, nothing left in a journal
                self.path = path
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.path, target)
                self.copies += 1

    def close(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None


#: The session's databases on the server, or None when the tests use SQLite.
SERVER = ServerDatabases(SERVER_URL) if SERVER_URL else None
#: The SQLite pass's migrated template.
SQLITE = SQLiteTemplate()


def database_url(folder: Path, migrated: bool = True) -> str:
    """The DATABASE_URL for an app whose files live in `folder`: `folder/test.db`, or its server database.
    Either is at the newest migration unless `migrated=False` (an empty database, for the migrations'
    own tests: the app migrates an SQLite file when it starts)."""
    if SERVER is None:
        target = Path(folder) / "test.db"
        if migrated:
            SQLITE.copy_to(target)
        return f"sqlite:///{target}"
    return SERVER.database_url(folder, migrated)


@contextmanager
def per_test():
    """Around one test: the server databases it made are dropped after it."""
    if SERVER is None:
        yield
    else:
        with SERVER.scope():
            yield


def close() -> None:
    SQLITE.close()
    if SERVER is not None:
        SERVER.close()


# --- pytest plugin (tests/conftest.py lists this module in pytest_plugins) -------------------------

def pytest_report_header(config) -> str:
    if SERVER is None:
        return ("database: SQLite (a copy of one migrated file per test; MEDIASERVER_TEST_DATABASE_URL="
                "postgresql+psycopg://... for PostgreSQL)")
    return f"database: {backend()} at {SERVER.server.render_as_string()} (a database per test, from a migrated template)"


def pytest_sessionstart(session) -> None:
    """Reach the server and migrate the template before the first test, or stop with one clear message."""
    if SERVER is None:
        return
    try:
        SERVER.start()
    except Exception as exc:  # noqa: BLE001 - one message instead of hundreds of failing tests
        raise pytest.UsageError(f"MEDIASERVER_TEST_DATABASE_URL={SERVER_URL}: cannot prepare the test databases: "
                                f"{type(exc).__name__}: {exc}") from exc


def pytest_terminal_summary(terminalreporter) -> None:
    if SERVER is not None:
        terminalreporter.write_line(f"database: {backend()}, {SERVER.created} test databases made and dropped")
    elif SQLITE.copies:
        terminalreporter.write_line(f"database: SQLite, one migrated template copied {SQLITE.copies} time(s)")


@pytest.fixture(scope="session", autouse=True)
def _server_databases():
    """Drops the session's databases and the template at the end (session fixtures' included)."""
    yield
    close()
    if SERVER is not None and SERVER.errors:
        raise RuntimeError("test databases left behind: " + "; ".join(SERVER.errors))


@pytest.fixture(autouse=True)
def _test_databases():
    """A test's databases are dropped after it; session and module fixtures' are not (their set-up ran first)."""
    with per_test():
        yield

"""Admin settings stored in the database (edited on /admin/settings); the environment gives each
one's default, so nothing needs a file edit and a fresh install works from its variables alone."""
from __future__ import annotations

import json
import os

from flask import current_app
from sqlalchemy.orm import Session

from .models import Setting
from .scanner.tmdb import TMDBClient

AUTO_TRANSCODE = "auto_transcode"
LIBRARY_ROOTS = "library_roots"
TMDB_API_KEY = "tmdb_api_key"


def _get(session: Session, key: str, default):
    row = session.get(Setting, key)
    return default if row is None else json.loads(row.value)


def _put(session: Session, key: str, value) -> None:
    row = session.get(Setting, key) or Setting(key=key)
    row.value = json.dumps(value)
    session.add(row)
    session.commit()


def auto_transcode(session: Session) -> bool:
    """Whether a scan enqueues a ladder job for each new or changed file (default: MEDIASERVER_AUTO_TRANSCODE)."""
    return bool(_get(session, AUTO_TRANSCODE, current_app.config["AUTO_TRANSCODE_DEFAULT"]))


def set_auto_transcode(session: Session, enabled: bool) -> None:
    """Store the admin's choice (overrides MEDIASERVER_AUTO_TRANSCODE)."""
    _put(session, AUTO_TRANSCODE, bool(enabled))


def library_roots(session: Session) -> list[str]:
    """The library folders (absolute): the admin's list, else MEDIASERVER_LIBRARY."""
    return list(_get(session, LIBRARY_ROOTS, current_app.config["LIBRARY_ROOTS"]))


def set_library_roots(session: Session, folders: list[str]) -> list[str]:
    """Store library folders; raises ValueError naming a folder that does not exist."""
    roots = []
    for folder in (f.strip() for f in folders):
        if not folder:
            continue
        if not os.path.isdir(folder):
            raise ValueError(f"{folder} is not a folder on this server")
        roots.append(os.path.realpath(folder))
    _put(session, LIBRARY_ROOTS, roots)
    return roots


def tmdb_api_key(session: Session) -> str | None:
    """The TMDB key: the admin's, else TMDB_API_KEY; None turns enrichment off."""
    return _get(session, TMDB_API_KEY, current_app.config["TMDB_API_KEY"]) or None


def set_tmdb_api_key(session: Session, key: str | None) -> None:
    """Store a TMDB key (a v3 key or a v4 read token); raises ValueError when it is neither."""
    key = (key or "").strip() or None
    if key:
        TMDBClient(key, base_url=current_app.config["TMDB_API_BASE"]).close()  # validates its shape
    _put(session, TMDB_API_KEY, key)


def tmdb_client(session: Session) -> TMDBClient | None:
    """A client for the configured key (responses cached in `<DATA_DIR>/tmdb-cache`), or None."""
    key = tmdb_api_key(session)
    if not key:
        return None
    return TMDBClient(key, base_url=current_app.config["TMDB_API_BASE"],
                      cache_dir=os.path.join(current_app.config["DATA_DIR"], "tmdb-cache"),
                      timeout_s=current_app.config["TMDB_TIMEOUT_S"],
                      max_retries=current_app.config["TMDB_MAX_RETRIES"])

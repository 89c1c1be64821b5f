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


def _delete(session: Session, key: str) -> None:
    row = session.get(Setting, key)
    if row is not None:
        session.delete(row)
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


def check_library_roots(folders: list[str]) -> list[str]:
    """Absolute, existing folders from a list of lines (blank lines ignored). Raises ValueError
    naming a folder that does not exist."""
    roots = []
    for folder in (f.strip() for f in folders):
        if not folder:
            continue
        if not os.path.isdir(folder):
            raise ValueError(f"{folder} is not a folder on this server")
        roots.append(os.path.realpath(folder))
    return roots


def set_library_roots(session: Session, roots: list[str]) -> None:
    """Store checked library folders; an empty list removes the setting (MEDIASERVER_LIBRARY applies)."""
    if roots:
        _put(session, LIBRARY_ROOTS, roots)
    else:
        _delete(session, LIBRARY_ROOTS)


def tmdb_api_key(session: Session) -> str | None:
    """The TMDB key: the admin's, else TMDB_API_KEY; None turns enrichment off."""
    return _get(session, TMDB_API_KEY, current_app.config["TMDB_API_KEY"]) or None


def check_tmdb_api_key(key: str | None) -> str | None:
    """The stripped key, or None when empty. Raises ValueError when it is neither a v3 API key nor
    a v4 read access token (TMDBClient checks the shape)."""
    key = (key or "").strip() or None
    if key:
        TMDBClient(key, base_url=current_app.config["TMDB_API_BASE"]).close()
    return key


def set_tmdb_api_key(session: Session, key: str | None) -> None:
    """Store a checked TMDB key; None stores "no key" (enrichment off even if TMDB_API_KEY is set)."""
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

"""The admin's preferences, stored in the database and edited on /admin/settings: library folders,
the TMDB key, whether a scan queues transcodes. The environment gives each one's default
(`LibrarySettings`, from `config.py`), so nothing needs a file edit and a fresh install works from
its variables alone. Not to be confused with `config.py`, which reads the environment once at start.
"""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy.orm import Session

from ..config import LibrarySettings
from ..models import Setting
from ..paths import check_library_root

if TYPE_CHECKING:
    from ..scanner.tmdb import TMDBClient

AUTO_TRANSCODE = "auto_transcode"
LIBRARY_ROOTS = "library_roots"
TMDB_API_KEY = "tmdb_api_key"


def settings() -> LibrarySettings:
    """The current app's LibrarySettings (read from its config now, so a test's change is seen)."""
    return LibrarySettings.from_config(current_app.config)


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


def auto_transcode(session: Session, defaults: LibrarySettings) -> bool:
    """Whether a scan enqueues a ladder job for each new or changed file (default: MEDIASERVER_AUTO_TRANSCODE);
    direct-play audio files are left out either way (`jobs.worth_pre_transcoding`)."""
    return bool(_get(session, AUTO_TRANSCODE, defaults.auto_transcode))


def set_auto_transcode(session: Session, enabled: bool) -> None:
    """Store the admin's choice (overrides MEDIASERVER_AUTO_TRANSCODE)."""
    _put(session, AUTO_TRANSCODE, bool(enabled))


def library_roots(session: Session, defaults: LibrarySettings) -> list[str]:
    """The library folders (absolute): the admin's list, else MEDIASERVER_LIBRARY."""
    return list(_get(session, LIBRARY_ROOTS, list(defaults.roots)))


def check_library_roots(folders: list[str]) -> list[str]:
    """Existing folders from a list of lines (blank lines ignored), as real paths. Raises ValueError
    naming a folder that does not exist, or one that cannot be a library folder
    (`paths.check_library_root`: a relative path, `/`, `/etc`...)."""
    roots = []
    for folder in (f.strip() for f in folders):
        if not folder:
            continue
        real = check_library_root(folder)
        if not os.path.isdir(folder):
            raise ValueError(f"{folder} is not a folder on this server")
        roots.append(real)
    return roots


def set_library_roots(session: Session, roots: list[str]) -> None:
    """Store checked library folders; an empty list removes the setting (MEDIASERVER_LIBRARY applies)."""
    if roots:
        _put(session, LIBRARY_ROOTS, roots)
    else:
        _delete(session, LIBRARY_ROOTS)


def tmdb_api_key(session: Session, defaults: LibrarySettings) -> str | None:
    """The TMDB key: the admin's, else TMDB_API_KEY; None turns enrichment off."""
    return _get(session, TMDB_API_KEY, defaults.tmdb_api_key) or None


def check_tmdb_api_key(key: str | None, defaults: LibrarySettings) -> str | None:
    """The stripped key, or None when empty. Raises ValueError when it is neither a v3 API key nor
    a v4 read access token (TMDBClient checks the shape)."""
    from ..scanner.tmdb import TMDBClient  # with requests: loaded only when TMDB is used

    key = (key or "").strip() or None
    if key:
        TMDBClient(key, base_url=defaults.tmdb_api_base).close()
    return key


def set_tmdb_api_key(session: Session, key: str | None) -> None:
    """Store a checked TMDB key; None stores "no key" (enrichment off even if TMDB_API_KEY is set)."""
    _put(session, TMDB_API_KEY, key)


def tmdb_client(session: Session, defaults: LibrarySettings) -> TMDBClient | None:
    """A client for the configured key (answers cached in `<DATA_DIR>/tmdb-cache`, images kept in
    `<DATA_DIR>/images`), or None when there is no key."""
    key = tmdb_api_key(session, defaults)
    if not key:
        return None
    from ..scanner.tmdb import TMDBClient  # with requests: loaded only when TMDB is used

    return TMDBClient(key, base_url=defaults.tmdb_api_base, cache_dir=defaults.tmdb_cache_dir,
                      timeout_s=defaults.tmdb_timeout_s, max_retries=defaults.tmdb_max_retries,
                      image_dir=defaults.images_dir)

"""Admin settings stored in the database; the environment gives each one's default."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from .models import Setting

AUTO_TRANSCODE = "auto_transcode"


def auto_transcode(session: Session) -> bool:
    """Whether a scan enqueues a ladder job for each new or changed file (default: MEDIASERVER_AUTO_TRANSCODE)."""
    row = session.get(Setting, AUTO_TRANSCODE)
    if row is None:
        return bool(current_app.config["AUTO_TRANSCODE_DEFAULT"])
    return row.value == "true"


def set_auto_transcode(session: Session, enabled: bool) -> None:
    """Store the admin's choice (overrides MEDIASERVER_AUTO_TRANSCODE)."""
    row = session.get(Setting, AUTO_TRANSCODE) or Setting(key=AUTO_TRANSCODE)
    row.value = "true" if enabled else "false"
    session.add(row)
    session.commit()

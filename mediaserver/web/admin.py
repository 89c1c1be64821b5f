"""Admin: settings stored in the database (library folders, TMDB key, scan policy) and library scans
started from the browser with live progress."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from .. import settings
from ..db import get_db
from ..library_scan import enqueue_scan, forget_roots
from ..models import ScanRun
from .auth import admin_required
from .errors import error_response

bp = Blueprint("admin", __name__)


@bp.route("/admin/settings", methods=("GET", "POST"))
@admin_required
def settings_page():
    """GET: the settings form; POST: save it (admins only, 403 otherwise). Bad values are flashed."""
    db = get_db()
    if request.method == "POST":
        form = request.form
        try:  # every field is checked before anything is stored: a bad value saves nothing
            roots = settings.check_library_roots(form["library_roots"].splitlines()) \
                if "library_roots" in form else None
            key = None if form.get("clear_tmdb_key") else settings.check_tmdb_api_key(form.get("tmdb_api_key"))
        except ValueError as exc:
            flash(f"Not saved: {exc}.")
            return redirect(url_for("admin.settings_page"))
        removed = 0
        if roots is not None:
            before = settings.library_roots(db)
            settings.set_library_roots(db, roots)
            removed = forget_roots(db, [r for r in before if r not in settings.library_roots(db)])
        if form.get("clear_tmdb_key"):
            settings.set_tmdb_api_key(db, None)
        elif key:
            settings.set_tmdb_api_key(db, key)
        if "settings_form" in form:  # an unchecked box sends nothing: only the full form turns it off
            settings.set_auto_transcode(db, form.get("auto_transcode") == "on")
        flash("Settings saved." if roots != [] else
              "Settings saved. No library folder is set: MEDIASERVER_LIBRARY applies again.")
        if removed:
            flash(f"{removed} file(s) of the removed folder(s) left the catalog (the files themselves are untouched).")
        return redirect(url_for("admin.settings_page"))
    latest = db.scalar(select(ScanRun).order_by(ScanRun.id.desc()).limit(1))
    return render_template("settings.html", auto_transcode=settings.auto_transcode(db),
                           library_roots=settings.library_roots(db),
                           tmdb_key_set=settings.tmdb_api_key(db) is not None,
                           latest_scan=latest.to_json() if latest else None)


@bp.post("/api/admin/scans")
@admin_required
def api_start_scan():
    """Queue a scan of the whole library: 202 `{"scan_id", "status"}` (an active scan is reused);
    503 when the job queue is unreachable (errors.py's RedisError handler; no scan row is kept)."""
    run = enqueue_scan(get_db(), g.user.id)
    return {"scan_id": run.id, "status": run.status}, 202


@bp.get("/api/admin/scans/<int:scan_id>")
@admin_required
def api_scan(scan_id: int):
    """A scan's progress: `{"id", "status", "done", "total", "summary", "messages", "error"}`."""
    run = get_db().get(ScanRun, scan_id)
    if run is None:
        return error_response(404, f"scan {scan_id} doesn't exist")
    return run.to_json()


def init_app(app: Flask) -> None:
    """Register the admin blueprint."""
    app.register_blueprint(bp)

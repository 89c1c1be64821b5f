"""Admin: settings stored in the database (library folders, TMDB key, scan policy) and library scans
started from the browser with live progress."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from ..db import get_db
from ..library import prefs
from ..library.scan import forget_roots
from ..library.scan_runs import enqueue_scan
from ..models import ScanRun
from .auth import admin_required
from .errors import error_response

bp = Blueprint("admin", __name__)


@bp.route("/admin/settings", methods=("GET", "POST"))
@admin_required
def settings_page():
    """GET: the settings form; POST: save it (admins only, 403 otherwise). Bad values are flashed."""
    db, defaults = get_db(), prefs.settings()
    if request.method == "POST":
        form = request.form
        try:  # every field is checked before anything is stored: a bad value saves nothing
            roots = prefs.check_library_roots(form["library_roots"].splitlines()) \
                if "library_roots" in form else None
            key = None if form.get("clear_tmdb_key") else prefs.check_tmdb_api_key(form.get("tmdb_api_key"), defaults)
        except ValueError as exc:
            flash(f"Not saved: {exc}.")
            return redirect(url_for("admin.settings_page"))
        removed = 0
        if roots is not None:
            before = prefs.library_roots(db, defaults)
            prefs.set_library_roots(db, roots)
            removed = forget_roots(db, [r for r in before if r not in prefs.library_roots(db, defaults)])
        if form.get("clear_tmdb_key"):
            prefs.set_tmdb_api_key(db, None)
        elif key:
            prefs.set_tmdb_api_key(db, key)
        if "settings_form" in form:  # an unchecked box sends nothing: only the full form turns it off
            prefs.set_auto_transcode(db, form.get("auto_transcode") == "on")
        flash("Settings saved." if roots != [] else
              "Settings saved. No library folder is set: MEDIASERVER_LIBRARY applies again.")
        if removed:
            flash(f"{removed} file(s) of the removed folder(s) left the catalog (the files themselves are untouched).")
        return redirect(url_for("admin.settings_page"))
    latest = db.scalar(select(ScanRun).order_by(ScanRun.id.desc()).limit(1))
    return render_template("settings.html", auto_transcode=prefs.auto_transcode(db, defaults),
                           library_roots=prefs.library_roots(db, defaults),
                           tmdb_key_set=prefs.tmdb_api_key(db, defaults) is not None,
                           latest_scan=latest.to_json() if latest else None)


@bp.post("/api/admin/scans")
@admin_required
def api_start_scan():
    """Queue a scan of the whole library: 202 `{"scan_id", "status"}` (an active scan is reused);
    503 when the job queue is unreachable (errors.py's RedisError handler; no scan row is kept)."""
    run = enqueue_scan(get_db(), current_app.scan_queue, g.user.id)
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

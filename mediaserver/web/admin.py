"""Admin settings page: whether a scan enqueues new files for transcoding."""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from .. import settings
from ..db import get_db
from .auth import admin_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/settings", methods=("GET", "POST"))
@admin_required
def settings_page():
    """GET: the settings form; POST: save it (admins only, 403 otherwise)."""
    db = get_db()
    if request.method == "POST":
        settings.set_auto_transcode(db, request.form.get("auto_transcode") == "on")
        flash("Settings saved.")
        return redirect(url_for("admin.settings_page"))
    return render_template("settings.html", auto_transcode=settings.auto_transcode(db))


def init_app(app: Flask) -> None:
    """Register the admin blueprint."""
    app.register_blueprint(bp)

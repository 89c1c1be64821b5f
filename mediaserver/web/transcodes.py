"""The transcode queue: an admin view (queued, running with progress, failed with reason; retry and
cancel) and live progress for browsers as Server-Sent Events (`text/event-stream`, one `data:` JSON
message a second: W3C/WHATWG HTML "Server-sent events")."""
from __future__ import annotations

import json
import time

from flask import Blueprint, Flask, Response, current_app, g, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..db import MAX_ID, get_db, new_session
from ..models import TranscodeJob
from ..transcode import jobs
from .auth import admin_required, login_required
from .errors import error_response
from .pagination import int_arg

bp = Blueprint("transcodes", __name__)

#: How often (s) the event stream sends, and for how long (s) one stream lasts before the browser's
#: EventSource reconnects by itself (which keeps a dead client from holding a worker for ever).
EVENT_INTERVAL_S = 1.0
EVENT_STREAM_MAX_S = 300


def job_json(job: TranscodeJob) -> dict:
    """A job as the API shows it: status, progress in percent, attempts, error, times (ISO 8601 UTC)."""
    def iso(moment):
        return moment.isoformat() if moment else None

    return {"id": job.id, "media_file_id": job.media_file_id, "path": job.media_file.path, "status": job.status,
            "progress": job.progress, "attempts": job.attempts, "error": job.error,
            "playable": bool(job.output_dir), "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at)}


def _jobs(session, media_file_id: int | None, limit: int) -> list[TranscodeJob]:
    query = select(TranscodeJob).options(selectinload(TranscodeJob.media_file)).order_by(TranscodeJob.id.desc())
    if media_file_id is not None:
        query = query.where(TranscodeJob.media_file_id == media_file_id)
    return list(session.scalars(query.limit(limit)))


@bp.get("/admin/transcodes")
@admin_required
def queue_page():
    """The admin's queue view (filled and kept live by static/js/transcodes.js)."""
    return render_template("transcodes.html")


@bp.get("/api/admin/transcodes")
@admin_required
def api_list():
    """`GET /api/admin/transcodes?limit=N` -> `{"items": [job, ...]}`, newest first (limit 1-500, default 100)."""
    return {"items": [job_json(j) for j in _jobs(get_db(), None, int_arg("limit", 100, 1, 500))]}


@bp.post("/api/admin/transcodes/<int:job_id>/cancel")
@admin_required
def api_cancel(job_id: int):
    """Cancel a queued or running job -> the job; 404 unknown, 409 when it already ended, 503 Redis down
    (errors.py's RedisError handler; the row is then left as it was)."""
    job = get_db().get(TranscodeJob, job_id)
    if job is None:
        return error_response(404, f"transcode job {job_id} doesn't exist")
    try:
        jobs.cancel(get_db(), job)
    except ValueError as exc:
        return error_response(409, str(exc))
    return job_json(job)


@bp.post("/api/admin/transcodes/<int:job_id>/retry")
@admin_required
def api_retry(job_id: int):
    """Queue a failed or cancelled job's file again -> the new job (201); 409 while it is active, 503
    Redis down (no new row is kept)."""
    job = get_db().get(TranscodeJob, job_id)
    if job is None:
        return error_response(404, f"transcode job {job_id} doesn't exist")
    try:
        new = jobs.retry(get_db(), job)
    except ValueError as exc:
        return error_response(409, str(exc))
    return job_json(new), 201


@bp.get("/api/transcodes/events")
@login_required
def events():
    """`GET /api/transcodes/events[?media_file_id=N]`: an event stream of `{"jobs": [job, ...]}` once a
    second. Without `media_file_id` (the whole queue) it is for admins only (403)."""
    media_file_id = int_arg("media_file_id", None, 1, MAX_ID)  # 400 when not an id (it overflowed SQL: a 500)
    if media_file_id is None and not g.user.is_admin:
        return error_response(403, "the whole queue is for admins; give media_file_id")
    limit = 1 if media_file_id is not None else 100

    app = current_app._get_current_object()

    def stream():  # runs after the view returned: its own app context and session per message
        began = time.monotonic()
        while time.monotonic() - began < EVENT_STREAM_MAX_S:
            with app.app_context(), new_session() as session:
                payload = {"jobs": [job_json(j) for j in _jobs(session, media_file_id, limit)]}
            yield f"data: {json.dumps(payload)}\n\n"
            time.sleep(EVENT_INTERVAL_S)

    return Response(stream(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache",
                                                                      "X-Accel-Buffering": "no"})


def init_app(app: Flask) -> None:
    """Register the transcode queue blueprint."""
    app.register_blueprint(bp)

"""Operations: `GET /metrics` (Prometheus), `GET /healthz` (is this process able to serve), the players'
`POST /api/playback-errors`, and the HTTP latency of every request (`mediaserver/metrics.py` has the metrics).

`/metrics` and `/healthz` need no login: neither shows a secret (counts, timings, route templates; a
failing check's error message), and a monitor or a load balancer must reach them. `/metrics` does show
how the server is used, so a public deployment lets only the scraper reach it (deploy/'s nginx).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time

from flask import Blueprint, Flask, current_app, g, jsonify, request
from prometheus_client.core import GaugeMetricFamily
from redis import Redis
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from .. import metrics
from ..db import database
from ..models import TranscodeJob
from ..party import store
from ..party.access import PartyError
from ..party.model import BUFFERING, LOADING, OFFLINE, READY
from .errors import error_response, party_status
from .parties import party_member

log = logging.getLogger("mediaserver.web")
metrics_log = logging.getLogger("mediaserver.metrics")
bp = Blueprint("ops", __name__)

#: Redis and the ffmpeg programs each get this long (s) to answer a health check.
HEALTH_TIMEOUT_S = 2
#: The ffmpeg check (two process starts) is reused for this long (s): a health check polled every
#: second must not start two processes a second.
FFMPEG_CHECK_CACHE_S = 10
#: A player's error message is kept (in the log) up to this many characters.
MESSAGE_MAX_CHARS = 500
MEMBER_STATUSES = (LOADING, READY, BUFFERING, OFFLINE)
QUEUE_STATUSES = ("queued", "running")


@bp.get("/metrics")
def scrape():
    """Prometheus exposition (text format, or OpenMetrics when the scraper's Accept asks for it)."""
    body, content_type = metrics.exposition(current_app.extensions["metrics_state"], request.headers.get("Accept"))
    return current_app.response_class(body, content_type=content_type, headers={"Cache-Control": "no-store"})


@bp.get("/healthz")
def healthz():
    """`{"status": "ok"|"fail", "checks": {"database"|"redis"|"ffmpeg"|"data_dir": {"ok", "ms"[, "error"]}}}`:
    200 when every check passes, 503 otherwise."""
    checks = {"database": _timed(_check_database), "redis": _timed(_check_redis),
              "ffmpeg": _ffmpeg_check(), "data_dir": _timed(_check_data_dir)}
    ok = all(check["ok"] for check in checks.values())
    response = jsonify(status="ok" if ok else "fail", checks=checks)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - whatever fails is the answer
        result = {"ok": False, "error": _message(exc)}
    else:
        result = {"ok": True}
    return {**result, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _message(exc: Exception) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:  # the driver's words, not the SQL around them
        exc = exc.orig
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _check_database() -> None:
    with database().engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def _check_redis() -> None:
    current_app.extensions["probe_redis"].ping()


def _check_data_dir() -> None:
    folder = current_app.config["DATA_DIR"]
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-") as fh:  # deleted on close
            fh.write(b"ok")
            fh.flush()
    except OSError as exc:
        raise OSError(f"cannot write to the data dir {folder}: {exc.strerror or exc}") from None


def _ffmpeg_check() -> dict:
    """The ffmpeg and ffprobe programs run `-version` (cached for FFMPEG_CHECK_CACHE_S)."""
    cached = current_app.extensions.get("healthz_ffmpeg")
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    result = _timed(lambda: [_run_version(name, current_app.config[key])
                             for name, key in (("MEDIASERVER_FFMPEG", "FFMPEG"), ("MEDIASERVER_FFPROBE", "FFPROBE"))])
    current_app.extensions["healthz_ffmpeg"] = (time.monotonic() + FFMPEG_CHECK_CACHE_S, result)
    return result


def _run_version(variable: str, program: str) -> None:
    path = shutil.which(program)
    if path is None:
        raise RuntimeError(f"{variable}: {program!r} is not an executable (a name on PATH or a path)")
    try:
        proc = subprocess.run([path, "-version"], capture_output=True, timeout=HEALTH_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{variable}: {program} -version did not answer within {HEALTH_TIMEOUT_S} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"{variable}: {program} -version exited with status {proc.returncode}")


@bp.post("/api/playback-errors")
def playback_error():
    """A player's fatal error: `{"media_file_id", "kind", "message"[, "party"]}` -> 204. Counted by `kind`
    (network, media, decode or other: a fixed set, so the metric's series stay few) and logged with the
    rest. A logged-in user, or a party's guest (`party`: the invite code, with the guest's token as for
    the party's other routes: `Authorization: Bearer` or its cookie)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return error_response(400, 'send a JSON object such as {"media_file_id": 1, "kind": "network", "message": ""}')
    kind, media_file_id, message = body.get("kind"), body.get("media_file_id"), body.get("message")
    if kind not in metrics.PLAYBACK_ERROR_KINDS:
        return error_response(400, f"kind must be one of {', '.join(metrics.PLAYBACK_ERROR_KINDS)}")
    if media_file_id is not None and (not isinstance(media_file_id, int) or isinstance(media_file_id, bool)):
        return error_response(400, "media_file_id must be an integer")
    if message is not None and not isinstance(message, str):
        return error_response(400, "message must be a string")
    party = body.get("party")
    if party is not None:
        if not isinstance(party, str):
            return error_response(400, "party must be an invite code")
        try:
            _row, member = party_member(party)
        except PartyError as exc:
            return error_response(party_status(exc), str(exc))
        reporter = f"u{member.user_id}" if member.user_id is not None else f"g{member.id}"
    elif g.get("user") is not None:
        reporter = f"u{g.user.id}"
    else:
        return error_response(401, "log in first, or send the party's code with a guest token")
    metrics.PLAYBACK_ERRORS.labels(kind).inc()
    log.info("player error: %s", kind, extra={"event": "playback_error", "kind": kind, "media_id": media_file_id,
                                               "member": reporter, "party": party,
                                               "detail": (message or "")[:MESSAGE_MAX_CHARS]})
    return "", 204


class StateCollector:
    """Gauges of shared state, read when scraped: the transcode queue (database) and running parties
    (Redis `mediaserver:parties:active` and each party's state). A source that cannot be read is left
    out of the scrape, and `mediaserver_metrics_source_up{source}` says 0."""

    def __init__(self, database, redis) -> None:
        self.database, self.redis = database, redis

    def collect(self):
        up = GaugeMetricFamily("mediaserver_metrics_source_up",
                               "Whether this scrape could read the source (1) or not (0).", labels=["source"])
        try:
            depth = self._queue_depth()
        except Exception as exc:  # noqa: BLE001 - a scrape reports what it can
            metrics_log.warning("metrics: cannot read the transcode queue from the database: %s", exc)
            up.add_metric(["database"], 0)
        else:
            up.add_metric(["database"], 1)
            yield depth
        try:
            families = self._parties()
        except Exception as exc:  # noqa: BLE001
            metrics_log.warning("metrics: cannot read the parties from Redis: %s", exc)
            up.add_metric(["redis"], 0)
        else:
            up.add_metric(["redis"], 1)
            yield from families
        yield up

    def _queue_depth(self) -> GaugeMetricFamily:
        with self.database.sessions() as session:
            counts = dict(session.execute(select(TranscodeJob.status, func.count()).where(
                TranscodeJob.status.in_(QUEUE_STATUSES)).group_by(TranscodeJob.status)).all())
        gauge = GaugeMetricFamily("mediaserver_transcode_queue_depth",
                                  "Transcode jobs waiting for a worker (queued) or at work (running).",
                                  labels=["status"])
        for status in QUEUE_STATUSES:
            gauge.add_metric([status], counts.get(status, 0))
        return gauge

    def _parties(self) -> list[GaugeMetricFamily]:
        running, members = 0, dict.fromkeys(MEMBER_STATUSES, 0)
        for party in store.states(self.redis, store.active_ids(self.redis)):
            if party is None or party.ended_ms is not None:  # expired (the timers drop it from the set), ended
                continue
            running += 1
            for member in party.members.values():
                members[member.status] = members.get(member.status, 0) + 1
        parties = GaugeMetricFamily("mediaserver_parties_active", "Watch parties running.", value=running)
        gauge = GaugeMetricFamily("mediaserver_party_members", "Members of running watch parties, by status.",
                                  labels=["status"])
        for status, count in members.items():
            gauge.add_metric([status], count)
        return [parties, gauge]


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        metrics.observe_request(route, request.method, response.status_code, time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Register the blueprint and the request timer (call it first: its timer then starts before any
    other `before_request` hook, and its `after_request` sees the final response)."""
    app.extensions["probe_redis"] = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=HEALTH_TIMEOUT_S,
                                                   socket_timeout=HEALTH_TIMEOUT_S)
    app.extensions["metrics_state"] = StateCollector(database(app), app.extensions["probe_redis"])
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.register_blueprint(bp)

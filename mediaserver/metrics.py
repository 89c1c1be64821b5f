"""Prometheus metrics (prometheus_client): the metric objects the scan, transcode, party and web code
update, and the text `GET /metrics` serves (`web/ops.py`).

Names follow Prometheus' conventions: a `mediaserver_` prefix, the unit in the name (`_seconds`),
counters ending in `_total`; label values come from small fixed sets (a route's template, never its path).

Metrics (the README's "Monitoring" has the table with labels):
- scans (`library/scan.py`, `library/files.py`): `mediaserver_scan_files_total{outcome}`,
  `mediaserver_scan_duration_seconds`, `mediaserver_ffprobe_failures_total`;
- transcodes (`transcode/execute.py`, `recovery.py`): `mediaserver_transcode_job_duration_seconds{outcome}`,
  `mediaserver_transcode_failures_total{reason}`, and `mediaserver_transcode_queue_depth{status}` read from
  the database at scrape time;
- parties: `mediaserver_parties_active` and `mediaserver_party_members{status}` read from Redis at scrape
  time, `mediaserver_party_drift_seconds` from the players' `report` events (`web/party_socket.py`);
- players: `mediaserver_playback_errors_total{kind}` (`POST /api/playback-errors`);
- HTTP: `mediaserver_http_request_duration_seconds{route,method,status}` (`web/ops.py`);
- `mediaserver_metrics_source_up{source}`: whether the scrape could read the database and Redis.

Several processes run the app: web processes (gunicorn workers), RQ workers and their forked work
horses (scans and transcodes run there). With `PROMETHEUS_MULTIPROC_DIR` in every process's environment
from its start (one folder they share, emptied before the service starts: deploy/ does both),
prometheus_client's multiprocess mode keeps each process's values in files there and `/metrics` sums
them. Without it each process keeps its own values in memory and `/metrics` shows those of the web
process that answers (scans and transcodes run by a worker are then not seen). The gauges read at scrape
time (`web/ops.py`'s `StateCollector`) need neither: they come from the database and Redis, which every process shares;
no metric here is a gauge kept in process memory, so a dead process needs no `mark_process_dead`.
Every process, each forked work horse too, leaves its own small files there, all summed at each scrape:
hence emptying the folder when the service (re)starts.

The metric objects are made once per process and registered in no registry (several apps in one test
process never register anything twice); `exposition` gathers them, or the multiprocess files, per scrape.
"""
from __future__ import annotations

import os
import time

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from .exceptions import ConfigError

#: prometheus_client picks its value store when it is imported: the same test, once, here.
MULTIPROC_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
if MULTIPROC_DIR and not os.path.isdir(MULTIPROC_DIR):
    raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR names {MULTIPROC_DIR!r}, which is not a folder: "
                      "create it (empty) before starting")

SCAN_OUTCOMES = ("added", "updated", "unchanged", "removed", "failed")
TRANSCODE_OUTCOMES = ("succeeded", "failed", "cancelled", "superseded", "error")
FAILURE_REASONS = ("permanent", "transient", "worker_died")
PLAYBACK_ERROR_KINDS = ("network", "media", "decode", "other")
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

#: Scans: a rescan of an unchanged library takes 0.06-0.5 s (README: 2,000 to 10,000 files), a first scan
#: of 2,000 files about a minute, and a scan job may run up to 6 h (`scan_runs.SCAN_TIMEOUT_S`).
SCAN_BUCKETS_S = (0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600)
#: Ladder attempts: the encode runs at 1-6x real time (README), so a clip takes seconds and a 2 h film
#: 20 min to 2 h; the RQ timeout is 10 s per second of media, so anything past 4 h lands in +Inf.
TRANSCODE_BUCKETS_S = (5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400)
#: Party drift, on static/js/party-sync.js's thresholds: 15 ms settled, 30 ms dead zone, playbackRate
#: correction up to 2 s, a seek beyond, 10 s the most it corrects; and steps between.
DRIFT_BUCKETS_S = (0.015, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10)
#: HTTP: prometheus_client's defaults, made for request latency (5 ms to 10 s). The time is the view's:
#: until Flask has the response object, so a streamed body (a file, a segment, SSE) is not included.
HTTP_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

SCAN_FILES = Counter("mediaserver_scan_files_total", "Files seen by library scans, by outcome.",
                     ["outcome"], registry=None)
SCAN_DURATION = Histogram("mediaserver_scan_duration_seconds",
                          "Library scans from start to end (walk, probe, catalog, queue), in s.",
                          buckets=SCAN_BUCKETS_S, registry=None)
FFPROBE_FAILURES = Counter("mediaserver_ffprobe_failures_total",
                           "Files ffprobe could not read during scans (timeout, error, no audio or video).",
                           registry=None)
TRANSCODE_DURATION = Histogram("mediaserver_transcode_job_duration_seconds",
                               "Transcode attempts from claim to end in their work horse, by outcome, in s.",
                               ["outcome"], buckets=TRANSCODE_BUCKETS_S, registry=None)
TRANSCODE_FAILURES = Counter("mediaserver_transcode_failures_total",
                             "Failed transcode attempts by reason: permanent (undecodable input, never "
                             "retried), transient (may pass: retried while retries last), worker_died.",
                             ["reason"], registry=None)
PARTY_DRIFT = Histogram("mediaserver_party_drift_seconds",
                        "How far party players are from the room's timeline as they report it (absolute), in s.",
                        buckets=DRIFT_BUCKETS_S, registry=None)
PLAYBACK_ERRORS = Counter("mediaserver_playback_errors_total", "Playback errors players reported, by kind.",
                          ["kind"], registry=None)
HTTP_DURATION = Histogram("mediaserver_http_request_duration_seconds",
                          "HTTP requests by route template, method and status class, in s (until the "
                          "response object exists).", ["route", "method", "status"],
                          buckets=HTTP_BUCKETS_S, registry=None)
_OWN = (SCAN_FILES, SCAN_DURATION, FFPROBE_FAILURES, TRANSCODE_DURATION, TRANSCODE_FAILURES, PARTY_DRIFT,
        PLAYBACK_ERRORS, HTTP_DURATION)

# Every label value of the counters exists from the start (at 0): a rate over a series that appears
# only at its first event misses that event.
for _outcome in SCAN_OUTCOMES:
    SCAN_FILES.labels(_outcome)
for _reason in FAILURE_REASONS:
    TRANSCODE_FAILURES.labels(_reason)
for _kind in PLAYBACK_ERROR_KINDS:
    PLAYBACK_ERRORS.labels(_kind)


def scan_finished(summary, seconds: float, scan_id: int | None = None) -> dict:
    """Count a finished scan's files and its duration (s); returns its structured log fields."""
    counts = {outcome: getattr(summary, outcome) for outcome in SCAN_OUTCOMES}
    for outcome, count in counts.items():
        if count:
            SCAN_FILES.labels(outcome).inc(count)
    SCAN_DURATION.observe(seconds)
    return {"scan_id": scan_id, **counts, "moved": summary.moved, "duration_s": round(seconds, 3)}


def job_fields(job) -> dict:
    """A transcode job's structured log fields: job id, media id, attempt (1 for the first)."""
    return {"job_id": job.id, "media_id": job.media_file_id, "attempt": job.attempts}


def transcode_attempt(fields: dict, outcome: str, started: float) -> dict:
    """Observe an attempt's duration since `started` (time.monotonic()) under `outcome` (TRANSCODE_OUTCOMES);
    `failed` (undecodable input) also counts a permanent failure. `fields`: `job_fields` of its job, read
    when it started (a rolled-back session may not read its row again). Returns the log fields."""
    seconds = time.monotonic() - started
    TRANSCODE_DURATION.labels(outcome).observe(seconds)
    if outcome == "failed":
        TRANSCODE_FAILURES.labels("permanent").inc()
    return {**fields, "outcome": outcome, "duration_s": round(seconds, 3)}


def transcode_failure(job, reason: str, outcome: str) -> dict:
    """Count a failed attempt whose row the failure handling changed (`reason`: transient or worker_died;
    `outcome`: what became of the job, retrying or failed). Returns the structured log fields."""
    TRANSCODE_FAILURES.labels(reason).inc()
    return {**job_fields(job), "outcome": outcome, "reason": reason}


def party_drift(drift_ms: float) -> None:
    """Observe a player's reported drift (ms, either sign). A report of exactly 0 is what party-sync.js
    sends while it measures nothing (paused, seeking, loading): not an observation."""
    if drift_ms:
        PARTY_DRIFT.observe(abs(drift_ms) / 1000)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request's duration under its route template, method (unknown ones as OTHER) and status class."""
    HTTP_DURATION.labels(route, method if method in HTTP_METHODS else "OTHER", f"{status // 100}xx").observe(seconds)


class _Scrape:
    """What one scrape reads: a registry-like object over several collectors."""

    def __init__(self, *collectors) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition(state, accept: str | None = None) -> tuple[bytes, str]:
    """The scrape's body and content type (Prometheus text, or OpenMetrics when `accept` asks for it):
    the multiprocess files' sums (multiprocess mode), else this process's metrics and prometheus_client's
    process and platform collectors; then the gauges of `state` (a collector: `collect()` yields metric
    families, `web/ops.py`'s StateCollector)."""
    encoder, content_type = choose_encoder(accept or "")
    if MULTIPROC_DIR:
        sources = (MultiProcessCollector(None, path=MULTIPROC_DIR),)
    else:
        sources = (REGISTRY, *_OWN)
    return encoder(_Scrape(*sources, state)), content_type

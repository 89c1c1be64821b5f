"""Every RQ entry point: the functions workers run (queued by name, `rqjobs.task("...")`) and RQ's
callbacks. Each runs its use case inside an app context (`with_app`), with a session of its own.

This is the one module besides the entry points (worker.py, serve.py, deploy/wsgi.py) that builds an
app: under `python worker.py` the app is built once and its context pushed before any job runs;
under plain `rq worker` each job builds one from the environment.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from flask import has_app_context
from rq.exceptions import AbandonedJobError

from . import create_app
from .db import database, new_session
from .library import scan_runs
from .transcode import execute, recovery

T = TypeVar("T")


def with_app(fn: Callable[..., T], *args) -> T:
    """Run `fn(*args)` inside an app context, building the app from the environment when there is
    none (plain `rq worker`); `python worker.py` has already pushed one."""
    if has_app_context():
        return fn(*args)
    with create_app(web=False).app_context():
        return fn(*args)


def run_transcode(job_id: int) -> str | None:
    """Run TranscodeJob `job_id` (`execute.run`): the published folder's name, or None when the row was
    cancelled or taken over meanwhile. Raises TranscodeError after recording it (undecodable input)."""
    def run() -> str | None:
        with new_session() as session:
            return execute.run(session, job_id, execute.settings(), database().sessions)

    return with_app(run)


def on_transcode_failure(rq_job, connection, exc_type, exc_value, tb) -> None:
    """RQ's failure callback of a ladder job: in the work horse for an exception (a timeout, ffmpeg
    killed by a signal, an I/O error), and from RQ's started registry cleanup (AbandonedJobError) for
    an RQ job whose worker stopped heartbeating. `recovery.mark_failed` re-queues or fails the row."""
    reason = str(exc_value) or {"AbandonedJobError": "the worker stopped before finishing this job"}.get(
        exc_type.__name__, exc_type.__name__)
    _mark_transcode_failed(rq_job, reason, issubclass(exc_type, AbandonedJobError))


def on_horse_killed(rq_job, retpid, ret_val, rusage) -> None:
    """`worker.py`'s `work_horse_killed_handler`: the work horse died without a word (the OOM killer,
    a SIGKILL aimed at it), which RQ reports to no failure callback before retrying or failing the
    same RQ job. Treated like `on_transcode_failure` (counted as worker_died)."""
    if ret_val is not None and os.WIFSIGNALED(ret_val):
        reason = f"the work horse was killed by signal {os.WTERMSIG(ret_val)}"
    else:
        reason = f"the work horse exited unexpectedly (wait status {ret_val})"
    _mark_transcode_failed(rq_job, reason, False, "worker_died")


def _mark_transcode_failed(rq_job, reason: str, abandoned: bool, cause: str = "transient") -> None:
    def mark() -> None:
        with new_session() as session:
            recovery.mark_failed(session, rq_job, reason, abandoned, execute.settings(), cause)

    with_app(mark)


def run_scan(run_id: int) -> str:
    """The admin's library scan `run_id` (`scan_runs.run`): progress into `scan_runs`, the summary line
    at the end (returned)."""
    def run() -> str:
        with new_session() as session:
            return scan_runs.run(session, run_id)

    return with_app(run)


def on_scan_failure(rq_job, connection, exc_type, exc_value, tb) -> None:
    """RQ's failure callback of a scan job: its row says failed, with the reason."""
    def mark() -> None:
        with new_session() as session:
            scan_runs.mark_failed(session, rq_job.args[0], str(exc_value) or exc_type.__name__)

    with_app(mark)

"""RQ jobs and the database rows that track them (microblog's task pattern), shared by transcode jobs
(`transcode_jobs`) and the admin's library scans (`scan_runs`).

A row is keyed by its RQ job's id and committed before the RQ job is queued (the worker must find
it); when queueing fails the row is deleted again, so no row claims a job that does not exist
(`launch`). Before queueing another, the caller asks whether the job behind an active row is still
alive in RQ (`alive`). RQ jobs name their function by path (`task`): the entry points live in
`mediaserver/tasks.py`, above every module that queues them, which therefore never imports it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy.orm import Session

#: RQ statuses of a job that may still run: waiting, at work, waiting for another, or for a retry.
LIVE_STATUSES = frozenset({JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED})
#: The module that holds every RQ entry point.
TASKS_MODULE = "mediaserver.tasks"

Row = TypeVar("Row")


def task(name: str) -> str:
    """The dotted path RQ imports to run `tasks.py`'s function `name` (`"mediaserver.tasks.run_scan"`)."""
    return f"{TASKS_MODULE}.{name}"


def alive(connection: Redis, rq_job_id: str | None) -> bool:
    """Whether RQ still has job `rq_job_id` waiting or running (LIVE_STATUSES); False when it is gone.
    Raises redis.exceptions.RedisError when Redis is down."""
    if not rq_job_id:
        return False
    try:
        status = Job.fetch(rq_job_id, connection=connection).get_status()
    except NoSuchJobError:
        return False
    return status in LIVE_STATUSES


def launch(session: Session, row: Row, enqueue: Callable[[], object]) -> Row:
    """Commit `row`, then call `enqueue()` (which puts its RQ job on a queue); when that raises, the row
    is deleted again (committed) and the exception goes on. Returns `row`. A commit that fails (say an
    IntegrityError: another request made the row first) raises before anything is queued."""
    session.add(row)
    session.commit()
    try:
        enqueue()
    except BaseException:
        session.delete(row)
        session.commit()
        raise
    return row

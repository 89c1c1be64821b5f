"""Run an RQ worker on the app's queue with the app preloaded.

    python worker.py                  # scans and transcodes, until stopped
    python worker.py --burst          # exit when the queues are empty
    python worker.py --queues scan    # only library scans (so a scan never waits behind a transcode)

Before working it recovers transcode jobs whose worker died mid-job (`jobs.recover_dead_jobs`: a
running job whose heartbeat is older than MEDIASERVER_LIVE_STALE_S is re-queued, or failed when out of
retries). Its work horses die with it (PR_SET_PDEATHSIG), so a worker killed outright (SIGKILL) leaves
no job running behind its back: RQ puts each work horse in a process group of its own, which a kill
aimed at the worker's group would miss.

`rq worker --url $REDIS_URL transcode` works as well (the job then builds the app itself), without
the start-up recovery and without tying the work horse's life to the worker's.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Worker

from mediaserver import create_app, tasks
from mediaserver.db import new_session
from mediaserver.exceptions import ConfigError
from mediaserver.lifetime import die_with_parent
from mediaserver.transcode import jobs

log = logging.getLogger("mediaserver.worker")


class LadderWorker(Worker):
    """RQ's forking worker whose work horse is SIGKILLed by the kernel when the worker dies (ffmpeg,
    the horse's child, has the same arrangement), and which reports a work horse that died without a
    word to the transcode job (`tasks.on_horse_killed`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("work_horse_killed_handler", tasks.on_horse_killed)
        super().__init__(*args, **kwargs)

    def fork_work_horse(self, job, queue):
        self._parent_pid = os.getpid()  # read by the child, before it runs anything
        super().fork_work_horse(job, queue)

    def main_work_horse(self, job, queue):  # pragma: no cover - runs in the forked work horse
        die_with_parent()
        if os.getppid() != self._parent_pid:  # the worker died before the line above
            os._exit(1)
        super().main_work_horse(job, queue)


def main(argv: list[str] | None = None) -> int:
    """Run the worker; exit status 2 on a configuration error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--queues", default="scan,transcode",
                        help="comma-separated, in priority order: scan, transcode (default: both, scans first)")
    args = parser.parse_args(argv)
    try:
        app = create_app(web=False)  # no blueprints or Socket.IO: jobs need the database and Redis only
    except ConfigError as exc:
        print(f"worker.py: configuration: {exc}", file=sys.stderr)
        return 2
    with app.app_context():
        try:
            by_name = {"scan": app.scan_queue, "transcode": app.task_queue}
            unknown = [q for q in args.queues.split(",") if q not in by_name]
            if unknown:
                print(f"worker.py: unknown queue(s) {unknown}; choose from scan, transcode", file=sys.stderr)
                return 2
            # Made first: RQ raises the read timeout of app.redis (REDIS_TIMEOUT_S, 2 s) above its BLPOP
            # wait for the connections made after this; one made before (by the recovery) would end
            # an idle BLPOP with a TimeoutError.
            worker = LadderWorker([by_name[q] for q in args.queues.split(",")], connection=app.redis)
            with new_session() as session:
                recovered = [f"{j.id} ({j.status})" for j in jobs.recover_dead_jobs(session)]
            if recovered:
                log.warning("recovered transcode job(s) whose worker died mid-job: %s", ", ".join(recovered))
            worker.work(burst=args.burst, with_scheduler=True)  # runs retries scheduled with a backoff
        except RedisConnectionError as exc:
            print(f"worker.py: cannot reach Redis at {app.config['REDIS_URL']}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

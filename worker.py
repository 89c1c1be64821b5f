"""Run an RQ worker on the app's queue with the app preloaded.

    python worker.py                  # scans and transcodes, until stopped
    python worker.py --burst          # exit when the queues are empty
    python worker.py --queues scan    # only library scans (so a scan never waits behind a transcode)

`rq worker --url $REDIS_URL transcode` works as well: the job then builds the app itself.
"""
from __future__ import annotations

import argparse
import sys

from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Worker

from mediaserver import create_app
from mediaserver.exceptions import ConfigError


def main(argv: list[str] | None = None) -> int:
    """Run the worker; exit status 2 on a configuration error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--queues", default="scan,transcode",
                        help="comma-separated, in priority order: scan, transcode (default: both, scans first)")
    args = parser.parse_args(argv)
    try:
        app = create_app()
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
            worker = Worker([by_name[q] for q in args.queues.split(",")], connection=app.redis)
            worker.work(burst=args.burst, with_scheduler=True)  # runs retries scheduled with a backoff
        except RedisConnectionError as exc:
            print(f"worker.py: cannot reach Redis at {app.config['REDIS_URL']}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

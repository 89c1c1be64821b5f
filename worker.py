"""Run an RQ worker on the app's queue with the app preloaded.

    python worker.py            # run until stopped
    python worker.py --burst    # exit when the queue is empty

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
    args = parser.parse_args(argv)
    try:
        app = create_app()
    except ConfigError as exc:
        print(f"worker.py: configuration: {exc}", file=sys.stderr)
        return 2
    with app.app_context():
        try:
            worker = Worker([app.task_queue], connection=app.redis)
            worker.work(burst=args.burst, with_scheduler=False)
        except RedisConnectionError as exc:
            print(f"worker.py: cannot reach Redis at {app.config['REDIS_URL']}: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The worker: `python -m jobs.worker` listens on every queue, with the scheduler for retries.

Cron work (reconciliation, sweepers) runs with `rq cron jobs/schedule.py`.
"""

from __future__ import annotations

import argparse

from rq import Worker

from jobs import runtime
from portal.extensions import redis_connection
from portal.queues import QUEUES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a Pier worker.")
    parser.add_argument("--queues", nargs="*", default=list(QUEUES))
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    options = parser.parse_args(argv)
    app = runtime.current()
    with app.app_context():
        connection = redis_connection()
    worker = Worker(options.queues, connection=connection, name=None)
    worker.work(with_scheduler=True, burst=options.burst)


if __name__ == "__main__":
    main()

"""The worker: `python -m jobs.worker` works every queue, runs RQ's scheduler for retries and,
in a child process, the cron schedule of jobs/schedule.py."""

from __future__ import annotations

import argparse
import multiprocessing

from rq import Worker
from rq.cron import CronScheduler

from jobs import runtime
from portal.extensions import redis_connection
from portal.queues import QUEUES

SCHEDULE = "jobs.schedule"


def run_cron() -> None:
    """Enqueue the cron jobs when they are due (runs until stopped)."""
    app = runtime.current()
    with app.app_context():
        scheduler = CronScheduler(connection=redis_connection())
    scheduler.load_config_from_file(SCHEDULE)
    scheduler.start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a Pier worker.")
    parser.add_argument("--queues", nargs="*", default=list(QUEUES))
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--no-cron", action="store_true", help="do not run the cron schedule")
    options = parser.parse_args(argv)
    app = runtime.current()
    with app.app_context():
        connection = redis_connection()
    cron = None
    if not options.no_cron and not options.burst:
        cron = multiprocessing.Process(target=run_cron, name="pier-cron", daemon=True)
        cron.start()
    try:
        Worker(options.queues, connection=connection).work(with_scheduler=True, burst=options.burst)
    finally:
        if cron is not None:
            cron.terminate()
            cron.join(5)


if __name__ == "__main__":
    main()

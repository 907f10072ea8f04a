"""The worker: `python -m jobs.worker` works every queue of this instance, runs RQ's scheduler
for retries and, in a child process, the cron schedule of jobs/schedule.py."""

from __future__ import annotations

import argparse
import multiprocessing

from rq import Queue, Worker
from rq.cron import CronScheduler

from jobs import runtime
from portal.extensions import redis_connection
from portal.queues import QUEUES, instance_id, queue_name


def cron_scheduler() -> CronScheduler:
    """A cron scheduler with this instance's schedule on this instance's queues (app context)."""
    from jobs.schedule import SCHEDULE

    scheduler = CronScheduler(connection=redis_connection(), name=instance_id())
    for func, queue, interval in SCHEDULE:
        name = queue_name(queue)
        label = f"{name}:{func.__module__}.{func.__name__}"
        scheduler.register(func, queue_name=name, interval=interval, name=label)
    return scheduler


def instance_worker(names=QUEUES, worker_class: type[Worker] = Worker) -> Worker:
    """A worker on this instance's queues only (app context)."""
    connection = redis_connection()
    queues = [Queue(queue_name(name), connection=connection) for name in names]
    return worker_class(queues, connection=connection, name=instance_id())


def run_cron() -> None:
    """Enqueue the cron jobs when they are due (runs until stopped)."""
    with runtime.current().app_context():
        scheduler = cron_scheduler()
    scheduler.start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a Pier worker.")
    parser.add_argument("--queues", nargs="*", choices=QUEUES, default=list(QUEUES))
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--no-cron", action="store_true", help="do not run the cron schedule")
    options = parser.parse_args(argv)
    with runtime.current().app_context():
        worker = instance_worker(options.queues)
    cron = None
    if not options.no_cron and not options.burst:
        cron = multiprocessing.Process(target=run_cron, name="pier-cron", daemon=True)
        cron.start()
    try:
        worker.work(with_scheduler=True, burst=options.burst)
    finally:
        if cron is not None:
            cron.terminate()
            cron.join(5)


if __name__ == "__main__":
    main()

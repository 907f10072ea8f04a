"""The worker: `python -m jobs.worker` works every queue of this instance, runs RQ's scheduler
for retries and, in child processes, the webhook dispatcher (jobs/dispatcher.py) and the cron
schedule of jobs/schedule.py."""

from __future__ import annotations

import argparse
import multiprocessing

from rq import Queue, Worker
from rq.cron import CronScheduler

from jobs import runtime
from jobs.dispatcher import dispatch_all
from portal.extensions import db, redis_connection
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


def run_dispatcher() -> None:
    """Queue the webhook events the ingress stores (runs until stopped)."""
    from jobs import dispatcher

    dispatcher.run()


def start_dispatcher() -> multiprocessing.Process:
    """The dispatcher in a child process, so no thread of the forking worker holds the database."""
    process = multiprocessing.Process(target=run_dispatcher, name="pier-dispatcher", daemon=True)
    process.start()
    return process


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a Pier worker.")
    parser.add_argument("--queues", nargs="*", choices=QUEUES, default=list(QUEUES))
    parser.add_argument("--burst", action="store_true", help="stop when the queues are empty")
    parser.add_argument("--no-cron", action="store_true", help="do not run the cron schedule")
    options = parser.parse_args(argv)
    with runtime.current().app_context():
        worker = instance_worker(options.queues)
    children = []
    if options.burst:
        if "webhooks" in options.queues:
            dispatch_all()
            with runtime.current().app_context():
                db.engine.dispose()  # forked jobs must not share its connections
    else:
        if "webhooks" in options.queues:
            children.append(start_dispatcher())
        if not options.no_cron:
            cron = multiprocessing.Process(target=run_cron, name="pier-cron", daemon=True)
            cron.start()
            children.append(cron)
    try:
        worker.work(with_scheduler=True, burst=options.burst)
    finally:
        for child in children:
            child.terminate()
            child.join(5)


if __name__ == "__main__":
    main()

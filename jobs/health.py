"""The worker container's health check: `python -m jobs.health` exits 0 when an RQ worker of
this instance is registered from this host. A worker's registration in Redis expires when its
heartbeats stop, so a hung or dead worker (or an unreachable Redis) fails the check."""

from __future__ import annotations

import socket
import sys

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from portal.queues import QUEUES, queue_name


def live_workers(connection: Redis, hostname: str) -> list[Worker]:
    """This instance's registered workers that run on `hostname` (app context)."""
    found: dict[str, Worker] = {}
    for name in QUEUES:
        for worker in Worker.all(queue=Queue(queue_name(name), connection=connection)):
            if worker.hostname == hostname:
                found[worker.name] = worker
    return list(found.values())


def main() -> int:
    from jobs import runtime
    from portal.extensions import redis_connection

    hostname = socket.gethostname()
    with runtime.current().app_context():
        try:
            workers = live_workers(redis_connection(), hostname)
        except (RedisError, OSError) as exc:
            print(f"unhealthy: Redis does not answer ({type(exc).__name__})", file=sys.stderr)
            return 1
    if not workers:
        print(f"unhealthy: no worker of this instance runs on {hostname}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

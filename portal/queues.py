"""Enqueue background work on RQ by dotted path (the portal never imports jobs/)."""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from rq import Queue, Retry

from portal.extensions import redis_connection

log = logging.getLogger(__name__)

QUEUES = ("webhooks", "sync", "emails", "default")


def queue(name: str) -> Queue:
    """A named queue on the app's Redis."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_connection())


def enqueue(
    name: str, func: str, *args, retry: Retry | None = None, job_id: str | None = None, **kwargs
):
    """Enqueue a job; returns None (and logs) when Redis is down, so the caller's work is kept."""
    try:
        return queue(name).enqueue(func, *args, retry=retry, job_id=job_id, **kwargs)
    except (RedisError, OSError):
        log.warning(
            "could not enqueue %s on %s: Redis is unavailable; the sweeper will pick it up",
            func,
            name,
        )
        return None

"""Enqueue background work on RQ by dotted path (the portal never imports jobs/).

Queue names and job ids carry the instance name (`PIER_INSTANCE`), so two Piers sharing a
Redis never see each other's queues or jobs.
"""

from __future__ import annotations

import logging
import uuid

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry

from portal.extensions import redis_connection
from portal.observability import correlation

log = logging.getLogger(__name__)

QUEUES = ("webhooks", "sync", "emails", "default")


def queue_name(name: str) -> str:
    """This instance's RQ name for one of its queues."""
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return f"{current_app.config['PIER_INSTANCE']}:{name}"


def instance_id(name: str | None = None) -> str:
    """An id of this instance for a job, worker or scheduler (a fresh one without a name)."""
    return f"{current_app.config['PIER_INSTANCE']}-{name or uuid.uuid4().hex}"


def queue(name: str) -> Queue:
    """A named queue on the app's Redis."""
    return Queue(queue_name(name), connection=redis_connection())


def enqueue(
    name: str, func: str, *args, retry: Retry | None = None, job_id: str | None = None, **kwargs
):
    """Enqueue a job; returns None (and logs) when Redis is down, so the caller's work is kept.

    The job carries the current request id in its meta (`request_id`); the worker logs under it.
    """
    request_id = correlation.current()
    if request_id:
        kwargs["meta"] = {**kwargs.get("meta", {}), "request_id": request_id}
    try:
        job = queue(name).enqueue(func, *args, retry=retry, job_id=instance_id(job_id), **kwargs)
    except (RedisError, OSError):
        log.warning(
            "could not enqueue %s on %s: Redis is unavailable; the sweeper will pick it up",
            func,
            name,
        )
        return None
    log.info("queued %s on %s", func, name, extra={"job_id": job.id, "queue": name})
    return job

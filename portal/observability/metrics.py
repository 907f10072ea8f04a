"""Prometheus metrics: what Pier counts as it works, and what it reads when scraped.

Counters and histograms live in prometheus_client's registry. Under gunicorn's several workers
(and beside the RQ worker on the same host) every process writes its own files into
PROMETHEUS_MULTIPROC_DIR and a scrape sums them (gunicorn.conf.py sets this up). Queue depths,
failed jobs and the webhook backlog are read from Redis and the database at scrape time, so
they are the same whichever process answers.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
OUTSIDE_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)

HTTP_REQUESTS = Counter(
    "pier_http_requests",
    "Requests served, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "pier_http_request_duration_seconds",
    "Time to serve a request, by endpoint and method.",
    ["endpoint", "method"],
)
LAGO_LATENCY = Histogram(
    "pier_lago_request_duration_seconds",
    "Time of each call to Lago (retries included).",
    ["method", "path"],
    buckets=OUTSIDE_BUCKETS,
)
LAGO_ERRORS = Counter(
    "pier_lago_errors",
    "Calls to Lago that failed, by the kind of failure.",
    ["method", "path", "error"],
)
STRIPE_LATENCY = Histogram(
    "pier_stripe_request_duration_seconds",
    "Time of each HTTP attempt to Stripe.",
    ["method", "path"],
    buckets=OUTSIDE_BUCKETS,
)
STRIPE_ERRORS = Counter(
    "pier_stripe_errors",
    "HTTP attempts to Stripe that failed, by status or network error.",
    ["method", "path", "error"],
)
WEBHOOKS_RECEIVED = Counter(
    "pier_webhooks_received",
    "Webhook deliveries, by sender and what the ingress did.",
    ["source", "outcome"],
)
WEBHOOK_LAG = Histogram(
    "pier_webhook_processing_lag_seconds",
    "From a webhook's arrival to the end of its processing.",
    ["source", "status"],
    buckets=LAG_BUCKETS,
)
EMAILS_SENT = Counter("pier_emails_sent", "Emails handed to the mail server.")
EMAILS_FAILED = Counter("pier_emails_failed", "Emails the mail server did not take.")

_COLLECTION = re.compile(r"^[a-z_]+s$")
_LAGO_ACTIONS = frozenset({"batch", "json_public_key", "mrr", "estimate_fees"})


def lago_path(path: str) -> str:
    """A Lago API path with identifiers replaced, for a label: /customers/{id}/current_usage."""
    parts = path.split("?", 1)[0].split("/")
    shown = []
    for index, part in enumerate(parts):
        after_collection = index > 1 and _COLLECTION.match(parts[index - 1] or "")
        if after_collection and part not in _LAGO_ACTIONS and shown[-1] != "{id}":
            shown.append("{id}")
        else:
            shown.append(part)
    return "/".join(shown)


def stripe_path(path: str) -> str:
    """A Stripe API path with object ids (cus_…, pm_…, seti_…) replaced: /v1/customers/{id}."""
    return "/".join(
        "{id}" if re.search(r"[0-9A-Z]", part) and part != "v1" else part
        for part in path.split("?", 1)[0].split("/")
    )


def seconds_since(moment: datetime | None, now: datetime) -> float | None:
    """Seconds from `moment` to `now` (None when `moment` is unknown)."""
    return None if moment is None else max(0.0, (now - moment).total_seconds())


class LiveState:
    """Gauges read when scraped: RQ queue depths, failed jobs, webhooks waiting (app context)."""

    def describe(self) -> list:
        return []  # registering must not read Redis and the database

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._queues()
        yield from self._webhooks()

    @staticmethod
    def _queues() -> Iterator[GaugeMetricFamily]:
        from redis.exceptions import RedisError
        from rq.registry import FailedJobRegistry

        from portal.queues import QUEUES, queue

        depth = GaugeMetricFamily(
            "pier_queue_jobs", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "pier_failed_jobs", "Jobs RQ gave up on, kept for a retry.", labels=["queue"]
        )
        try:
            for name in QUEUES:
                q = queue(name)
                depth.add_metric([name], q.count)
                failed.add_metric([name], FailedJobRegistry(queue=q).count)
        except (RedisError, OSError):
            log.warning("metrics: Redis did not answer; queue gauges left out")
            return
        yield depth
        yield failed

    @staticmethod
    def _webhooks() -> Iterator[GaugeMetricFamily]:
        import sqlalchemy as sa
        from sqlalchemy.exc import SQLAlchemyError

        from portal.extensions import db
        from portal.models import EventStatus, WebhookEvent, utcnow

        waiting = GaugeMetricFamily(
            "pier_webhooks_waiting",
            "Webhook events stored and not yet processed.",
            labels=["source"],
        )
        oldest = GaugeMetricFamily(
            "pier_webhook_oldest_waiting_seconds",
            "Age of the oldest webhook event not yet processed (0 when none waits).",
            labels=["source"],
        )
        pending = (EventStatus.received, EventStatus.processing, EventStatus.failed)
        try:
            rows = db.session.execute(
                sa.select(
                    WebhookEvent.source, sa.func.count(), sa.func.min(WebhookEvent.received_at)
                )
                .where(WebhookEvent.status.in_(pending))
                .group_by(WebhookEvent.source)
            ).all()
            db.session.rollback()
        except SQLAlchemyError:
            db.session.rollback()
            log.warning("metrics: the database did not answer; webhook gauges left out")
            return
        found = {str(source): (count, first) for source, count, first in rows}
        now = utcnow()
        for source in ("lago", "stripe"):
            count, first = found.get(source, (0, None))
            waiting.add_metric([source], count)
            oldest.add_metric([source], seconds_since(first, now) or 0.0)
        yield waiting
        yield oldest


def multiprocess() -> bool:
    """Whether several processes share the metrics (PROMETHEUS_MULTIPROC_DIR is set)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def exposition() -> bytes:
    """The text a scrape gets: every process's counters, then the live gauges."""
    if multiprocess():
        counted = CollectorRegistry()
        MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    live = CollectorRegistry()
    live.register(LiveState())
    return generate_latest(counted) + generate_latest(live)

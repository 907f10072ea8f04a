"""Webhook processing: claim an inbox event, dispatch it to its handler, record the outcome."""

from __future__ import annotations

import logging
import time

from rq import get_current_job

from jobs.runtime import in_app_context
from portal.extensions import db
from portal.models import EventStatus, WebhookEvent, utcnow
from portal.observability import correlation, metrics
from portal.operations.services import settle_submitted
from portal.webhooks import inbox

log = logging.getLogger(__name__)


def _registry():
    from portal.webhooks import registry

    return registry


def _last_attempt() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


@in_app_context
def process_event(event_id: int) -> str:
    """Process one event once; raises on failure so RQ retries, and marks it dead at the end.

    Runs under the webhook's own id (the one its delivery was logged with); operations the event
    confirms are logged with the request id of the action that recorded them.
    """
    if not inbox.claim_event(event_id):
        db.session.rollback()
        status = inbox.event_status(event_id)
        return f"skipped: {status.value}" if status else "gone"
    db.session.commit()
    event = db.session.get(WebhookEvent, event_id)
    with correlation.bound(correlation.webhook_id(event.source.value, event_id)):
        return _process(event)


def _process(event: WebhookEvent) -> str:
    event_id, source, received_at = event.id, event.source.value, event.received_at
    fields = {"event_id": event_id, "event_type": event.event_type, "source": source}
    started = time.perf_counter()
    try:
        outcome = _registry().dispatch(event)
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        status = inbox.record_failure(event_id, exc, elapsed, last_attempt=_last_attempt())
        db.session.commit()
        _observe(source, status, received_at, fields | {"error": type(exc).__name__})
        raise
    status = inbox.record_outcome(event_id, outcome, (time.perf_counter() - started) * 1000)
    confirmed = settle_submitted() if status is EventStatus.processed else []
    db.session.commit()
    fields["operations_confirmed"] = [op.id for op in confirmed]
    _observe(source, status, received_at, fields)
    return status.value


def _observe(source: str, status: EventStatus, received_at, fields: dict) -> None:
    """Time from arrival to the end of processing, and one log line for the outcome."""
    lag = metrics.seconds_since(received_at, utcnow()) or 0.0
    metrics.WEBHOOK_LAG.labels(source, status.value).observe(lag)
    log.log(
        logging.INFO if status in (EventStatus.processed, EventStatus.ignored) else logging.WARNING,
        "%s webhook %s %s",
        source,
        fields["event_type"],
        status.value,
        extra=fields | {"status": status.value, "lag_ms": round(lag * 1000, 1)},
    )


@in_app_context
def sweep_unqueued() -> int:
    """Queue events that never reached the queue or whose job vanished; returns how many."""
    ids = inbox.unqueued_event_ids() + inbox.orphaned_event_ids()
    db.session.commit()
    queued = inbox.queue_events(ids)
    inbox.mark_queued(queued)
    db.session.commit()
    return len(queued)

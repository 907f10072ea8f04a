"""Webhook processing: claim an inbox event, dispatch it to its handler, record the outcome."""

from __future__ import annotations

import time

from rq import get_current_job

from jobs.runtime import in_app_context
from portal.extensions import db
from portal.models import WebhookEvent
from portal.webhooks import inbox


def _registry():
    from portal.webhooks import registry

    return registry


def _last_attempt() -> bool:
    job = get_current_job()
    return job is None or not job.retries_left


@in_app_context
def process_event(event_id: int) -> str:
    """Process one event once; raises on failure so RQ retries, and marks it dead at the end."""
    if not inbox.claim_event(event_id):
        db.session.rollback()
        status = inbox.event_status(event_id)
        return f"skipped: {status.value}" if status else "gone"
    db.session.commit()
    event = db.session.get(WebhookEvent, event_id)
    started = time.perf_counter()
    try:
        outcome = _registry().dispatch(event)
    except Exception as exc:
        elapsed = (time.perf_counter() - started) * 1000
        db.session.rollback()
        inbox.record_failure(event_id, exc, elapsed, last_attempt=_last_attempt())
        db.session.commit()
        raise
    status = inbox.record_outcome(event_id, outcome, (time.perf_counter() - started) * 1000)
    db.session.commit()
    return status.value


@in_app_context
def sweep_unqueued() -> int:
    """Queue events that never reached the queue or whose job vanished; returns how many."""
    ids = inbox.unqueued_event_ids() + inbox.orphaned_event_ids()
    db.session.commit()
    queued = inbox.queue_events(ids)
    inbox.mark_queued(queued)
    db.session.commit()
    return len(queued)

"""The webhook dispatcher: puts the events the ingress stored onto the `webhooks` queue.

The ingress only verifies and stores a delivery; every worker runs this loop beside it, which
claims stored events in batches (`inbox.claim_undispatched`), queues them in one Redis round trip
and commits. A crash between the two leaves the events unclaimed for the next pass, and a job
queued twice is harmless (a worker claims each event once). The minute-by-minute sweep stays the
safety net for events whose job vanished.
"""

from __future__ import annotations

import logging
import threading

from jobs.runtime import in_app_context
from portal.extensions import db
from portal.webhooks import inbox

# Seconds between passes while there is nothing to queue, and after Redis or the database failed.
INTERVAL = 0.2
BACKOFF = 5.0

log = logging.getLogger(__name__)


class QueueUnavailable(Exception):
    """Redis refused the batch; the events stay waiting for the next pass."""


@in_app_context
def dispatch_once(limit: int = inbox.DISPATCH_BATCH) -> int:
    """Queue up to `limit` stored events; returns how many."""
    ids = inbox.claim_undispatched(limit)
    if not ids:
        db.session.rollback()
        return 0
    if not inbox.queue_events(ids):
        db.session.rollback()
        raise QueueUnavailable
    db.session.commit()
    return len(ids)


def dispatch_all(limit: int = inbox.DISPATCH_BATCH) -> int:
    """Queue every stored event waiting right now (a burst worker starts with this)."""
    total = 0
    while (queued := dispatch_once(limit)) > 0:
        total += queued
    return total


def run(stop: threading.Event | None = None, interval: float = INTERVAL) -> None:
    """Dispatch until `stop` is set: at once again after a full batch, else after `interval`."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            queued = dispatch_once()
        except QueueUnavailable:
            stop.wait(BACKOFF)
            continue
        except Exception:  # a database outage must not end the loop
            log.exception("the webhook dispatcher failed; trying again in %s s", BACKOFF)
            stop.wait(BACKOFF)
            continue
        if queued < inbox.DISPATCH_BATCH:
            stop.wait(interval)

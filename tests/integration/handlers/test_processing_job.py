"""Through the processing job: dispatch inside its transaction, emails queued after its commit."""

from __future__ import annotations

import json

import pytest

from jobs import webhooks as webhook_jobs
from portal.extensions import db
from portal.models import BillingAccount, DunningState, EventSource, EventStatus, WebhookEvent
from portal.notify import after_commit
from tests.integration.handlers.support import payload, rows, run_jobs


def stored(app, body: dict, key: str) -> int:
    with app.app_context():
        event = WebhookEvent(
            source=EventSource.lago,
            unique_key=key,
            event_type=body["webhook_type"],
            object_type=body["object_type"],
            body=json.dumps(body),
            headers={},
        )
        db.session.add(event)
        db.session.commit()
        return event.id


def test_the_job_processes_the_event_and_the_email_follows_its_commit(
    app, acme, lago_down, mailbox
):
    created = stored(app, payload("invoice.created"), "one")
    overdue = stored(app, payload("invoice.payment_overdue"), "two")
    assert webhook_jobs.process_event(created) == "processed"
    assert webhook_jobs.process_event(overdue) == "processed"
    assert webhook_jobs.process_event(overdue) == "skipped: processed"

    events = {e.id: e for e in rows(app, WebhookEvent)}
    assert events[overdue].status is EventStatus.processed
    assert "Used the webhook's copy of the invoice" in events[overdue].note
    assert rows(app, BillingAccount)[0].dunning_state is DunningState.overdue
    run_jobs(app)
    assert [m["Subject"] for m in mailbox.to(acme.owner)] == ["Invoice ACM-C6D5-001-007 is overdue"]


def test_a_failing_handler_queues_nothing(app, acme, lago_down, mailbox):
    failure = stored(app, payload("invoice.payment_failure"), "three")
    with pytest.raises(LookupError):
        webhook_jobs.process_event(failure)
    [event] = rows(app, WebhookEvent)
    assert event.status in (EventStatus.failed, EventStatus.dead)
    assert "has not seen yet" in event.last_error
    assert run_jobs(app) == 0


def test_emails_wait_for_the_commit_and_vanish_with_a_rollback(app):
    with app.app_context():
        after_commit.queue_email("all_set", 1, "2025-05-01T00:00:00+00:00")
        assert after_commit.pending() == [("all_set", (1, "2025-05-01T00:00:00+00:00"))]
        db.session.rollback()
        assert after_commit.pending() == []
    assert run_jobs(app) == 0

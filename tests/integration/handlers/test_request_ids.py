"""A webhook's processing runs under the webhook's own id, which the emails it queues carry;
an operation it confirms is logged with the request id of the action that recorded it."""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY
from rq.job import Job

from jobs import webhooks as webhook_jobs
from portal import queues
from portal.extensions import db
from portal.models import Operation, OperationState
from portal.observability import correlation
from portal.operations import services as operations
from tests.integration.handlers.support import payload, rows, run_jobs
from tests.integration.handlers.test_processing_job import stored


def test_a_webhook_confirms_an_operation_and_names_its_request(app, acme, lago_down, caplog):
    body = payload("subscription.terminated")
    with app.app_context(), correlation.bound("trace-cancel-9"):
        operation = operations.record(
            tenant_id=acme.id,
            user_id=acme.owner_id,
            kind="cancel_now",
            key=operations.new_key(),
            params={"when": "now"},
            expected={"lago_id": body["subscription"]["lago_id"], "done": "Cancelled."},
        )
        db.session.commit()
        assert operations.claim(operation)
        db.session.commit()
        operation_id = operation.id
    event_id = stored(app, body, "terminated-1")

    with caplog.at_level(logging.INFO):
        assert webhook_jobs.process_event(event_id) == "processed"

    [done] = rows(app, Operation)
    assert done.state is OperationState.confirmed
    assert done.request_id == "trace-cancel-9"
    webhook_id = correlation.webhook_id("lago", event_id)
    [confirmed] = [r for r in caplog.records if getattr(r, "operation_request_id", None)]
    assert (confirmed.operation_id, confirmed.operation_request_id) == (
        operation_id,
        "trace-cancel-9",
    )
    assert confirmed.request_id == webhook_id
    [outcome] = [r for r in caplog.records if r.name == "jobs.webhooks"]
    assert outcome.request_id == webhook_id
    assert outcome.operations_confirmed == [operation_id]
    assert outcome.status == "processed"


def test_the_email_a_webhook_queues_is_sent_under_the_webhook_id(
    app, acme, lago_down, mailbox, caplog
):
    sent_before = REGISTRY.get_sample_value("pier_emails_sent_total") or 0.0
    event_id = stored(app, payload("invoice.payment_overdue"), "overdue-1")
    assert webhook_jobs.process_event(event_id) == "processed"
    webhook_id = correlation.webhook_id("lago", event_id)
    with app.app_context():
        emails = queues.queue("emails")
        jobs = [Job.fetch(i, connection=emails.connection) for i in emails.job_ids]
    assert jobs
    assert {job.meta["request_id"] for job in jobs} == {webhook_id}

    with caplog.at_level(logging.INFO, "portal.mail"):
        run_jobs(app)
    sent = [r for r in caplog.records if r.getMessage() == "email sent"]
    assert sent
    assert {r.request_id for r in sent} == {webhook_id}
    assert REGISTRY.get_sample_value("pier_emails_sent_total") == sent_before + len(sent)
    assert len(mailbox.to(acme.owner)) == 1

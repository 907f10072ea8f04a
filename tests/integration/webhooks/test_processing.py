"""Processing: one handler call per event, retries then dead, replays, and the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from jobs import webhooks as webhook_jobs
from portal.extensions import db
from portal.models import EventStatus, WebhookEvent, utcnow
from tests.integration.webhooks.conftest import hmac_headers, lago_body
from tests.servers import free_port

URL = "/webhooks/lago"


def deliver(client, webhook_type: str = "customer.updated", key: str | None = None):
    body = lago_body(webhook_type)
    response = client.post(URL, data=body, headers=hmac_headers(body, key=key))
    assert response.status_code == 200
    return response


def the_event(app) -> WebhookEvent:
    with app.app_context():
        return db.session.scalars(sa.select(WebhookEvent)).one()


@pytest.fixture
def hmac_connected(connect_lago):
    connect_lago("hmac")


def test_a_delivery_is_processed_once_by_the_worker(
    webhook_app, client, hmac_connected, registry, run_worker
):
    deliver(client, key="k1")
    deliver(client, key="k1")
    run_worker()
    event = the_event(webhook_app)
    assert registry.calls == [(event.id, "customer.updated")]
    assert event.status is EventStatus.processed
    assert event.attempts == 1
    assert event.duplicates == 1
    assert event.processed_at is not None
    assert event.processing_ms is not None and event.processing_ms >= 0
    assert event.last_error is None


def test_running_the_job_again_does_nothing(
    webhook_app, client, hmac_connected, registry, run_worker
):
    deliver(client)
    run_worker()
    event = the_event(webhook_app)
    from jobs import runtime

    runtime.use_app(webhook_app)
    assert webhook_jobs.process_event(event.id) == "skipped: processed"
    assert webhook_jobs.process_event(999_999) == "gone"
    assert len(registry.calls) == 1


def test_unknown_types_are_stored_and_ignored(
    webhook_app, client, hmac_connected, registry, run_worker
):
    registry.ignoring.add("wallet.created")
    deliver(client, "wallet.created")
    run_worker()
    assert the_event(webhook_app).status is EventStatus.ignored


def test_a_failing_handler_is_retried_then_dead(
    webhook_app, client, hmac_connected, registry, run_worker, webhook_queue, event_job_id
):
    registry.failing.add("customer.updated")
    deliver(client)
    run_worker()
    event = the_event(webhook_app)
    assert len(registry.calls) == 3  # the first attempt and two retries
    assert event.status is EventStatus.dead
    assert event.attempts == 3
    assert "handler for customer.updated failed" in event.last_error
    assert event_job_id(event.id) in FailedJobRegistry(queue=webhook_queue).get_job_ids()


def test_a_failure_with_retries_left_is_failed(webhook_app, client, hmac_connected, registry):
    registry.failing.add("customer.updated")
    deliver(client)
    event = the_event(webhook_app)
    from jobs import runtime

    runtime.use_app(webhook_app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(webhook_jobs, "_last_attempt", lambda: False)
        with pytest.raises(RuntimeError):
            webhook_jobs.process_event(event.id)
    assert the_event(webhook_app).status is EventStatus.failed
    runtime.use_app(None)


def test_a_dead_event_replayed_after_a_fix_is_processed(
    webhook_app, client, hmac_connected, registry, run_worker, admin_client
):
    registry.failing.add("customer.updated")
    deliver(client)
    run_worker()
    event = the_event(webhook_app)
    registry.failing.clear()

    response = admin_client.submit(f"/admin/webhooks/{event.id}/replay", {})
    assert response.status_code == 303
    replayed = the_event(webhook_app)
    assert replayed.status is EventStatus.received
    assert replayed.enqueued_at is not None
    assert "replayed by" in replayed.note
    run_worker()
    assert the_event(webhook_app).status is EventStatus.processed
    assert len(registry.calls) == 4


def test_a_processed_event_can_be_replayed(
    webhook_app, client, hmac_connected, registry, run_worker, admin_client
):
    deliver(client)
    run_worker()
    event = the_event(webhook_app)
    assert admin_client.submit(f"/admin/webhooks/{event.id}/replay", {}).status_code == 303
    run_worker()
    assert [call[0] for call in registry.calls] == [event.id, event.id]
    assert the_event(webhook_app).attempts == 2


def test_replay_all_failed_requeues_failed_and_dead_only(
    webhook_app, client, hmac_connected, registry, run_worker, admin_client
):
    registry.failing.add("customer.updated")
    deliver(client, "customer.updated")
    deliver(client, "customer.created")
    run_worker()
    registry.failing.clear()
    response = admin_client.submit("/admin/webhooks/replay-failed", {}, follow_redirects=True)
    assert "1 event(s) queued again" in response.get_data(as_text=True)
    run_worker()
    with webhook_app.app_context():
        statuses = set(db.session.scalars(sa.select(WebhookEvent.status)))
    assert statuses == {EventStatus.processed}
    assert len(registry.calls) == 5  # 3 failed attempts, 1 first success, 1 replay


def test_with_redis_down_the_event_is_kept_then_swept_and_processed(
    webhook_app, client, hmac_connected, registry, run_worker, webhook_queue
):
    working_url = webhook_app.config["REDIS_URL"]
    webhook_app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    webhook_app.extensions.pop("pier_redis", None)
    deliver(client, key="while-down")
    event = the_event(webhook_app)
    assert event.status is EventStatus.received
    assert event.enqueued_at is None

    webhook_app.config["REDIS_URL"] = working_url
    webhook_app.extensions.pop("pier_redis", None)
    with webhook_app.app_context():
        db.session.execute(
            sa.update(WebhookEvent).values(received_at=utcnow() - timedelta(minutes=2))
        )
        db.session.commit()
    webhook_queue.enqueue("jobs.webhooks.sweep_unqueued")
    run_worker()
    swept = the_event(webhook_app)
    assert swept.status is EventStatus.processed
    assert swept.enqueued_at is not None
    assert registry.calls == [(event.id, "customer.updated")]


def test_the_sweeper_leaves_fresh_and_queued_events_alone(
    webhook_app, client, hmac_connected, registry
):
    deliver(client)
    from jobs import runtime

    runtime.use_app(webhook_app)
    assert webhook_jobs.sweep_unqueued() == 0
    runtime.use_app(None)


def test_the_sweeper_requeues_an_event_whose_worker_died(
    webhook_app, client, hmac_connected, registry, run_worker, redis_conn, webhook_queue
):
    deliver(client)
    event = the_event(webhook_app)
    webhook_queue.empty()
    with webhook_app.app_context():
        db.session.execute(
            sa.update(WebhookEvent).values(
                status=EventStatus.processing, enqueued_at=utcnow() - timedelta(hours=1)
            )
        )
        db.session.commit()
    webhook_queue.enqueue("jobs.webhooks.sweep_unqueued")
    run_worker()
    recovered = the_event(webhook_app)
    assert recovered.status is EventStatus.processed
    assert registry.calls == [(event.id, "customer.updated")]


def test_an_event_whose_job_vanished_is_queued_again_within_minutes(
    webhook_app, client, hmac_connected, registry, run_worker, redis_conn, webhook_queue, dispatch
):
    deliver(client)
    dispatch()
    event = the_event(webhook_app)
    assert event.status is EventStatus.received and event.enqueued_at is not None
    redis_conn.flushdb()  # the job is gone; the inbox still says "queued"

    def sweep_after(minutes: float) -> EventStatus:
        with webhook_app.app_context():
            queued_at = utcnow() - timedelta(minutes=minutes)
            db.session.execute(sa.update(WebhookEvent).values(enqueued_at=queued_at))
            db.session.commit()
        webhook_queue.enqueue("jobs.webhooks.sweep_unqueued")
        run_worker()
        return the_event(webhook_app).status

    assert sweep_after(1) is EventStatus.received  # it may still be on its way
    assert registry.calls == []
    assert sweep_after(3) is EventStatus.processed
    assert registry.calls == [(event.id, "customer.updated")]

"""Real deliveries: the Lago stand-in signs and posts webhooks to the portal served over HTTP."""

from __future__ import annotations

import threading

import httpx
import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import EventSource, EventStatus, SignatureFailure, WebhookEvent
from tests.integration.webhooks.conftest import hmac_headers, lago_body


def inbox(app) -> list[WebhookEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(WebhookEvent).order_by(WebhookEvent.id)))


def create_customer(lago_standin, external_id: str = "acme") -> dict:
    with lago_standin.client() as lago:
        reply = lago.post(
            "/customers", json={"customer": {"external_id": external_id, "name": "Acme"}}
        )
    assert reply.status_code == 200, reply.text
    return reply.json()["customer"]


@pytest.mark.parametrize("algorithm", ["jwt", "hmac"])
def test_webhooks_sent_by_lago_are_accepted_and_processed(
    webhook_app, live_portal, lago_standin, connect_standin, registry, run_worker, algorithm
):
    connect_standin(algorithm)
    customer = create_customer(lago_standin)
    with lago_standin.control() as control:
        triggered = control.post(
            "/webhooks/trigger",
            json={"webhook_type": "customer.updated", "object_id": customer["external_id"]},
        )
    assert triggered.status_code == 200, triggered.text

    records = lago_standin.wait_for_webhooks(2, status="succeeded")
    assert {r["signature_algo"] for r in records} == {algorithm}
    assert all(r["attempts"][-1]["http_status"] == 200 for r in records)
    events = inbox(webhook_app)
    assert [e.event_type for e in events] == ["customer.created", "customer.updated"]
    assert {e.unique_key for e in events} == {r["id"] for r in records}
    assert {e.object_key for e in events} == {customer["lago_id"]}
    assert all(e.source is EventSource.lago for e in events)

    run_worker()
    assert [e.status for e in inbox(webhook_app)] == [EventStatus.processed] * 2
    assert len(registry.calls) == 2


def test_a_delivery_retried_by_lago_is_processed_once(
    webhook_app, live_portal, lago_standin, connect_standin, registry, run_worker
):
    connect_standin("jwt")
    create_customer(lago_standin)
    [record] = lago_standin.wait_for_webhooks(1, status="succeeded")
    with lago_standin.control() as control:
        for _ in range(2):
            assert control.post(f"/webhooks/{record['id']}/retry").status_code == 200
            lago_standin.settle()
    run_worker()
    [event] = inbox(webhook_app)
    assert event.duplicates == 2
    assert event.status is EventStatus.processed
    assert registry.calls == [(event.id, "customer.created")]


def test_lago_signing_with_another_key_is_refused(
    webhook_app, live_portal, lago_standin, connect_standin
):
    connect_standin("hmac")
    with webhook_app.app_context():
        from portal import crypto
        from portal.models import BillingConnection

        connection = db.session.scalars(sa.select(BillingConnection)).one()
        connection.hmac_key_encrypted = crypto.encrypt("an-older-key")
        db.session.commit()
    create_customer(lago_standin)
    [record] = lago_standin.wait_for_webhooks(1, status="failed", timeout=10)
    assert [a["http_status"] for a in record["attempts"]] == [401, 401, 401]
    assert inbox(webhook_app) == []
    with webhook_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SignatureFailure)) == 3


def test_concurrent_deliveries_of_one_key_make_one_row_and_one_job(
    webhook_app, live_portal, connect_lago, webhook_queue, event_job_id, dispatch
):
    connect_lago("hmac")
    body = lago_body()
    headers = hmac_headers(body, key="raced-key")
    threads, statuses = 16, []
    barrier = threading.Barrier(threads)

    def send() -> None:
        with httpx.Client(trust_env=False, timeout=10) as http:
            barrier.wait()
            statuses.append(
                http.post(
                    live_portal.url + "/webhooks/lago", content=body, headers=headers
                ).status_code
            )

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses == [200] * threads
    [event] = inbox(webhook_app)
    assert event.duplicates == threads - 1
    assert dispatch() == 1
    assert webhook_queue.job_ids == [event_job_id(event.id)]

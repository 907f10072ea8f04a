"""The admin console: inbox list and filters, detail, health card and banner, jobs; admins only."""

from __future__ import annotations

import html
import re

import pytest
import sqlalchemy as sa
from rq.registry import FailedJobRegistry

from portal.extensions import db
from portal.models import EventSource, EventStatus, SignatureFailure, WebhookEvent
from tests.integration.webhooks.conftest import hmac_headers, lago_body

URL = "/webhooks/lago"


def text(response) -> str:
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body)).strip()


def deliver(client, webhook_type="customer.updated", key=None, secret=None):
    body = lago_body(webhook_type)
    headers = hmac_headers(body, key=key) if secret is None else hmac_headers(body, secret=secret)
    return client.post(URL, data=body, headers=headers)


@pytest.fixture
def hmac_connected(connect_lago):
    connect_lago("hmac")


def test_the_inbox_lists_events_with_status_duplicates_and_timings(
    webhook_app, client, hmac_connected, registry, run_worker, admin_client
):
    deliver(client, "customer.updated", key="a")
    deliver(client, "customer.updated", key="a")
    deliver(client, "invoice.created", key="b")
    registry.failing.add("invoice.created")
    run_worker()

    page = admin_client.get("/admin/webhooks")
    assert page.status_code == 200
    shown = text(page)
    assert "customer.updated" in shown and "invoice.created" in shown
    assert "processed" in shown and "dead" in shown
    assert "Replay all failed (1)" in shown
    assert " ms" in shown

    only_dead = text(admin_client.get("/admin/webhooks?status=dead"))
    assert "invoice.created" in only_dead and "customer.updated" not in only_dead
    by_type = text(admin_client.get("/admin/webhooks?type=customer."))
    assert "customer.updated" in by_type and "invoice.created" not in by_type
    assert "No webhooks match." in text(admin_client.get("/admin/webhooks?source=stripe"))


def test_a_filter_request_from_htmx_gets_only_the_table(
    webhook_app, client, hmac_connected, admin_client
):
    deliver(client)
    response = admin_client.get(
        "/admin/webhooks?status=received",
        headers={"HX-Request": "true", "HX-Target": "events-table"},
    )
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<div id="events-table"')
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_the_inbox_is_paginated(webhook_app, client, hmac_connected, admin_client):
    for n in range(51):
        assert deliver(client, key=f"k{n}").status_code == 200
    first = text(admin_client.get("/admin/webhooks"))
    assert "Page 1 of 2" in first and "Older →" in first
    assert "Page 2 of 2" in text(admin_client.get("/admin/webhooks?page=2"))


def test_the_detail_shows_pretty_json_and_headers_without_the_signature(
    webhook_app, client, hmac_connected, admin_client
):
    deliver(client, key="detail-key")
    with webhook_app.app_context():
        event = db.session.scalars(sa.select(WebhookEvent)).one()
    page = admin_client.get(f"/admin/webhooks/{event.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '"webhook_type": "customer.updated",\n' in html.unescape(body)
    assert "detail-key" in body
    assert "[removed]" in body
    assert "Replay" in body
    assert admin_client.get("/admin/webhooks/999999").status_code == 404


def test_the_health_card_and_the_rotated_secret_banner(
    webhook_app, client, hmac_connected, admin_client
):
    assert deliver(client).status_code == 200
    calm = text(admin_client.get("/admin/webhooks"))
    assert "signatures are failing" not in calm
    for _ in range(3):
        assert deliver(client, secret="rotated-secret").status_code == 401
    alarmed = text(admin_client.get("/admin/webhooks"))
    assert "Lago signatures are failing: 3 deliveries refused in the last hour" in alarmed
    assert "A rotated secret is the usual cause" in alarmed
    assert "Signature failures (24 h): 3" in alarmed
    assert "Waiting: 1 · oldest" in alarmed

    assert deliver(client).status_code == 200
    assert "signatures are failing" not in text(admin_client.get("/admin/webhooks"))


def test_failures_before_the_last_valid_delivery_do_not_raise_the_banner(webhook_app, admin_client):
    with webhook_app.app_context():
        db.session.add_all(
            SignatureFailure(source=EventSource.stripe, reason="x", ip="127.0.0.1")
            for _ in range(2)
        )
        db.session.commit()
    assert "signatures are failing" not in text(admin_client.get("/admin/webhooks"))


def test_the_jobs_page_shows_failed_jobs_and_retries_them(
    webhook_app,
    client,
    hmac_connected,
    registry,
    run_worker,
    admin_client,
    webhook_queue,
    event_job_id,
):
    registry.failing.add("customer.updated")
    deliver(client)
    run_worker()
    with webhook_app.app_context():
        event = db.session.scalars(sa.select(WebhookEvent)).one()
    page = text(admin_client.get("/admin/jobs"))
    assert "webhooks" in page and "sync" in page
    assert event_job_id(event.id) in page
    assert "RuntimeError: handler for customer.updated failed" in page

    registry.failing.clear()
    job_id = event_job_id(event.id)
    response = admin_client.submit(f"/admin/jobs/webhooks/{job_id}/retry", {})
    assert response.status_code == 303
    assert FailedJobRegistry(queue=webhook_queue).count == 0
    run_worker()
    with webhook_app.app_context():
        assert db.session.get(WebhookEvent, event.id).status is EventStatus.processed


def test_retry_all_on_a_queue(
    webhook_app, client, hmac_connected, registry, run_worker, admin_client, webhook_queue
):
    registry.failing.add("customer.updated")
    deliver(client, key="one")
    deliver(client, key="two")
    run_worker()
    registry.failing.clear()
    response = admin_client.submit("/admin/jobs/webhooks/retry-all", {}, follow_redirects=True)
    assert "2 job(s) queued again on webhooks." in text(response)
    run_worker()
    with webhook_app.app_context():
        statuses = set(db.session.scalars(sa.select(WebhookEvent.status)))
    assert statuses == {EventStatus.processed}


def test_the_jobs_page_says_when_redis_is_down(webhook_app, admin_client):
    from tests.servers import free_port

    webhook_app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"
    webhook_app.extensions.pop("pier_redis", None)
    page = admin_client.get("/admin/jobs")
    assert page.status_code == 200
    assert "Redis is unavailable" in text(page)


@pytest.mark.parametrize("role", ["member", "billing_admin", "owner"])
def test_only_platform_admins_see_the_console(webhook_app, as_role, role):
    client, _ = as_role(role)
    for url in ("/admin/webhooks", "/admin/webhooks/1", "/admin/jobs"):
        assert client.get(url).status_code == 403, url
    assert client.submit("/admin/webhooks/replay-failed", {}).status_code == 403
    assert client.submit("/admin/jobs/webhooks/retry-all", {}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(webhook_app, client):
    for url in ("/admin/webhooks", "/admin/jobs"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")

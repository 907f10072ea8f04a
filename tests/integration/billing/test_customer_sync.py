"""Tenants become Lago customers through the `sync` queue: real Redis, a real RQ worker."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, ScheduledJobRegistry

from jobs.sync import sweep_pending_syncs
from portal.billing import customers
from portal.extensions import db
from portal.models import SyncState, Tenant
from tests.integration.billing.support import (
    SIGNUP_TIMEZONE,
    connect,
    redis_of,
    run_worker,
    signup_form,
    sync_job_id,
    sync_queue,
    text_of,
)
from tests.servers import refusing_port

EMAIL = "ada@harbour.example"


def sign_up(app, email: str = EMAIL, organisation: str = "Harbour Lights Ltd"):
    """Sign up in a fresh browser-like client; returns (client, tenant id)."""
    client = app.test_client()
    response = client.submit("/signup", signup_form(email, organisation))
    assert response.status_code == 303, response.get_data(as_text=True)
    with app.app_context():
        tenant = db.session.scalars(sa.select(Tenant).where(Tenant.name == organisation)).one()
        return client, tenant.id


def tenant(app, tenant_id: int) -> Tenant:
    with app.app_context():
        found = db.session.get(Tenant, tenant_id)
        db.session.expunge(found)
        return found


def customers_in_lago(lago_standin) -> list[dict]:
    with lago_standin.client() as lago:
        return lago.get("/customers").json()["customers"]


def customer_in_lago(lago_standin, external_id: str) -> dict:
    with lago_standin.client() as lago:
        reply = lago.get(f"/customers/{external_id}")
    assert reply.status_code == 200, reply.text
    return reply.json()["customer"]


@pytest.fixture
def connected(app, admin, lago_standin):
    connect(admin, lago_standin)
    return admin


def test_sign_up_queues_the_sync_and_the_worker_creates_the_customer(
    app, connected, lago_standin, standin_config
):
    standin_config(premium=True)  # Lago keeps a customer's time zone only with a licence
    _, tenant_id = sign_up(app)

    queue = sync_queue(app)
    assert queue.job_ids == [sync_job_id(app, tenant_id)]
    job = queue.fetch_job(sync_job_id(app, tenant_id))
    assert job.func_name == "jobs.sync.sync_tenant" and job.args == (tenant_id,)
    assert tenant(app, tenant_id).sync_state is SyncState.pending
    assert customers_in_lago(lago_standin) == []

    run_worker(app)

    assert queue.count == 0
    assert FinishedJobRegistry(queue=queue).get_job_ids() == [job.id]
    synced = tenant(app, tenant_id)
    assert synced.sync_state is SyncState.synced
    assert synced.sync_attempts == 0 and synced.sync_last_error is None
    assert synced.external_id.startswith("pier_")

    customer = customer_in_lago(lago_standin, synced.external_id)
    assert customer["lago_id"] == synced.lago_customer_id
    assert customer["name"] == "Harbour Lights Ltd"
    assert customer["email"] == EMAIL
    assert customer["timezone"] == SIGNUP_TIMEZONE
    assert customer["currency"] == "USD"
    assert customer["customer_type"] == "company"
    metadata = {m["key"]: (m["value"], m["display_in_invoice"]) for m in customer["metadata"]}
    assert metadata == {"billing_type": ("organization", False), "created_by": (EMAIL, False)}

    # Running the job again is harmless: the same customer, updated in place.
    sync_queue(app).enqueue("jobs.sync.sync_tenant", tenant_id)
    run_worker(app)
    assert [c["external_id"] for c in customers_in_lago(lago_standin)] == [synced.external_id]


def test_lago_down_at_sign_up_fails_the_job_and_rq_retries_it(app, connected, lago_standin):
    app.config["LAGO_MAX_RETRIES"] = 0  # no in-process retries: RQ's schedule is under test
    lago_standin.set_faults(down="503")
    client, tenant_id = sign_up(app)
    assert "Welcome to Pier. Your organisation is ready." in text_of(client.get("/"))

    started = datetime.now(UTC)
    run_worker(app)

    failed = tenant(app, tenant_id)
    assert failed.sync_state is SyncState.failed
    assert failed.sync_attempts == 1
    assert failed.sync_last_error == (
        "Lago is temporarily unavailable. "
        "Try again in a minute. If it keeps happening, check the Lago server logs."
    )
    wait = (failed.sync_next_attempt_at - started).total_seconds()
    assert 9 <= wait <= 12

    queue = sync_queue(app)
    scheduled = ScheduledJobRegistry(queue=queue)
    job_id = sync_job_id(app, tenant_id)
    assert scheduled.get_job_ids() == [job_id]
    retry_at = scheduled.get_scheduled_time(job_id).replace(tzinfo=UTC)
    assert 9 <= (retry_at - started).total_seconds() <= 12
    assert Job.fetch(job_id, connection=redis_of(app)).retries_left == 5
    assert FailedJobRegistry(queue=queue).count == 0

    admin_view = text_of(connected.get("/admin/tenants"))
    assert "Harbour Lights Ltd" in admin_view and "failed" in admin_view
    assert "Lago is temporarily unavailable." in admin_view and "Retry now" in admin_view

    # Lago is back; ten seconds pass; the worker's scheduler hands the retry to the queue.
    lago_standin.clear_faults()
    redis_of(app).zadd(scheduled.key, {job_id: time.time() - 1})
    run_worker(app, with_scheduler=True)

    synced = tenant(app, tenant_id)
    assert synced.sync_state is SyncState.synced
    assert synced.sync_attempts == 0 and synced.sync_last_error is None
    assert synced.sync_next_attempt_at is None
    assert scheduled.count == 0
    [customer] = customers_in_lago(lago_standin)
    assert customer["external_id"] == synced.external_id
    assert customer["name"] == "Harbour Lights Ltd" and customer["email"] == EMAIL


def test_retry_now_on_the_tenants_page_syncs_a_failed_tenant(app, connected, lago_standin):
    app.config["LAGO_MAX_RETRIES"] = 0
    lago_standin.set_faults(down="close")
    _, tenant_id = sign_up(app)
    run_worker(app)
    failed = tenant(app, tenant_id)
    assert failed.sync_state is SyncState.failed
    assert failed.sync_last_error.startswith("Lago closed the connection without answering.")
    lago_standin.clear_faults()

    response = connected.submit(f"/admin/tenants/{tenant_id}/sync", {}, follow_redirects=True)
    assert "Sync of Harbour Lights Ltd queued." in text_of(response)
    assert tenant(app, tenant_id).sync_attempts == 1  # kept until the sync succeeds
    run_worker(app)

    synced = tenant(app, tenant_id)
    assert synced.sync_state is SyncState.synced
    [customer] = customers_in_lago(lago_standin)
    assert customer["external_id"] == synced.external_id
    page = text_of(connected.get("/admin/tenants"))
    assert "synced" in page and "Sync again" in page

    # RQ's own retry, still scheduled, runs later without creating anything twice.
    scheduled = ScheduledJobRegistry(queue=sync_queue(app))
    redis_of(app).zadd(scheduled.key, {sync_job_id(app, tenant_id): time.time() - 1})
    run_worker(app, with_scheduler=True)
    assert [c["external_id"] for c in customers_in_lago(lago_standin)] == [synced.external_id]
    assert tenant(app, tenant_id).sync_state is SyncState.synced


def test_redis_down_at_sign_up_keeps_the_sign_up_and_the_sweeper_queues_it_later(
    app, connected, lago_standin
):
    redis_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{refusing_port()}/0"
    app.extensions.pop("pier_redis", None)
    try:
        client, tenant_id = sign_up(app)
    finally:
        app.config["REDIS_URL"] = redis_url
        app.extensions.pop("pier_redis", None)
    assert "Welcome to Pier. Your organisation is ready." in text_of(client.get("/"))

    pending = tenant(app, tenant_id)
    assert pending.sync_state is SyncState.pending
    assert sync_queue(app).count == 0

    from jobs import runtime

    runtime.use_app(app)
    assert sweep_pending_syncs() == 0  # not yet: a sync queued a moment ago may still run
    with app.app_context():
        row = db.session.get(Tenant, tenant_id)
        row.sync_next_attempt_at = row.sync_next_attempt_at - timedelta(minutes=3)
        db.session.commit()
    assert sweep_pending_syncs() == 1
    assert sync_queue(app).job_ids == [sync_job_id(app, tenant_id)]

    run_worker(app)
    synced = tenant(app, tenant_id)
    assert synced.sync_state is SyncState.synced
    assert customer_in_lago(lago_standin, synced.external_id)["email"] == EMAIL
    assert sweep_pending_syncs() == 0


def test_sign_up_before_lago_is_connected_syncs_once_it_is(app, admin, lago_standin):
    _, tenant_id = sign_up(app)
    assert sync_queue(app).count == 0
    assert tenant(app, tenant_id).sync_state is SyncState.pending

    connect(admin, lago_standin)
    assert sync_queue(app).job_ids == [sync_job_id(app, tenant_id)]
    run_worker(app)
    assert tenant(app, tenant_id).sync_state is SyncState.synced
    assert len(customers_in_lago(lago_standin)) == 1


ORGANISATION = {
    "name": "Harbour Lights Lda",
    "billing_email": "billing@harbour.example",
    "address_line1": "Rua das Flores 12",
    "address_line2": "",
    "city": "Lisboa",
    "zipcode": "1200-195",
    "state": "",
    "country": "PT",
    "tax_identification_number": "PT509999999",
    "timezone": SIGNUP_TIMEZONE,
}


def test_organisation_changes_are_pushed_to_lago(app, connected, lago_standin):
    client, tenant_id = sign_up(app)
    run_worker(app)
    page = text_of(client.get("/organisation/"))
    assert "Up to date" in page

    response = client.submit("/organisation/", ORGANISATION, follow_redirects=True)
    assert "Saved. Your billing account is being updated." in text_of(response)
    assert "Updating…" in text_of(response)
    assert tenant(app, tenant_id).sync_state is SyncState.pending
    run_worker(app)

    synced = tenant(app, tenant_id)
    assert synced.sync_state is SyncState.synced
    customer = customer_in_lago(lago_standin, synced.external_id)
    assert customer["name"] == "Harbour Lights Lda"
    assert customer["email"] == "billing@harbour.example"
    assert (customer["address_line1"], customer["city"], customer["zipcode"]) == (
        "Rua das Flores 12",
        "Lisboa",
        "1200-195",
    )
    assert customer["country"] == "PT"
    assert customer["tax_identification_number"] == "PT509999999"
    assert len(customer["metadata"]) == 2
    assert "Up to date" in text_of(client.get("/organisation/"))

    unchanged = client.submit("/organisation/", ORGANISATION, follow_redirects=True)
    assert "Nothing to change." in text_of(unchanged)
    assert sync_queue(app).count == 0


def test_a_lago_validation_error_is_shown_to_the_owner(
    app, connected, lago_standin, standin_config
):
    client, tenant_id = sign_up(app)
    run_worker(app)
    # The spec's email format would turn it into a 400 first; lago-api answers 422.
    standin_config(validate_requests=False)
    # Data Pier's forms would refuse today, kept from before: Lago refuses it with a 422.
    with app.app_context():
        stored = db.session.get(Tenant, tenant_id)
        stored.billing_email = "billing at harbour"
        customers.mark_for_sync(stored)
        db.session.commit()
    assert customers_request_sync(app, tenant_id) is not None
    run_worker(app)

    failed = tenant(app, tenant_id)
    assert failed.sync_state is SyncState.failed
    assert failed.sync_next_attempt_at is None  # the data must change; retrying cannot help
    assert FailedJobRegistry(queue=sync_queue(app)).count == 0
    page = text_of(client.get("/organisation/"))
    assert "Not updated yet" in page
    assert "Lago did not accept the data: email is not a valid email address." in page
    assert "Correct the values and try again." in page

    fixed = client.submit("/organisation/", ORGANISATION, follow_redirects=True)
    assert "Saved. Your billing account is being updated." in text_of(fixed)
    run_worker(app)
    assert tenant(app, tenant_id).sync_state is SyncState.synced
    assert (
        customer_in_lago(lago_standin, failed.external_id)["email"] == ORGANISATION["billing_email"]
    )


def customers_request_sync(app, tenant_id: int):
    with app.app_context():
        return customers.request_sync(tenant_id)


def test_the_organisation_form_offers_only_countries_lago_accepts(app, connected):
    client, _ = sign_up(app)
    response = client.submit("/organisation/", ORGANISATION | {"country": "XK"})
    assert response.status_code == 200
    assert "Not a valid choice" in text_of(response)

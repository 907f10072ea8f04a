"""A new organisation gets the plan the admin chose for new organisations, through the sync job."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.billing.customers import request_sync
from portal.extensions import db
from portal.models import SubscriptionMirror, SyncState, Tenant
from tests.integration.billing.support import connect, run_worker, signup_form, text_of

ALL_STATUSES = ("active", "pending", "terminated", "canceled")


def choose_plan_for_new_organisations(admin, code: str) -> None:
    """Import Lago's plans and pick one in Settings › Billing › Behaviour, as an admin would."""
    imported = admin.submit("/admin/plans/sync", {"import": "all"}, follow_redirects=True)
    assert "imported" in text_of(imported)
    saved = admin.submit(
        "/admin/settings/billing/behaviour",
        {
            "default_currency": "USD",
            "default_trial_days": "0",
            "auto_create_customers": "y",
            "default_plan_code": code,
            "lago_sends_invoice_emails": "y",
            "overage_enabled": "y",
            "trial_reminder_days": "3",
            "suspension_grace_days": "14",
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)


def sign_up(app, organisation: str) -> Tenant:
    response = app.test_client().submit(
        "/signup", signup_form(f"owner@{organisation.lower()}.example", organisation)
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return tenant_named(app, organisation)


def tenant_named(app, name: str) -> Tenant:
    with app.app_context():
        found = db.session.scalars(sa.select(Tenant).where(Tenant.name == name)).one()
        db.session.expunge(found)
        return found


def subscriptions_in_lago(lago_standin, external_customer_id: str) -> list[dict]:
    with lago_standin.client() as lago:
        reply = lago.get(
            "/subscriptions",
            params={"external_customer_id": external_customer_id, "status[]": ALL_STATUSES},
        )
    assert reply.status_code == 200, reply.text
    return reply.json()["subscriptions"]


def mirrored(app, tenant_id: int) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(sa.select(SubscriptionMirror).filter_by(tenant_id=tenant_id))
        return [(row.external_id, row.plan_code, row.status, row.trial_ends_at) for row in rows]


def test_a_new_organisation_gets_the_chosen_plan_with_its_trial_once(app, admin, lago_standin):
    lago_standin.seed()
    connect(admin, lago_standin)
    before = sign_up(app, "Earlybird")  # signed up before a plan was chosen
    choose_plan_for_new_organisations(admin, "starter")  # 14-day trial in Lago
    tenant = sign_up(app, "Harbour")
    assert tenant.plan_to_assign == "starter" and before.plan_to_assign is None

    run_worker(app)

    tenant = tenant_named(app, "Harbour")
    assert tenant.sync_state is SyncState.synced and tenant.plan_to_assign is None
    [subscription] = subscriptions_in_lago(lago_standin, tenant.external_id)
    assert subscription["external_id"] == f"{tenant.external_id}_subscription"
    assert (subscription["plan_code"], subscription["status"]) == ("starter", "active")
    assert subscription["trial_ended_at"] is None
    with lago_standin.client() as lago:
        invoices = lago.get("/invoices", params={"external_customer_id": tenant.external_id})
    assert invoices.json()["invoices"] == []  # in trial: nothing billed yet
    started = datetime.fromisoformat(subscription["started_at"])
    [(external_id, plan, status, trial_ends_at)] = mirrored(app, tenant.id)
    assert (external_id, plan, status) == (subscription["external_id"], "starter", "active")
    assert trial_ends_at == started + timedelta(days=14)
    assert subscriptions_in_lago(lago_standin, tenant_named(app, "Earlybird").external_id) == []

    # The job dies after Lago subscribed the tenant but before Pier recorded it: the retry
    # asks again with the same subscription id and Lago answers with the one it has.
    with app.app_context():
        db.session.get(Tenant, tenant.id).plan_to_assign = "starter"
        db.session.commit()
    with app.app_context():
        request_sync(tenant.id)
    run_worker(app)
    assert [s["lago_id"] for s in subscriptions_in_lago(lago_standin, tenant.external_id)] == [
        subscription["lago_id"]
    ]
    assert tenant_named(app, "Harbour").plan_to_assign is None
    assert len(mirrored(app, tenant.id)) == 1


def test_a_plan_lago_refuses_is_explained_and_retried_once_fixed(app, admin, lago_standin):
    lago_standin.seed()
    connect(admin, lago_standin)
    choose_plan_for_new_organisations(admin, "pro")
    with lago_standin.client() as lago:
        assert lago.delete("/plans/pro").status_code == 200
    tenant = sign_up(app, "Harbour")

    run_worker(app)

    failed = tenant_named(app, "Harbour")
    assert failed.sync_state is SyncState.failed and failed.plan_to_assign == "pro"
    assert failed.sync_last_error.startswith("The plan pro could not be given:")
    assert failed.lago_customer_id is not None  # the customer itself was written
    assert subscriptions_in_lago(lago_standin, tenant.external_id) == []
    assert "The plan pro could not be given" in text_of(admin.get("/admin/tenants"))

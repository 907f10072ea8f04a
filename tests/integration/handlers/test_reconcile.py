"""Reconciliation repairs the mirror from Lago when webhooks were lost, and says what it fixed."""

from __future__ import annotations

import sqlalchemy as sa

from jobs import reconcile as reconcile_jobs
from portal.extensions import db
from portal.models import AuditEntry, InvoiceMirror, SubscriptionMirror, SyncState, Tenant
from tests.integration.handlers.support import create_lago_customer, lago_call, rows


def _synced(app, tenant_id: int) -> None:
    with app.app_context():
        db.session.get(Tenant, tenant_id).sync_state = SyncState.synced
        db.session.commit()


def _repairs(app) -> list[list[str]]:
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "reconcile.fixed")
            .order_by(AuditEntry.id)
        )
        return [entry.after["fixed"] for entry in entries]


def test_lost_webhooks_are_repaired_and_the_repairs_are_audited(app, acme, connected):
    # No webhook endpoint is registered: Lago's webhooks about these changes never reach Pier.
    connected.seed()
    create_lago_customer(connected)
    _synced(app, acme.id)
    body = {
        "subscription": {
            "external_customer_id": acme.external_id,
            "plan_code": "starter",
            "external_id": "acme-main",
        }
    }
    created = lago_call(connected, "POST", "/subscriptions", json=body)["subscription"]
    assert rows(app, SubscriptionMirror) == []

    summary = reconcile_jobs.reconcile_all()

    assert summary == {"tenants": 1, "repaired": 1, "failed": 0}
    [row] = rows(app, SubscriptionMirror)
    assert (row.lago_id, row.plan_code, row.status) == (created["lago_id"], "starter", "active")
    [fixed] = _repairs(app)
    assert "subscription acme-main: missing" in fixed

    # Nothing drifted since: a second run repairs nothing.
    assert reconcile_jobs.reconcile_all() == {"tenants": 1, "repaired": 0, "failed": 0}
    assert len(_repairs(app)) == 1


def test_an_invoice_paid_while_webhooks_were_lost_is_brought_up_to_date(app, acme, connected):
    connected.seed()
    create_lago_customer(connected)
    _synced(app, acme.id)
    body = {
        "subscription": {
            "external_customer_id": acme.external_id,
            "plan_code": "starter",
            "external_id": "acme-main",
        }
    }
    lago_call(connected, "POST", "/subscriptions", json=body)
    connected.set_payments(external_customer_id=acme.external_id, default="failed")
    connected.advance(days=32)
    reconcile_jobs.reconcile_one(acme.id)
    invoices = rows(app, InvoiceMirror)
    assert invoices, "the stand-in billed the first period"
    target = invoices[0]
    assert target.payment_status == "failed"
    reply = lago_call(
        connected,
        "PUT",
        f"/invoices/{target.lago_id}",
        json={"invoice": {"payment_status": "succeeded"}},
    )
    assert reply["invoice"]["payment_status"] == "succeeded"

    fixed = reconcile_jobs.reconcile_one(acme.id)

    assert any(line.startswith("invoice ") and "payment_status" in line for line in fixed), fixed
    [after] = [i for i in rows(app, InvoiceMirror) if i.lago_id == target.lago_id]
    assert after.payment_status == "succeeded"


def test_a_customer_missing_in_lago_is_queued_for_sync(app, acme, connected):
    _synced(app, acme.id)
    fixed = reconcile_jobs.reconcile_one(acme.id)
    assert fixed == ["the Lago customer was missing: its sync is queued"]
    with app.app_context():
        assert db.session.get(Tenant, acme.id).sync_state is SyncState.pending


def test_reconcile_now_is_an_admin_action(app, as_role, connected):
    admin, _ = as_role("admin")
    response = admin.submit("/admin/reconcile", follow_redirects=True)
    assert response.status_code == 200
    assert b"Reconciliation queued." in response.data
    owner, _ = as_role("owner")
    assert owner.submit("/admin/reconcile").status_code == 403


def test_admin_alerts_show_on_the_dashboard_until_resolved(app, as_role):
    from portal.notify import notices

    with app.app_context():
        notices.raise_notice(
            "events-errors:test",
            tenant_id=None,
            kind="events_errors",
            title="Lago could not ingest 3 events",
            body="Check the metric codes.",
            level="warning",
        )
        db.session.commit()
        alert_id = notices.find("events-errors:test").id
    admin, _ = as_role("admin")
    page = admin.get("/admin/").get_data(as_text=True)
    assert "Lago could not ingest 3 events" in page
    owner, _ = as_role("owner")
    assert owner.submit(f"/admin/alerts/{alert_id}/resolve").status_code == 403
    assert admin.submit(f"/admin/alerts/{alert_id}/resolve").status_code == 303
    assert "Lago could not ingest 3 events" not in admin.get("/admin/").get_data(as_text=True)


def test_a_downgrade_scheduled_and_undone_while_webhooks_were_lost_is_repaired(
    app, acme, connected
):
    connected.seed()
    connected.travel_to("2030-01-10T09:00:00Z")
    create_lago_customer(connected)
    _synced(app, acme.id)
    for plan_code in ("business", "pro"):
        body = {
            "subscription": {
                "external_customer_id": acme.external_id,
                "plan_code": plan_code,
                "external_id": "acme-main",
            }
        }
        lago_call(connected, "POST", "/subscriptions", json=body)

    reconcile_jobs.reconcile_all()
    [active] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "active")
    assert (active.plan_code, active.pending_plan_code) == ("business", "pro")
    assert active.pending_plan_starts_at == active.downgrade_plan_date

    lago_call(connected, "DELETE", "/subscriptions/acme-main", params={"status": "pending"})
    reconcile_jobs.reconcile_all()
    [active] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "active")
    assert (active.pending_plan_code, active.pending_plan_starts_at) == (None, None)
    [canceled] = rows(app, SubscriptionMirror, SubscriptionMirror.status == "canceled")
    assert canceled.plan_code == "pro"
    assert "subscription acme-main: next_plan_code, pending_plan_code" in _repairs(app)[-1]

"""The mirror's upserts, called directly as reconciliation will: idempotent, newer wins, one row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from portal.billing import mirror
from portal.extensions import db
from portal.lago import Invoice, Subscription, Wallet
from portal.models import BillingAccount, InvoiceMirror, SubscriptionMirror, Tenant
from tests.integration.handlers.support import payload, rows

T0 = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)


def snapshot(name: str, **changes) -> Subscription:
    return Subscription.from_api(payload(name, **changes)["subscription"])


def test_the_same_snapshot_twice_is_one_unchanged_row(app, acme):
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        first = mirror.upsert_subscription(tenant, snapshot("subscription.started"), T0)
        again = mirror.upsert_subscription(tenant, snapshot("subscription.started"), T0)
        db.session.commit()
        assert first.applied and again.applied
        assert first.row.id == again.row.id
    assert len(rows(app, SubscriptionMirror)) == 1


def test_an_older_snapshot_is_refused_and_the_newer_kept(app, acme):
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        mirror.upsert_subscription(tenant, snapshot("subscription.terminated"), T0)
        older = mirror.upsert_subscription(
            tenant, snapshot("subscription.started"), T0 - timedelta(seconds=1)
        )
        db.session.commit()
        assert not older.applied
        assert older.row.status == "terminated"
        newer = mirror.upsert_subscription(
            tenant, snapshot("subscription.started"), T0 + timedelta(seconds=1)
        )
        assert newer.applied and newer.row.status == "active"


def test_invoices_follow_the_same_rule(app, acme):
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        failed = Invoice.from_api(payload("invoice.payment_status_updated")["invoice"])
        created = Invoice.from_api(payload("invoice.created")["invoice"])
        mirror.upsert_invoice(tenant, failed, mirror.invoice_said_at(failed))
        refused = mirror.upsert_invoice(tenant, created, mirror.invoice_said_at(created))
        db.session.commit()
        assert not refused.applied
    [row] = rows(app, InvoiceMirror)
    assert row.payment_status == "failed"


def test_billing_accounts_are_created_once_under_a_race(app, acme):
    barrier = threading.Barrier(8)
    seen: list[int] = []
    lock = threading.Lock()

    def race(locking: bool):
        with app.app_context():
            tenant = db.session.get(Tenant, acme.id)
            barrier.wait()
            account = mirror.billing_account(tenant, lock=locking)
            db.session.commit()
            with lock:
                seen.append(account.id)

    threads = [threading.Thread(target=race, args=(i % 2 == 0,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(seen) == 8 and len(set(seen)) == 1
    assert len(rows(app, BillingAccount)) == 1


def test_a_terminated_wallet_leaves_the_account(app, acme):
    body = payload("wallet.depleted_ongoing_balance")["wallet"]
    with app.app_context():
        tenant = db.session.get(Tenant, acme.id)
        mirror.update_wallet(
            tenant, Wallet.from_api({**body, "balance_cents": 700, "ongoing_balance_cents": 500})
        )
        db.session.commit()
        account = mirror.billing_account(tenant)
        assert (account.wallet_balance_cents, account.wallet_depleted_at) == (500, None)
        mirror.update_wallet(tenant, Wallet.from_api({**body, "status": "terminated"}))
        db.session.commit()
        account = mirror.billing_account(tenant)
        assert account.wallet_lago_id is None and account.wallet_balance_cents is None

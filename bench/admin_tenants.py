"""Admin tenant list benchmark: page, filter, search, CSV export and revenue card by tenant count.

Run with `python -m bench.admin_tenants` (`--help` for the options). On a fresh, migrated
PostgreSQL database it fills Pier's mirror with 100, then 10,000 tenants (each on one of three
plans, some trialing, pending, ended or in dunning, with an overdue invoice now and then) and
times, through the whole Flask stack, the list's first page, a filtered page, a search, the
revenue card (no Lago connected: every figure computed by Pier from the mirror) and the full
CSV export, with the export's rows and size. Nothing here calls Lago.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.invoices import log_in_test_client
from bench.webhooks import build_app, fresh_database, migrate, settings

PASSWORD = "bench passphrase 1"  # noqa: S105 (a throwaway account on a throwaway database)
ADMIN = "admin@bench.test"
NOW = datetime(2026, 4, 15, 12, 0, tzinfo=UTC)
PLANS = (("starter", 1900, "monthly"), ("pro", 9900, "monthly"), ("scale", 120000, "yearly"))


def make_admin_and_plans(app) -> None:
    from portal.extensions import db
    from portal.models import Plan, User

    with app.app_context():
        admin = User(email=ADMIN, name="Admin", is_platform_admin=True)
        admin.set_password(PASSWORD)
        db.session.add(admin)
        for code, cents, interval in PLANS:
            db.session.add(
                Plan(code=code, name=code.title(), amount_cents=cents, interval=interval)
            )
        db.session.commit()


def fill_tenants(app, count: int) -> None:
    """`count` tenants in the mirror, replacing any from an earlier round."""
    from portal.extensions import db
    from portal.models import (
        BillingAccount,
        DunningState,
        InvoiceMirror,
        SubscriptionMirror,
        Tenant,
    )

    with app.app_context():
        for model in (InvoiceMirror, SubscriptionMirror, BillingAccount, Tenant):
            db.session.execute(sa.delete(model))
        tenants = [
            {
                "name": f"Tenant {n:06d}",
                "external_id": f"bench_{n:06d}",
                "billing_email": f"billing{n}@bench.test",
                "timezone": "UTC",
                "custom_metadata": {},
                "sync_state": "synced",
                "sync_attempts": 0,
                "created_at": NOW - timedelta(days=n % 400),
                "updated_at": NOW,
            }
            for n in range(count)
        ]
        for at in range(0, count, 2000):
            db.session.execute(sa.insert(Tenant), tenants[at : at + 2000])
        ids = list(db.session.scalars(sa.select(Tenant.id).order_by(Tenant.id)))
        subscriptions, accounts, invoices = [], [], []
        for n, tenant_id in enumerate(ids):
            started = NOW - timedelta(days=n % 90)
            status = "terminated" if n % 17 == 0 else "pending" if n % 23 == 0 else "active"
            subscriptions.append(
                {
                    "tenant_id": tenant_id,
                    "external_id": f"bench_{n:06d}_subscription",
                    "lago_id": f"sub-{n:06d}",
                    "plan_code": PLANS[n % 3][0],
                    "status": status,
                    "started_at": started,
                    "trial_ends_at": started + timedelta(days=14) if n % 7 == 0 else None,
                    "terminated_at": NOW - timedelta(days=n % 20)
                    if status == "terminated"
                    else None,
                    "source_at": NOW,
                    "created_at": started,
                    "updated_at": NOW,
                }
            )
            dunning = DunningState.overdue if n % 29 == 0 else DunningState.ok
            accounts.append(
                {
                    "tenant_id": tenant_id,
                    "dunning_state": dunning,
                    "dunning_since": NOW if dunning is not DunningState.ok else None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            if dunning is not DunningState.ok:
                invoices.append(
                    {
                        "tenant_id": tenant_id,
                        "lago_id": f"inv-{n:06d}",
                        "status": "finalized",
                        "payment_status": "failed",
                        "payment_overdue": True,
                        "currency": "USD",
                        "total_amount_cents": 9900,
                        "total_due_amount_cents": 9900,
                        "taxes_amount_cents": 0,
                        "file_available": False,
                        "source_at": NOW,
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                )
        for model, rows in (
            (SubscriptionMirror, subscriptions),
            (BillingAccount, accounts),
            (InvoiceMirror, invoices),
        ):
            for at in range(0, len(rows), 2000):
                db.session.execute(sa.insert(model), rows[at : at + 2000])
        db.session.commit()
        for table in ("tenants", "subscriptions", "billing_accounts", "invoices"):
            db.session.execute(sa.text(f"ANALYZE {table}"))
        db.session.commit()


def timed(client, url: str, repeat: int) -> tuple[float, bytes]:
    """Median milliseconds of `repeat` GETs (after one warm-up), and the first body."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    body = first.get_data()
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        client.get(url).get_data()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from tests.servers import claimed_redis_database

    with claimed_redis_database() as redis_url, fresh_database() as database_url:
        app = build_app(settings(database_url, redis_url))
        migrate(app)
        make_admin_and_plans(app)
        client = log_in_test_client(app, ADMIN)
        print(f"Admin tenant list (median of {args.repeat}, PostgreSQL, in-process Flask):")
        for count in args.counts:
            fill_tenants(app, count)
            pages = {
                "first page": "/admin/tenants",
                "status + dunning filter": "/admin/tenants?status=active&dunning=overdue",
                "search by name": "/admin/tenants?q=000042",
                "revenue card": "/admin/tenants/revenue",
            }
            for label, url in pages.items():
                ms, body = timed(client, url, args.repeat)
                rows = body.count(b"<tr data-tenant=")
                print(f"  {count:>6} tenants, {label:<24} {ms:8.1f} ms ({rows} rows)")
            ms, body = timed(client, "/admin/tenants.csv", max(1, args.repeat // 2))
            lines = body.count(b"\n") - 1
            print(
                f"  {count:>6} tenants, {'CSV export':<24} {ms:8.1f} ms "
                f"({lines} rows, {len(body) / 1024:.0f} KiB)"
            )


if __name__ == "__main__":
    main()

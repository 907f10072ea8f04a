"""Tenants in every state the admin list tells apart, written straight into Pier's mirror."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import (
    BillingAccount,
    DunningState,
    InvoiceMirror,
    Plan,
    SubscriptionMirror,
    Tenant,
)
from tests.integration.billing.conftest import admin, no_proxy  # noqa: F401
from tests.integration.handlers.conftest import connected  # noqa: F401

SAID = datetime(2026, 4, 15, 11, 0, tzinfo=UTC)


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 9, 0, tzinfo=UTC)


def _subscription(tenant: Tenant, plan: str, status: str, **dates) -> SubscriptionMirror:
    return SubscriptionMirror(
        tenant_id=tenant.id,
        external_id=f"{tenant.external_id}_subscription",
        lago_id=f"sub-{tenant.external_id}-{status}",
        plan_code=plan,
        status=status,
        source_at=SAID,
        **dates,
    )


@pytest.fixture
def mirror(app):
    """Six tenants on 15 April 2026 (the tests' clock): their names by what they show.

    acme: active on Starter ($19/month) since January.  beta: active on Pro yearly ($1,200/year,
    so $100/month) since 2 April, overdue with one $50 invoice.  gamma: trialing on Pro yearly
    since 10 April.  delta: Starter ended on 3 April.  echo: Weekly (EUR) starting later.
    formula: a name a spreadsheet would run, no subscription ever.
    """
    with app.app_context():
        db.session.add_all(
            [
                Plan(code="starter", name="Starter", amount_cents=1900, interval="monthly"),
                Plan(code="pro_yearly", name="Pro", amount_cents=120000, interval="yearly"),
                Plan(
                    code="weekly",
                    name="Weekly",
                    amount_cents=1000,
                    interval="weekly",
                    currency="EUR",
                ),
            ]
        )
        names = {
            "acme": "Acme Inc.",
            "beta": "Beta Labs",
            "gamma": "Gamma Co",
            "delta": "Delta Ltd",
            "echo": "Echo GmbH",
            "formula": '=HYPERLINK("http://x")',
        }
        tenants = {key: Tenant(name=name, external_id=f"org_{key}") for key, name in names.items()}
        db.session.add_all(tenants.values())
        db.session.flush()
        db.session.add_all(
            [
                _subscription(tenants["acme"], "starter", "active", started_at=at(1, 5)),
                _subscription(tenants["beta"], "pro_yearly", "active", started_at=at(4, 2)),
                _subscription(
                    tenants["gamma"],
                    "pro_yearly",
                    "active",
                    started_at=at(4, 10),
                    trial_ends_at=at(4, 24),
                ),
                _subscription(
                    tenants["delta"],
                    "starter",
                    "terminated",
                    started_at=at(2, 1),
                    terminated_at=at(4, 3),
                ),
                _subscription(tenants["echo"], "weekly", "pending", subscription_at=at(5, 1)),
                BillingAccount(
                    tenant_id=tenants["beta"].id,
                    dunning_state=DunningState.overdue,
                    dunning_since=at(4, 10),
                ),
                BillingAccount(tenant_id=tenants["acme"].id, dunning_state=DunningState.ok),
                InvoiceMirror(
                    tenant_id=tenants["beta"].id,
                    lago_id="inv-beta-1",
                    status="finalized",
                    payment_status="failed",
                    payment_overdue=True,
                    currency="USD",
                    total_amount_cents=5000,
                    total_due_amount_cents=5000,
                    source_at=SAID,
                ),
                InvoiceMirror(
                    tenant_id=tenants["acme"].id,
                    lago_id="inv-acme-1",
                    status="finalized",
                    payment_status="succeeded",
                    currency="USD",
                    total_amount_cents=1900,
                    total_due_amount_cents=0,
                    source_at=SAID,
                ),
            ]
        )
        db.session.commit()
        return {key: t.id for key, t in tenants.items()}

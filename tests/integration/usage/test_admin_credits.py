"""Platform admins grant free credits from the tenant's admin page; each grant is audited."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import AuditEntry, BillingAccount
from tests.integration.handlers.support import lago_call


@pytest.fixture
def admin(as_role):
    client, _ = as_role("admin")
    return client


def test_a_grant_opens_the_wallet_and_counts_at_once(app, admin, connected, subscribed):
    page = admin.get(f"/admin/tenants/{subscribed.id}")
    assert "No wallet yet" in page.get_data(as_text=True)
    response = admin.submit(
        f"/admin/tenants/{subscribed.id}/credits", {"credits": "12.5", "reason": "Outage credit"}
    )
    assert response.status_code == 303
    [wallet] = lago_call(
        connected, "GET", "/wallets", params={"external_customer_id": "pier_acme"}
    )["wallets"]
    assert (wallet["currency"], wallet["credits_balance"]) == ("USD", "12.5")
    [granted] = lago_call(connected, "GET", f"/wallets/{wallet['lago_id']}/wallet_transactions")[
        "wallet_transactions"
    ]
    assert (granted["transaction_status"], granted["status"], granted["name"]) == (
        "granted",
        "settled",
        "Outage credit",
    )
    with app.app_context():
        account = db.session.scalar(db.select(BillingAccount).filter_by(tenant_id=subscribed.id))
        assert account.wallet_balance_cents == 1250
        entry = db.session.scalar(db.select(AuditEntry).filter_by(action="wallet.grant"))
        assert entry.tenant_id == subscribed.id and entry.after["reason"] == "Outage credit"
    assert "$12.50" in admin.get(f"/admin/tenants/{subscribed.id}").get_data(as_text=True)


def test_a_grant_without_a_reason_is_refused(admin, subscribed):
    response = admin.submit(f"/admin/tenants/{subscribed.id}/credits", {"credits": "5"})
    assert response.status_code == 422
    assert 'class="field-error"' in response.get_data(as_text=True)


def test_an_unknown_tenant_is_404(admin, subscribed):
    assert admin.get("/admin/tenants/999999").status_code == 404


def test_tenants_cannot_grant_themselves_credits(client_as, subscribed):
    response = client_as("owner").submit(
        f"/admin/tenants/{subscribed.id}/credits", {"credits": "5", "reason": "why not"}
    )
    assert response.status_code in (403, 404)

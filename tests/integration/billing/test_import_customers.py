"""`flask lago import-customers`: customers an older integration keyed by a user id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.billing import reconcile
from portal.billing.connection import lago_client
from portal.billing.customer_import import history
from portal.extensions import db
from portal.models import AuditEntry, SubscriptionMirror, Tenant
from portal.webhooks.handlers.tenants import named
from tests.integration.billing.test_lago_cli import invoke
from tests.integration.handlers.conftest import connected  # noqa: F401
from tests.integration.handlers.support import lago_call
from tests.sandbox.billing_helpers import coupon_body

TENANTS = {
    # external id: (name, billing email, metadata)
    "org_acme": ("Acme Inc.", "accounts@acme.test", {"created_by_user_id": "user_1"}),
    "org_beta": ("Beta Labs", "billing@beta.test", {}),
    "org_gamma": ("Gamma Co", "shared@group.test", {}),
    "org_gamma2": ("Gamma Two", "shared@group.test", {}),
    "org_delta": ("Delta Ltd", None, {"created_by_user_id": "user_4"}),
    "org_echo": ("Echo GmbH", "money@echo.test", {}),
}


def customer(standin, external_id: str, email: str | None = None, plan: str | None = None):
    body = {"external_id": external_id, "name": f"Old {external_id}", "currency": "USD"}
    if email:
        body["email"] = email
    lago_call(standin, "POST", "/customers", json={"customer": body})
    if plan:
        lago_call(
            standin,
            "POST",
            "/subscriptions",
            json={
                "subscription": {
                    "external_customer_id": external_id,
                    "external_id": f"{external_id}_sub",
                    "plan_code": plan,
                }
            },
        )


def lago_status(standin, external_id: str) -> int:
    with standin.client() as client:
        return client.get(f"/customers/{external_id}").status_code


@pytest.fixture
def world(app, connected):  # noqa: F811
    """Pier's tenants, and Lago's customers from before Pier (see each line)."""
    connected.seed()
    with app.app_context():
        for external_id, (name, email, metadata) in TENANTS.items():
            db.session.add(
                Tenant(
                    name=name,
                    external_id=external_id,
                    billing_email=email,
                    custom_metadata=metadata,
                )
            )
        db.session.commit()
    customer(connected, "user_1", "someone@acme.test")  # Acme's by user id; no history: re-key
    customer(connected, "user_2", "BILLING@beta.test", plan="starter")  # Beta's by email: map
    customer(connected, "org_beta")  # the empty customer Pier made for Beta already
    customer(connected, "user_3", "shared@group.test")  # two tenants share the email
    customer(connected, "user_4", plan="starter")  # Delta's by user id, with history...
    customer(connected, "org_delta", plan="pro")  # ...and so has Delta's own customer
    customer(connected, "user_5", "money@echo.test")  # Echo's by email, with a wallet: map
    wallet = {"external_customer_id": "user_5", "currency": "USD", "rate_amount": "1"}
    lago_call(connected, "POST", "/wallets", json={"wallet": wallet})
    customer(connected, "user_9", "stranger@else.test")  # nobody's
    return connected


EXPECTED_PLAN = [
    "  rekey      user_1 → Acme Inc. (org_acme, by user id): no billing history: Pier creates "
    "org_acme and deletes user_1",
    "  map        user_2 → Beta Labs (org_beta, by billing email): has 1 subscription, which Lago "
    "keeps under user_2: Pier uses user_2 for this tenant",
    "  ambiguous  user_3: matches Gamma Co, Gamma Two",
    "  map        user_5 → Echo GmbH (org_echo, by billing email): has 1 wallet, which Lago "
    "keeps under user_5: Pier uses user_5 for this tenant",
    "  conflict   user_4 → Delta Ltd (org_delta, by user id): both user_4 (1 subscription) and "
    "org_delta (1 subscription, 1 invoice) have billing history; Lago cannot merge customers",
    "  unmatched  user_9: no tenant has this user id or email",
]


def test_dry_run_prints_the_plan_and_changes_nothing(app, world):
    result = invoke(app, "lago", "import-customers", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sorted(lines[:-1]) == sorted(EXPECTED_PLAN)
    assert lines[-1] == (
        "Customers: 1 rekey, 2 map, 2 keyed, 1 unmatched, 1 ambiguous, 1 conflict "
        "(dry run: nothing changed)."
    )
    assert lago_status(world, "user_1") == 200 and lago_status(world, "org_acme") == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
        assert (
            db.session.scalar(
                sa.select(Tenant.legacy_external_id).where(Tenant.external_id == "org_beta")
            )
            is None
        )


def test_import_rekeys_or_maps_each_match_audited_and_a_second_run_changes_nothing(
    app, world, admin
):
    result = invoke(app, "lago", "import-customers")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "Customers: 1 rekey, 2 map, 2 keyed, 1 unmatched, 1 ambiguous, 1 conflict."
    )
    # Re-keyed: Acme's customer now lives under Acme's id, written by Pier's sync.
    assert lago_status(world, "user_1") == 404
    acme = lago_call(world, "GET", "/customers/org_acme")["customer"]
    assert (acme["name"], acme["email"], acme["currency"]) == (
        "Acme Inc.",
        "accounts@acme.test",
        "USD",
    )
    # Mapped: Beta keeps Lago's user_2 (with its subscription); Pier's empty one is gone.
    assert lago_status(world, "org_beta") == 404
    assert lago_call(world, "GET", "/customers/user_2")["customer"]["name"] == "Beta Labs"
    with app.app_context():
        beta = db.session.scalar(sa.select(Tenant).where(Tenant.external_id == "org_beta"))
        assert beta.legacy_external_id == "user_2" and beta.customer_external_id == "user_2"
        assert db.session.scalar(sa.select(Tenant).where(named("user_2"))) is beta
        reconcile.reconcile_tenant(beta)  # Pier reads the mapped customer's subscription
        db.session.commit()
        mirrored = db.session.scalars(
            sa.select(SubscriptionMirror.external_id).where(SubscriptionMirror.tenant_id == beta.id)
        ).all()
        assert mirrored == ["user_2_sub"]
        entries = {
            e.action: e for e in db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))
        }
        assert {"lago.customer_rekeyed", "lago.customer_mapped"} <= set(entries)
        assert entries["lago.customer_mapped"].before == {
            "lago_customer": "org_beta",
            "replaced": "user_2",
        }
        assert entries["lago.customer_mapped"].after == {
            "lago_customer": "user_2",
            "matched_by": "billing email",
        }
        delta = db.session.scalar(sa.select(Tenant).where(Tenant.external_id == "org_delta"))
        assert delta.legacy_external_id is None  # the conflict was left alone

    found = admin.get("/admin/tenants?q=USER_2").get_data(as_text=True)
    assert '<tr data-tenant="org_beta">' in found and found.count("<tr data-tenant=") == 1
    assert "Lago customer <code data-legacy>user_2</code>" in found

    again = invoke(app, "lago", "import-customers")
    assert again.exit_code == 0, again.output
    assert again.output.splitlines()[-1] == (
        "Customers: 0 rekey, 0 map, 4 keyed, 1 unmatched, 1 ambiguous, 1 conflict."
    )


def test_import_needs_a_connection(app):
    result = invoke(app, "lago", "import-customers", "--dry-run")
    assert result.exit_code == 1
    assert "Billing is not connected yet." in result.output


def test_a_customer_whose_only_history_is_an_applied_coupon_is_not_deleted(app, connected):  # noqa: F811
    """Re-keying deletes the old customer; a coupon applied to it would go with it."""
    connected.seed()
    customer(connected, "user_9", "nine@coupon.test")
    lago_call(connected, "POST", "/coupons", json={"coupon": coupon_body("welcome")})
    applied = {"external_customer_id": "user_9", "coupon_code": "welcome"}
    lago_call(connected, "POST", "/applied_coupons", json={"applied_coupon": applied})
    customer(connected, "user_10", "ten@plain.test")
    with app.app_context():
        assert history(lago_client(), "user_9") == ["1 applied coupon"]
        assert history(lago_client(), "user_10") == []

"""Wallet webhooks (prepaid credits on the billing account) and Lago's rejected usage events."""

from __future__ import annotations

from decimal import Decimal

from portal.lago import LagoClient
from portal.models import BillingAccount, Notice
from tests.integration.handlers.support import (
    EXTERNAL_ID,
    create_lago_customer,
    deliver,
    lago_call,
    payload,
    rows,
)


def open_wallet_notices(app) -> list[Notice]:
    return [n for n in rows(app, Notice) if n.kind == "wallet_depleted" and not n.resolved_at]


def create_wallet(standin, credits: str = "25.0") -> dict:
    body = {
        "wallet": {
            "external_customer_id": "pier_acme",
            "rate_amount": "1.0",
            "currency": "USD",
            "name": "Prepaid credits",
            "granted_credits": credits,
        }
    }
    return lago_call(standin, "POST", "/wallets", json=body)["wallet"]


def test_granted_credits_show_the_balance_lago_holds(app, acme, outbox):
    create_lago_customer(outbox.standin)
    wallet = create_wallet(outbox.standin)
    handled = dict(outbox.dispatch_new())
    assert handled["wallet.created"].outcome == "ignored"
    assert handled["wallet_transaction.created"].note is None
    [account] = rows(app, BillingAccount)
    assert account.wallet_lago_id == wallet["lago_id"]
    assert account.wallet_balance_cents == 2500
    assert account.wallet_credits == "25.0"
    assert account.wallet_currency == "USD"
    assert account.wallet_depleted_at is None


def test_paid_credits_count_once_their_invoice_is_paid(app, acme, outbox):
    create_lago_customer(outbox.standin)
    wallet = create_wallet(outbox.standin, credits="0")
    outbox.standin.set_payments(EXTERNAL_ID, outcomes=["failed", "succeeded"])
    with LagoClient(outbox.standin.url, outbox.standin.api_key, max_retries=0) as lago:
        paid, granted = lago.top_up_wallet(
            wallet["lago_id"], paid_credits="20", granted_credits=Decimal("5")
        )
    assert (paid.transaction_status, paid.status, paid.settled_at) == ("purchased", "pending", None)
    assert (granted.transaction_status, granted.status) == ("granted", "settled")
    outbox.dispatch_new()
    # The purchase is not paid yet: only the granted credits are on the account.
    assert rows(app, BillingAccount)[0].wallet_balance_cents == 500

    lago_call(outbox.standin, "POST", f"/invoices/{paid.lago_invoice_id}/retry_payment")
    handled = dict(outbox.dispatch_new())
    assert handled["wallet_transaction.updated"].note is None
    assert rows(app, BillingAccount)[0].wallet_balance_cents == 2500


def test_a_stale_depletion_hint_is_checked_with_lago(app, acme, outbox):
    create_lago_customer(outbox.standin)
    wallet = create_wallet(outbox.standin)
    hint = payload(
        "wallet.depleted_ongoing_balance",
        lago_id=wallet["lago_id"],
        lago_customer_id=wallet["lago_customer_id"],
        currency="USD",
    )
    assert deliver(app, hint).note is None
    [account] = rows(app, BillingAccount)
    assert account.wallet_balance_cents == 2500
    assert open_wallet_notices(app) == []


def test_with_lago_down_a_depleted_wallet_is_told_from_the_copy(app, acme, lago_down):
    outcome = deliver(app, payload("wallet.depleted_ongoing_balance"))
    assert "Used the webhook's copy of the wallet" in outcome.note
    [account] = rows(app, BillingAccount)
    assert account.wallet_balance_cents == 0
    assert account.wallet_depleted_at is not None
    [notice] = open_wallet_notices(app)
    assert notice.title == "Your prepaid credits are used up"

    later = deliver(app, payload("wallet_transaction.created"))
    assert "Kept the mirrored wallet balance" in later.note
    assert rows(app, BillingAccount)[0].wallet_balance_cents == 0


def test_a_top_up_read_from_lago_closes_the_depletion_notice(app, acme, connected):
    create_lago_customer(connected)
    wallet = create_wallet(connected, credits="10.0")
    connected.set_faults(down="503", path_prefix="/api/v1/wallets")
    depleted = payload("wallet.depleted_ongoing_balance", lago_id=wallet["lago_id"])
    deliver(app, depleted)
    assert len(open_wallet_notices(app)) == 1
    connected.clear_faults()
    top_up = payload("wallet_transaction.created", lago_wallet_id=wallet["lago_id"])
    del top_up["wallet_transaction"]["wallet"]
    assert deliver(app, top_up).note is None
    assert rows(app, BillingAccount)[0].wallet_balance_cents == 1000
    assert open_wallet_notices(app) == []


def test_a_transaction_for_an_unknown_wallet_is_noted(app, acme, lago_down):
    body = payload("wallet_transaction.updated")
    del body["wallet_transaction"]["wallet"]
    outcome = deliver(app, body)
    assert "No tenant holds the wallet" in outcome.note
    assert rows(app, BillingAccount) == []


def test_rejected_usage_events_keep_one_admin_notice_up_to_date(app):
    deliver(app, payload("events.errors"))
    [notice] = rows(app, Notice)
    assert notice.tenant_id is None
    assert notice.title == "Lago could not bill 5 usage events"
    assert (
        "4 with a metric code Lago does not know (txn_0001, txn_0002, txn_0003, …)" in notice.body
    )
    assert "1 without the property their metric adds up (txn_0005)" in notice.body

    deliver(
        app, payload("events.errors", invalid_code=["txn_0100"], missing_aggregation_property=[])
    )
    [notice] = rows(app, Notice)
    assert notice.title == "Lago could not bill 1 usage event"

"""Prepaid credits: the balances and transactions from Lago, and a customer's top-up as an
operation that leaves a credit invoice, paid or failed."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.models import AuditEntry, BillingAccount, Operation, OperationState
from tests.integration.handlers.support import lago_call

DETAILS = {"HX-Request": "true", "HX-Target": "wallet-details"}


def _top_up(client, credits: str, key: str = "k" * 20):
    page = client.get("/wallet/")
    assert page.status_code == 200
    return client.submit("/wallet/top-up", {"credits": credits, "key": key})


def _credit_invoice(standin) -> str:
    """The credit invoice Lago issued for the one top-up."""
    [invoice] = lago_call(standin, "GET", "/invoices", params={"invoice_type": "credit"})[
        "invoices"
    ]
    return invoice["lago_id"]


def _transactions(client) -> list[tuple[str, str, str]]:
    html = client.get("/wallet/details", headers=DETAILS).get_data(as_text=True)
    rows = re.findall(r'<tr data-transaction="[^"]+" data-status="(\w+)">(.*?)</tr>', html, re.S)
    found = []
    for status, row in rows:
        cells = [
            re.sub(r"<[^>]+>|\s+", " ", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        found.append((status, cells[1], cells[2]))
    return found


def test_no_wallet_yet(client_as):
    client = client_as("member")
    assert "You have no credits yet." in client.get("/wallet/").get_data(as_text=True)
    html = client.get("/wallet/details", headers=DETAILS).get_data(as_text=True)
    assert "your first top-up opens it" in html


def test_members_see_credits_but_cannot_buy_them(client_as):
    assert 'id="top-up-form"' not in client_as("member").get("/wallet/").get_data(as_text=True)
    assert (
        client_as("member").submit("/wallet/top-up", {"credits": "5", "key": "k" * 20}).status_code
        == 403
    )


def test_a_paid_top_up_settles_its_credits(app, client_as, connected, subscribed):
    client = client_as("billing_admin")
    response = _top_up(client, "25")
    assert response.status_code == 303
    operation_id = int(response.headers["Location"].split("operation=")[1])
    with app.app_context():
        operation = db.session.get(Operation, operation_id)
        assert operation.state is OperationState.confirmed
        assert "25.00 credits are ordered" in operation.message
        assert db.session.scalar(db.select(AuditEntry).filter_by(action="wallet.top_up"))
    assert _transactions(client) == [("pending", "Bought", "25")]
    invoice_id = _credit_invoice(connected)
    html = client.get("/wallet/details", headers=DETAILS).get_data(as_text=True)
    assert f'action="/cards/fix/pay/{invoice_id}"' in html  # its own Pay now

    invoice = lago_call(connected, "GET", f"/invoices/{invoice_id}")["invoice"]
    assert invoice["invoice_type"] == "credit" and invoice["total_amount_cents"] == 2500
    lago_call(
        connected,
        "PUT",
        f"/invoices/{invoice_id}",
        json={"invoice": {"payment_status": "succeeded"}},
    )
    assert _transactions(client) == [("settled", "Bought", "25")]
    html = client.get("/wallet/details", headers=DETAILS).get_data(as_text=True)
    assert 'id="wallet-balance">$25.00' in html
    with app.app_context():
        account = db.session.scalar(db.select(BillingAccount).filter_by(tenant_id=subscribed.id))
        assert account.wallet_credits is not None


def test_a_failed_payment_leaves_the_credits_failed(app, client_as, connected):
    client = client_as("owner")
    response = _top_up(client, "10.50")
    assert response.status_code == 303
    invoice_id = _credit_invoice(connected)
    lago_call(
        connected, "PUT", f"/invoices/{invoice_id}", json={"invoice": {"payment_status": "failed"}}
    )
    assert _transactions(client) == [("failed", "Bought", "10.5")]
    assert "$0.00" in client.get("/wallet/details", headers=DETAILS).get_data(as_text=True)


def test_a_top_up_lago_refuses_fails_and_changes_nothing(app, client_as, connected):
    connected.set_faults(down="503", path_prefix="/api/v1/wallet_transactions")
    response = _top_up(client_as("owner"), "5")
    with app.app_context():
        operation = db.session.get(Operation, int(response.headers["Location"].split("=")[1]))
        assert operation.state is OperationState.failed
        assert operation.message
    connected.clear_faults()
    assert _transactions(client_as("owner")) == []


def test_the_same_form_twice_buys_once(app, client_as, connected):
    client = client_as("owner")
    _top_up(client, "5", key="same-key-0123456789")
    _top_up(client, "5", key="same-key-0123456789")
    assert _transactions(client) == [("pending", "Bought", "5")]


@pytest.mark.parametrize("credits", ["", "0", "-3", "abc", "1.234", "2000000"])
def test_bad_amounts_are_refused_with_a_sentence(client_as, credits):
    response = _top_up(client_as("owner"), credits)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and 'class="field-error"' in html

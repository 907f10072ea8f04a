"""Pay now on one invoice (the invoice page) and on a top-up's credit invoice (the wallet):
the default card charged again, or Lago's payment page when the bank asks to confirm."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.models import InvoiceMirror, Operation, User
from tests.conftest import log_in
from tests.integration.billing.support import text_of
from tests.integration.cards.conftest import save_card
from tests.integration.cards.test_fix import declined  # noqa: F401
from tests.integration.handlers.support import lago_call

PAY_FORM = 'id="pay-now"'


def _client(app, email: str):
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(email=email))
        return log_in(app.test_client(), SimpleNamespace(id=user.id))


def _unpaid(app) -> str:
    with app.app_context():
        [lago_id] = db.session.scalars(
            sa.select(InvoiceMirror.lago_id).where(InvoiceMirror.payment_status != "succeeded")
        )
        return lago_id


def _pay_now(client, lago_id: str, key: str):
    return client.submit(f"/cards/fix/pay/{lago_id}", {"key": key})


def test_pay_now_retries_the_invoice_with_the_default_card(
    app,
    acme,
    declined,  # noqa: F811
    outbox,
    stripe_keys,
):
    lago_id = _unpaid(app)
    page = text_of(declined.get(f"/invoices/{lago_id}"))
    assert "Payment failed" in page
    assert PAY_FORM in declined.get(f"/invoices/{lago_id}").get_data(as_text=True)

    intent = save_card(stripe_keys, declined, "pm_card_visa")
    declined.get(f"/cards/added?setup_intent={intent}")
    stripe_keys.settle()

    answer = _pay_now(declined, lago_id, "pay-now-key-00000001")
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert "/cards/fix?operation=" in location
    with app.app_context():
        operation = db.session.get(Operation, int(location.split("operation=")[1]))
        assert operation.params == {"invoices": [lago_id]}
    assert "Sent for payment" in text_of(declined.get(location))

    outbox.dispatch_new()
    assert "Paid." in text_of(declined.get(location))
    paid = declined.get(f"/invoices/{lago_id}").get_data(as_text=True)
    assert ">Paid<" in paid and PAY_FORM not in paid
    # Nothing left to pay: a second Pay now is refused with a sentence, nothing sent.
    again = _pay_now(declined, lago_id, "pay-now-key-00000002")
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/invoices/{lago_id}")
    assert "nothing left to pay" in text_of(declined.get(f"/invoices/{lago_id}"))


def test_a_payment_waiting_for_the_bank_goes_to_its_payment_page(
    app,
    acme,
    declined,  # noqa: F811
    outbox,
    stripe_keys,
):
    with outbox.standin.control() as http:
        body = {"external_customer_id": "pier_acme", "outcomes": ["requires_action"] * 2}
        assert http.put("/payments", json=body).status_code == 200
    intent = save_card(stripe_keys, declined, "pm_card_visa")
    declined.get(f"/cards/added?setup_intent={intent}")
    stripe_keys.settle()
    lago_id = _unpaid(app)
    # Off session the bank refuses; on the next attempt it asks for 3-D Secure.
    assert _pay_now(declined, lago_id, "pay-now-key-00000003").status_code == 303
    assert _pay_now(declined, lago_id, "pay-now-key-00000010").status_code == 303
    outbox.dispatch_new()  # payment.requires_action: the invoice waits for the customer

    answer = _pay_now(declined, lago_id, "pay-now-key-00000004")
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/cards/fix/pay/{lago_id}")
    onward = declined.get(answer.headers["Location"])
    assert onward.status_code == 303
    assert not onward.headers["Location"].startswith("http://localhost/")


def test_members_see_the_status_but_cannot_pay(app, acme, declined):  # noqa: F811
    lago_id = _unpaid(app)
    member = _client(app, acme.member)
    page = member.get(f"/invoices/{lago_id}").get_data(as_text=True)
    assert "Payment failed" in page and PAY_FORM not in page
    assert _pay_now(member, lago_id, "pay-now-key-00000005").status_code == 403


def test_another_tenants_invoice_and_a_forged_form(app, acme, declined, make_person):  # noqa: F811
    lago_id = _unpaid(app)
    stranger = log_in(app.test_client(), make_person("owner", tenant_name="Other Org"))
    assert _pay_now(stranger, lago_id, "pay-now-key-00000006").status_code == 404
    assert _pay_now(declined, "no-such-invoice", "pay-now-key-00000007").status_code == 404
    forged = declined.post(
        f"/cards/fix/pay/{lago_id}", data={"key": "pay-now-key-00000008", "csrf_token": "forged"}
    )
    assert forged.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Operation.id))) == 0


@pytest.fixture
def top_up_invoice(declined):  # noqa: F811
    """The owner's top-up of 25 credits, charged to the card that is declined."""
    declined.get("/wallet/")
    answer = declined.submit("/wallet/top-up", {"credits": "25", "key": "t" * 20})
    assert answer.status_code == 303
    return declined


def test_the_top_up_invoice_has_its_own_pay_now(app, acme, top_up_invoice, outbox, stripe_keys):
    [invoice] = lago_call(outbox.standin, "GET", "/invoices", params={"invoice_type": "credit"})[
        "invoices"
    ]
    details = {"HX-Request": "true", "HX-Target": "wallet-details"}
    html = top_up_invoice.get("/wallet/details", headers=details).get_data(as_text=True)
    assert f'action="/cards/fix/pay/{invoice["lago_id"]}"' in html
    member = _client(app, acme.member)
    member_html = member.get("/wallet/details", headers=details).get_data(as_text=True)
    assert "Payment failed" in member_html and "/cards/fix/pay/" not in member_html

    intent = save_card(stripe_keys, top_up_invoice, "pm_card_visa")
    top_up_invoice.get(f"/cards/added?setup_intent={intent}")
    stripe_keys.settle()

    answer = _pay_now(top_up_invoice, invoice["lago_id"], "pay-now-key-00000009")
    assert answer.status_code == 303 and "/cards/fix?operation=" in answer.headers["Location"]
    outbox.dispatch_new()
    assert "Paid." in text_of(top_up_invoice.get(answer.headers["Location"]))
    html = top_up_invoice.get("/wallet/details", headers=details).get_data(as_text=True)
    assert 'data-status="settled"' in html and "/cards/fix/pay/" not in html

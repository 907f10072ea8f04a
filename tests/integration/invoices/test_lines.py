"""An invoice's lines and billing details, read from Lago on demand and kept briefly."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import InvoiceMirror
from portal.templating import money
from tests.integration.handlers.support import lago_call

FRAGMENT = {"HX-Request": "true", "HX-Target": "invoice-lines"}


@pytest.fixture
def invoice_id(app, subscribed):
    with app.app_context():
        return db.session.scalar(
            db.select(InvoiceMirror.lago_id).filter_by(tenant_id=subscribed.id)
        )


def test_the_page_renders_from_the_mirror_and_loads_lines_later(invoice_id, client_as, connected):
    connected.set_faults(down="close")
    try:
        page = client_as("member").get(f"/invoices/{invoice_id}")
    finally:
        connected.clear_faults()
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Loading the invoice's lines…" in text
    assert f'hx-get="/invoices/{invoice_id}/lines"' in text


def test_lines_and_billing_details_then_kept_while_lago_is_down(
    app, invoice_id, client_as, connected
):
    member = client_as("member")
    lines = member.get(f"/invoices/{invoice_id}/lines", headers=FRAGMENT)
    text = lines.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="invoice-lines"')
    assert 'data-line="fee"' in text
    in_lago = lago_call(connected, "GET", f"/invoices/{invoice_id}")["invoice"]
    with app.app_context():
        for fee in in_lago["fees"]:
            assert money(fee["amount_cents"], in_lago["currency"]) in text
            assert fee["item"]["invoice_display_name"] in text
        assert money(in_lago["total_amount_cents"], in_lago["currency"]) in text
    assert "Acme Inc." in text  # billed to, as printed on the invoice
    connected.set_faults(down="close")
    try:
        again = member.get(f"/invoices/{invoice_id}/lines", headers=FRAGMENT)
    finally:
        connected.clear_faults()
    assert again.get_data(as_text=True) == text


def test_lago_down_says_so_with_a_retry(invoice_id, client_as, connected):
    connected.set_faults(down="close")
    try:
        lines = client_as("member").get(f"/invoices/{invoice_id}/lines", headers=FRAGMENT)
    finally:
        connected.clear_faults()
    text = lines.get_data(as_text=True)
    assert lines.status_code == 200
    assert "not answering right now" in text
    assert "Try again" in text

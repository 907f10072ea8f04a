"""Invoice webhooks: re-read from Lago by lago_id, mirrored when newer, one row per invoice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.models import CreditNoteMirror, InvoiceMirror
from tests.integration.handlers.support import (
    control,
    create_lago_customer,
    deliver,
    deliver_at_once,
    lago_call,
    payload,
    rows,
)


def subscribe(standin, plan_code: str = "pro") -> None:
    body = {
        "subscription": {
            "external_customer_id": "pier_acme",
            "plan_code": plan_code,
            "external_id": "acme-main",
        }
    }
    lago_call(standin, "POST", "/subscriptions", json=body)


def first_invoice(outbox) -> dict:
    return outbox.bodies("invoice.created")[0]["invoice"]


# -- From the live stand-in --------------------------------------------------------------------


def test_a_new_invoice_is_read_again_from_lago(app, acme, outbox):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin)
    handled = dict(outbox.dispatch_new())
    assert handled["invoice.created"].note is None
    sent = first_invoice(outbox)
    in_lago = lago_call(outbox.standin, "GET", f"/invoices/{sent['lago_id']}")["invoice"]

    [row] = rows(app, InvoiceMirror)
    assert row.lago_id == sent["lago_id"]
    assert row.tenant_id == acme.id
    assert (row.number, row.invoice_type, row.status) == (
        in_lago["number"],
        "subscription",
        "finalized",
    )
    assert row.payment_status == in_lago["payment_status"] == "succeeded"
    assert row.currency == "USD"
    assert row.total_amount_cents == in_lago["total_amount_cents"]
    assert row.total_due_amount_cents == in_lago["total_due_amount_cents"]
    assert row.lago_updated_at == datetime.fromisoformat(in_lago["updated_at"])
    assert row.source_at == row.lago_updated_at


def test_a_stale_copy_of_an_invoice_loses_to_lagos_current_one(app, acme, outbox):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin)
    sent = first_invoice(outbox)
    stale = payload(
        "invoice.created",
        lago_id=sent["lago_id"],
        payment_status="failed",
        number="STALE-1",
        updated_at="2030-01-01T00:00:00Z",
    )
    assert deliver(app, stale).note is None
    [row] = rows(app, InvoiceMirror)
    assert row.payment_status == "succeeded"
    assert row.number == sent["number"]


@pytest.fixture
def pdfs_on_request(connected):
    """The stand-in makes invoice PDFs only when asked (`download`), as Lago may."""
    control(connected, "PUT", "/config", json={"generate_pdfs": False})
    yield
    control(connected, "PUT", "/config", json={"generate_pdfs": True})


def test_the_pdf_becomes_available(app, acme, outbox, pdfs_on_request):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin)
    outbox.dispatch_new()
    lago_id = first_invoice(outbox)["lago_id"]
    assert rows(app, InvoiceMirror)[0].file_available is False
    lago_call(outbox.standin, "POST", f"/invoices/{lago_id}/download")
    outbox.standin.wait_for_webhooks(webhook_type="invoice.generated")
    handled = dict(outbox.dispatch_new())
    assert handled["invoice.generated"].note is None
    assert rows(app, InvoiceMirror)[0].file_available is True


def test_a_voided_invoice_is_mirrored_as_voided(app, acme, outbox):
    create_lago_customer(outbox.standin)
    control(
        outbox.standin,
        "PUT",
        "/payments",
        json={"external_customer_id": "pier_acme", "outcomes": ["failed"]},
    )
    subscribe(outbox.standin)
    outbox.dispatch_new()
    lago_id = first_invoice(outbox)["lago_id"]
    lago_call(outbox.standin, "POST", f"/invoices/{lago_id}/void")
    handled = dict(outbox.dispatch_new())
    assert handled["invoice.voided"].note is None
    assert rows(app, InvoiceMirror)[0].status == "voided"


def test_a_credit_note_is_mirrored_beside_its_invoice(app, acme, outbox):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin)  # Pro is paid in advance: ending it now credits the unused days
    outbox.dispatch_new()
    lago_id = first_invoice(outbox)["lago_id"]
    lago_call(outbox.standin, "DELETE", "/subscriptions/acme-main")
    handled = dict(outbox.dispatch_new())
    assert handled["credit_note.created"].note is None
    [sent] = outbox.bodies("credit_note.created")
    [note] = rows(app, CreditNoteMirror)
    assert (note.lago_id, note.invoice_lago_id, note.tenant_id) == (
        sent["credit_note"]["lago_id"],
        lago_id,
        acme.id,
    )
    assert note.number == sent["credit_note"]["number"]
    assert note.total_amount_cents == sent["credit_note"]["total_amount_cents"] > 0
    assert note.credit_amount_cents + note.refund_amount_cents == note.total_amount_cents
    invoice = next(row for row in rows(app, InvoiceMirror) if row.lago_id == lago_id)
    assert invoice.tenant_id == acme.id


def test_a_credit_note_lago_cannot_find_is_mirrored_from_the_webhook(app, acme, outbox):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin)
    lago_id = first_invoice(outbox)["lago_id"]
    body = payload("credit_note.generated", lago_invoice_id=lago_id)
    outcome = deliver(app, body)
    assert "webhook's copy of the credit note" in outcome.note
    [note] = rows(app, CreditNoteMirror)
    assert note.invoice_lago_id == lago_id
    assert note.file_available is True
    [row] = rows(app, InvoiceMirror)
    assert row.lago_id == lago_id


def test_many_workers_on_one_invoice_make_one_row(app, acme, outbox):
    create_lago_customer(outbox.standin)
    subscribe(outbox.standin)
    body = outbox.bodies("invoice.created")[0]
    results = deliver_at_once(app, [body] * 6)
    assert all(getattr(r, "outcome", r) == "processed" for r in results), results
    assert len(rows(app, InvoiceMirror)) == 1


# -- From the webhook's copy when Lago cannot answer --------------------------------------------


def test_each_invoice_type_is_mirrored_from_its_copy(app, acme, lago_down):
    for name in (
        "invoice.drafted",
        "invoice.created",
        "invoice.one_off_created",
        "invoice.paid_credit_added",
    ):
        outcome = deliver(app, payload(name))
        assert "Used the webhook's copy of the invoice" in outcome.note, name
    by_type = {r.invoice_type: r for r in rows(app, InvoiceMirror)}
    assert set(by_type) == {"subscription", "one_off", "credit"}
    assert by_type["subscription"].status == "finalized"  # created is newer than drafted
    assert by_type["subscription"].issuing_date == datetime(2025, 5, 15, tzinfo=UTC)
    assert by_type["subscription"].payment_due_date == datetime(2025, 5, 29, tzinfo=UTC)
    assert by_type["one_off"].total_amount_cents == 15000
    assert by_type["credit"].payment_status == "succeeded"


def test_generated_voided_and_overdue_copies(app, acme, lago_down):
    deliver(app, payload("invoice.generated"))
    assert rows(app, InvoiceMirror)[0].file_available is True
    deliver(app, payload("invoice.payment_overdue"))
    row = rows(app, InvoiceMirror)[0]
    assert (row.payment_status, row.payment_overdue) == ("failed", True)
    deliver(
        app, payload("invoice.voided", updated_at="2025-06-01T00:00:00Z", payment_overdue=False)
    )
    assert rows(app, InvoiceMirror)[0].status == "voided"


def test_an_older_copy_after_a_newer_one_does_not_overwrite_it(app, acme, lago_down):
    deliver(app, payload("invoice.payment_status_updated"))
    late = deliver(app, payload("invoice.drafted"))
    assert "kept it" in late.note
    [row] = rows(app, InvoiceMirror)
    assert (row.status, row.payment_status) == ("finalized", "failed")


def test_racing_copies_leave_one_row_with_the_newest(app, acme, lago_down):
    names = [
        "invoice.drafted",
        "invoice.created",
        "invoice.generated",
        "invoice.payment_status_updated",
    ] * 2
    results = deliver_at_once(app, [payload(n) for n in names])
    assert all(getattr(r, "outcome", r) == "processed" for r in results), results
    [row] = rows(app, InvoiceMirror)
    assert row.payment_status == "failed"
    assert row.lago_updated_at == datetime(2025, 5, 16, 10, 0, tzinfo=UTC)


def test_a_credit_note_without_lago_keeps_the_mirrored_invoice(app, acme, lago_down):
    deliver(app, payload("invoice.created"))
    outcome = deliver(app, payload("credit_note.created"))
    assert "keeps its mirrored amounts" in outcome.note
    assert rows(app, InvoiceMirror)[0].total_amount_cents == 6027

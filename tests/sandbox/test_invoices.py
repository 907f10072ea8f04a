"""Invoices: lists and filters, get, payment status, download, retry payment, void, one-off."""

from __future__ import annotations

import httpx
import pytest

from .billing_helpers import (
    START,
    add_endpoint,
    customer,
    invoices,
    ok,
    payloads,
    subscribe,
    types,
)


@pytest.fixture
def billed(lago_standin, receiver):
    """Acme on Pro (one paid invoice) and Beta on Business whose payment failed."""
    lago_standin.seed()
    lago_standin.travel_to(START)
    lago_standin.set_payments("beta", outcomes=["failed"])
    with lago_standin.client() as client:
        add_endpoint(client, receiver().url)
        customer(client, "acme", email="billing@acme.test")
        customer(client, "beta", net_payment_term=30)
        subscribe(client, "pro", "acme_main", "acme")
        subscribe(client, "business", "beta_main", "beta")
    return lago_standin


def test_invoice_fields_and_extended_detail(billed):
    with billed.client() as client:
        listed = invoices(client, external_customer_id="acme")
        detail = ok(client.get(f"/invoices/{listed[0]['lago_id']}"))["invoice"]
    [invoice] = listed
    assert invoice["status"] == "finalized"
    assert invoice["payment_status"] == "succeeded"
    assert invoice["number"].endswith("-001-001")
    assert invoice["issuing_date"] == "2030-01-10"
    assert invoice["payment_due_date"] == "2030-01-10"
    assert invoice["customer"]["external_id"] == "acme"
    assert invoice["file_url"].endswith(f"/{invoice['number']}.pdf")
    assert "fees" not in invoice
    # Pay-in-advance plans bill usage at the end of the period: only the base fee now.
    [fee] = detail["fees"]
    assert fee["item"]["type"] == "subscription"
    assert fee["item"]["code"] == "pro"
    assert fee["amount_cents"] == detail["fees_amount_cents"] == 2058
    assert fee["from_date"].startswith(START[:-2])  # the clock ticks on from START
    assert fee["to_date"] == "2030-01-31T23:59:59Z"
    [period] = detail["billing_periods"]
    assert period["invoicing_reason"] == "subscription_starting"
    assert detail["subscriptions"][0]["external_id"] == "acme_main"


def test_failed_payment_and_net_payment_term(billed):
    with billed.client() as client:
        [invoice] = invoices(client, external_customer_id="beta")
    assert invoice["payment_status"] == "failed"
    assert invoice["payment_due_date"] == "2030-02-09"
    [failure] = payloads(billed, "invoice.payment_failure")
    error = failure["payment_provider_invoice_payment_error"]
    assert error["lago_invoice_id"] == invoice["lago_id"]
    assert error["external_customer_id"] == "beta"
    assert error["payment_provider"] == "stripe"
    assert error["provider_customer_id"].startswith("cus_")
    assert error["provider_error"] == {
        "message": "Your card was declined.",
        "error_code": "card_declined",
    }


def test_list_filters(billed):
    with billed.client() as client:

        def numbers(path="/invoices", **params):
            reply = ok(client.get(path, params=params))
            return sorted(i["customer"]["external_id"] for i in reply["invoices"])

        assert numbers() == ["acme", "beta"]
        assert numbers(**{"payment_statuses[]": "failed"}) == ["beta"]
        assert numbers(payment_status="succeeded") == ["acme"]
        assert numbers(**{"statuses[]": ["finalized"]}) == ["acme", "beta"]
        assert numbers(status="draft") == []
        assert numbers(payment_overdue="false") == ["acme", "beta"]
        assert numbers(payment_overdue="true") == []
        assert numbers(invoice_type="subscription", currency="USD") == ["acme", "beta"]
        assert numbers(issuing_date_from="2030-01-11") == []
        assert numbers(issuing_date_to="2030-01-10") == ["acme", "beta"]
        assert numbers(amount_from=3000) == ["beta"]
        assert numbers(search_term="ACME.TEST") == ["acme"]
        assert numbers("/customers/beta/invoices") == ["beta"]
        page = ok(client.get("/invoices", params={"per_page": 1, "page": 2}))
        missing = client.get("/customers/nobody/invoices")
    assert page["meta"] == {
        "current_page": 2,
        "next_page": None,
        "prev_page": 1,
        "total_pages": 2,
        "total_count": 2,
    }
    assert missing.status_code == 404


def test_update_payment_status_sends_webhook_once(billed):
    with billed.client() as client:
        [invoice] = invoices(client, external_customer_id="beta")
        path = f"/invoices/{invoice['lago_id']}"
        paid = ok(client.put(path, json={"invoice": {"payment_status": "succeeded"}}))["invoice"]
        ok(client.put(path, json={"invoice": {"payment_status": "succeeded"}}))
        tagged = ok(
            client.put(path, json={"invoice": {"metadata": [{"key": "po", "value": "42"}]}})
        )["invoice"]
        missing = client.put(
            "/invoices/1a901a90-1a90-1a90-1a90-1a901a901a90",
            json={"invoice": {"payment_status": "failed"}},
        )
        assert (
            ok(client.get("/invoices", params={"metadata[po]": "42"}))["meta"]["total_count"] == 1
        )
    assert paid["payment_status"] == "succeeded"
    assert tagged["metadata"][0]["key"] == "po"
    assert missing.json()["code"] == "invoice_not_found"
    updates = payloads(billed, "invoice.payment_status_updated")
    beta_updates = [u for u in updates if u["invoice"]["lago_id"] == invoice["lago_id"]]
    assert [u["invoice"]["payment_status"] for u in beta_updates] == ["succeeded"]


def test_invoices_get_their_pdf_when_finalized(billed):
    with billed.client() as client:
        [invoice] = invoices(client, external_customer_id="acme")
        downloaded = ok(client.post(f"/invoices/{invoice['lago_id']}/download"))["invoice"]
    assert downloaded["file_url"] == invoice["file_url"]
    assert invoice["file_url"].startswith(billed.url + "/rails/active_storage/")
    blob = httpx.get(invoice["file_url"], trust_env=False)
    assert blob.status_code == 302  # ActiveStorage redirects to the storage service's URL
    assert blob.headers["location"].startswith("/rails/active_storage/disk/")
    pdf = httpx.get(invoice["file_url"], trust_env=False, follow_redirects=True)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-1.4")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert "fees" not in downloaded  # download answers the plain invoice, as lago-api does
    generated = payloads(billed, "invoice.generated")
    assert {g["invoice"]["lago_id"] for g in generated} == {
        i["id"] for i in billed.standin.store.all("invoice")
    }


def test_download_generates_a_missing_pdf_then_returns_the_invoice(billed):
    billed.standin.configure(generate_pdfs=False)
    try:
        with billed.client() as client:
            customer(client, "gamma")
            subscribe(client, "pro", "gamma_main", "gamma")
            [invoice] = invoices(client, external_customer_id="gamma")
            first = client.post(f"/invoices/{invoice['lago_id']}/download")
            [generated] = billed.wait_for_webhooks(
                webhook_type="invoice.generated",
                until=lambda w: invoice["lago_id"] in w["payload"],
            )
            second = ok(client.post(f"/invoices/{invoice['lago_id']}/download"))["invoice"]
            fetched = ok(client.get(f"/invoices/{invoice['lago_id']}"))["invoice"]
            unknown = client.post("/invoices/1a901a90-1a90-1a90-1a90-1a901a901a90/download")
    finally:
        billed.standin.configure(generate_pdfs=True)
    assert invoice["file_url"] is None
    assert first.status_code == 200
    assert first.content == b""
    assert second["file_url"] == fetched["file_url"]
    assert second["file_url"].endswith(f"/{invoice['number']}.pdf")
    assert generated["webhook_type"] == "invoice.generated"
    assert unknown.json()["code"] == "invoice_not_found"


def test_retry_payment_rules(billed):
    billed.set_payments("beta", outcomes=["succeeded"])
    with billed.client() as client:
        [paid] = invoices(client, external_customer_id="acme")
        [failed] = invoices(client, external_customer_id="beta")
        refused = client.post(f"/invoices/{paid['lago_id']}/retry_payment")
        retried = client.post(f"/invoices/{failed['lago_id']}/retry_payment")
        after = ok(client.get(f"/invoices/{failed['lago_id']}"))["invoice"]
        payments = ok(client.get("/payments", params={"invoice_id": failed["lago_id"]}))
    assert refused.status_code == 405
    assert refused.json()["code"] == "invalid_status"
    assert retried.status_code == 200
    assert retried.content == b""
    assert after["payment_status"] == "succeeded"
    assert [p["payment_status"] for p in payments["payments"]] == ["succeeded", "failed"]
    # The retry does not announce the invoice again (since v1.33.2): only the payment outcome.
    beta_types = [
        w["webhook_type"]
        for w in billed.webhooks()
        if failed["lago_id"] in w["payload"] and w["webhook_type"] != "payment.succeeded"
    ]
    assert beta_types[-2:] == ["invoice.payment_failure", "invoice.payment_status_updated"]


def test_void_only_unpaid_finalized_invoices(billed):
    with billed.client() as client:
        [paid] = invoices(client, external_customer_id="acme")
        [failed] = invoices(client, external_customer_id="beta")
        refused = client.post(f"/invoices/{paid['lago_id']}/void")
        voided = ok(client.post(f"/invoices/{failed['lago_id']}/void"))["invoice"]
        again = client.post(f"/invoices/{failed['lago_id']}/retry_payment")
    assert refused.status_code == 405
    assert refused.json()["code"] == "not_voidable"
    assert voided["status"] == "voided"
    assert voided["voided_at"] is not None
    assert again.json()["code"] == "invalid_status"
    assert types(billed, webhook_type="invoice.voided") == ["invoice.voided"]


def test_one_off_invoice_from_add_ons(billed):
    with billed.client() as client:
        ok(
            client.post(
                "/add_ons",
                json={
                    "add_on": {
                        "name": "Onboarding",
                        "code": "onboarding",
                        "amount_cents": 15000,
                        "amount_currency": "USD",
                    }
                },
            )
        )
        invoice = ok(
            client.post(
                "/invoices",
                json={
                    "invoice": {
                        "external_customer_id": "acme",
                        "fees": [
                            {"add_on_code": "onboarding", "units": "2"},
                            {"add_on_code": "onboarding", "unit_amount_cents": 500},
                        ],
                    }
                },
            )
        )["invoice"]
        unknown = client.post(
            "/invoices",
            json={"invoice": {"external_customer_id": "acme", "fees": [{"add_on_code": "x"}]}},
        )
    assert invoice["invoice_type"] == "one_off"
    assert [f["amount_cents"] for f in invoice["fees"]] == [30000, 500]
    assert invoice["total_amount_cents"] == 30500
    assert invoice["payment_status"] == "succeeded"
    assert unknown.json()["code"] == "add_on_not_found"
    [created] = payloads(billed, "invoice.one_off_created")
    assert created["invoice"]["lago_id"] == invoice["lago_id"]


def test_payment_url_and_checkout_page(billed):
    billed.set_payments("beta", outcomes=["succeeded"])
    with billed.client() as client:
        [failed] = invoices(client, external_customer_id="beta")
        details = ok(client.post(f"/invoices/{failed['lago_id']}/payment_url"))
        url = details["invoice_payment_details"]["payment_url"]
        page = httpx.get(url, trust_env=False)
        paid = httpx.post(url, data={"outcome": "succeeded"}, trust_env=False)
        refused = client.post(f"/invoices/{failed['lago_id']}/payment_url")
    assert details["invoice_payment_details"]["payment_provider"] == "stripe"
    assert "<form" in page.text
    assert paid.json()["invoice"]["payment_status"] == "succeeded"
    assert refused.status_code == 422
    assert refused.json()["error_details"] == {"base": ["invalid_invoice_status_or_payment_status"]}


def test_customer_without_provider_is_not_charged(lago_standin):
    lago_standin.seed()
    with lago_standin.client() as client:
        customer(client, "manual", stripe=False)
        subscribe(client, "pro", external_customer_id="manual")
        [invoice] = invoices(client)
        assert ok(client.get("/payments"))["payments"] == []
    assert invoice["payment_status"] == "pending"


def test_a_pdf_link_needs_its_signature_but_no_api_key(billed):
    with billed.client() as client:
        [invoice] = invoices(client, external_customer_id="acme")
    url = invoice["file_url"]
    token = url.split("/redirect/")[1].split("/")[0]
    forged = url.replace(token, token.split("--")[0] + "--" + "0" * 32)
    assert httpx.get(forged, trust_env=False).status_code == 404
    guessed = url.replace("/blobs/redirect/", "/disk/")
    assert httpx.get(guessed, trust_env=False).status_code == 404
    assert httpx.get(url, trust_env=False, follow_redirects=True).status_code == 200


def test_generated_pdfs_are_well_formed_at_the_size_asked(billed):
    billed.standin.configure(generate_pdfs=False, pdf_bytes=300_000)
    try:
        with billed.client() as client:
            customer(client, "delta")
            subscribe(client, "pro", "delta_main", "delta")
            [invoice] = invoices(client, external_customer_id="delta")
            client.post(f"/invoices/{invoice['lago_id']}/download")
            billed.wait_for_webhooks(
                webhook_type="invoice.generated",
                until=lambda w: invoice["lago_id"] in w["payload"],
            )
            url = ok(client.post(f"/invoices/{invoice['lago_id']}/download"))["invoice"]["file_url"]
    finally:
        billed.standin.configure(generate_pdfs=True, pdf_bytes=0)
    body = httpx.get(url, trust_env=False, follow_redirects=True).content
    assert 290_000 < len(body) <= 300_000
    assert_cross_references_hold(body)
    assert f"(Invoice {invoice['number']})".encode() in body


def assert_cross_references_hold(body: bytes) -> None:
    """Every object the xref table lists starts where it says; startxref points at the table."""
    start = int(body.rsplit(b"startxref", 1)[1].split()[0])
    assert body[start:].startswith(b"xref")
    lines = body[start:].split(b"\n")
    count = int(lines[1].split()[1])
    for number in range(1, count):
        offset = int(lines[2 + number].split()[0])
        assert body[offset:].startswith(b"%d 0 obj" % number)
    length = int(body.split(b"/Length ")[1].split(b">>")[0])
    stream = body.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")

"""The invoice centre in a real browser: find an invoice by filter, download its PDF."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from portal.extensions import db
from portal.models import InvoiceMirror
from tests.browser.test_accounts_journey import log_in
from tests.conftest import PASSWORD
from tests.integration.invoices.conftest import add_invoice, pdf_cache  # noqa: F401
from tests.integration.invoices.test_pdf import pdfs_on_request  # noqa: F401
from tests.integration.subscription.conftest import (  # noqa: F401
    acme,
    connected,
    no_proxy,
    subscribed,
)


def test_find_an_invoice_by_filter_and_download_its_pdf(
    app,
    pdfs_on_request,  # noqa: F811
    subscribed,  # noqa: F811
    add_invoice,  # noqa: F811
    page: Page,
    tmp_path: Path,
):
    for n in range(3):
        add_invoice(subscribed.id, f"2024-0{n + 1}-15", 990, number=f"OLD-{n}")
    with app.app_context():
        invoice = db.session.scalar(
            db.select(InvoiceMirror).where(InvoiceMirror.number.not_like("OLD-%"))
        )
        number, total = invoice.number, invoice.total_amount_cents
    log_in(page, subscribed.owner, PASSWORD)
    page.get_by_role("link", name="Invoices").click()
    rows = page.locator("tr[data-invoice]")
    expect(rows).to_have_count(4)

    page.get_by_label("Invoice number").fill(number[-6:])
    page.get_by_label("Amount from").fill(f"{total / 100:.2f}")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    assert "amount_from=" in page.url  # the filtered list can be bookmarked
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    expect(page.locator("#invoice-lines tr[data-line=fee]").first).to_be_visible()

    page.get_by_role("button", name="Download PDF").click()
    expect(page.get_by_text("Generating…")).to_be_visible()
    link = page.get_by_role("link", name=f"Download {number}.pdf")
    expect(link).to_be_visible()
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.suggested_filename == f"{number}.pdf"
    saved = tmp_path / "saved.pdf"
    download.save_as(saved)
    body = saved.read_bytes()
    assert body.startswith(b"%PDF-1.4") and f"Invoice {number}".encode() in body
    assert re.search(r"/invoices/[^/]+$", page.url)

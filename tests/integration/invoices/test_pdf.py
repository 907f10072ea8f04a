"""An invoice's PDF through Pier: generated on request, cached, evicted, Lago down, isolation."""

from __future__ import annotations

import time

import pytest

from portal.extensions import db
from portal.models import InvoiceMirror
from tests.integration.handlers.support import control, lago_call
from tests.integration.subscription.conftest import pull, subscribe


@pytest.fixture
def pdfs_on_request(connected):
    """Lago makes the PDF only when `download` asks (then after a short while)."""
    control(connected, "PUT", "/config", json={"generate_pdfs": False, "pdf_delay_seconds": 0.3})
    yield
    control(connected, "PUT", "/config", json={"generate_pdfs": True, "pdf_delay_seconds": 0})


@pytest.fixture
def invoice(app, subscribed, connected):
    """Acme's Pro invoice as mirrored (the number and Lago id)."""
    with app.app_context():
        row = db.session.scalar(db.select(InvoiceMirror).filter_by(tenant_id=subscribed.id))
        return row.lago_id, row.number


@pytest.fixture
def owner(client_as):
    return client_as("owner")


def wait_until_ready(client, lago_id: str) -> list[str]:
    """Poll as the page does; the answers seen until the PDF is ready."""
    seen = []
    for n in range(50):
        page = client.get(
            f"/invoices/{lago_id}/pdf-status?n={n}",
            headers={"HX-Request": "true", "HX-Target": "invoice-pdf"},
        ).get_data(as_text=True)
        seen.append(page)
        if "Your PDF is ready" in page:
            return seen
        time.sleep(0.1)
    raise AssertionError("the PDF never became ready")


def test_a_pdf_still_being_made_shows_generating_then_downloads(
    app, pdfs_on_request, invoice, owner, connected, pdf_cache
):
    lago_id, number = invoice
    asked = owner.submit(f"/invoices/{lago_id}/download", htmx=True)
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Generating…" in text
    assert f"/invoices/{lago_id}/pdf-status" in text
    answers = wait_until_ready(owner, lago_id)
    assert "Generating…" in answers[0]  # Lago needed a moment
    pdf = owner.get(f"/invoices/{lago_id}/pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-1.4")
    assert f"Invoice {number}".encode() in pdf.data
    assert pdf.headers["Content-Disposition"] == f"attachment; filename={number}.pdf"
    assert pdf.headers["Cache-Control"] == "private, no-store"
    for answer in [text, *answers]:
        assert "active_storage" not in answer and connected.api_url not in answer
    assert [p.name for p in pdf_cache.iterdir()] == [f"{lago_id}.pdf"]
    with app.app_context():
        assert db.session.scalar(db.select(InvoiceMirror.file_available)) is True
    made = [p for p in connected.standin.files.folder.iterdir() if not p.name.startswith(".")]
    assert len(made) == 1  # polling never asked Lago for another PDF


def test_a_ready_pdf_is_sent_at_once(invoice, client_as):
    lago_id, _ = invoice
    member = client_as("member")  # members may download
    plain = member.submit(f"/invoices/{lago_id}/download")
    assert plain.status_code == 303
    assert plain.headers["Location"] == f"/invoices/{lago_id}/pdf"
    htmx = member.submit(f"/invoices/{lago_id}/download", htmx=True)
    assert htmx.headers["HX-Redirect"] == f"/invoices/{lago_id}/pdf"
    assert member.get(f"/invoices/{lago_id}/pdf").data.startswith(b"%PDF")


def test_download_needs_the_csrf_token(invoice, owner):
    lago_id, _ = invoice
    assert owner.post(f"/invoices/{lago_id}/download").status_code == 400


def test_a_cached_pdf_is_served_while_lago_is_down(invoice, owner, connected):
    lago_id, _ = invoice
    first = owner.get(f"/invoices/{lago_id}/pdf").data
    connected.set_faults(down="503")
    try:
        again = owner.get(f"/invoices/{lago_id}/pdf")
    finally:
        connected.clear_faults()
    assert again.status_code == 200
    assert again.data == first


def test_an_evicted_pdf_is_fetched_again(app, subscribed, connected, owner, pdf_cache):
    app.config["PDF_CACHE_BYTES"] = 1  # room for the newest file only
    lago_call(connected, "DELETE", "/subscriptions/acme-main")
    subscribe(connected, "starter")
    pull(app, subscribed.id)
    with app.app_context():
        ids = db.session.scalars(
            db.select(InvoiceMirror.lago_id).where(InvoiceMirror.status == "finalized")
        ).all()
    first, second = ids[:2]
    assert owner.get(f"/invoices/{first}/pdf").status_code == 200
    assert owner.get(f"/invoices/{second}/pdf").status_code == 200
    assert [p.stem for p in pdf_cache.glob("*.pdf")] == [second]
    again = owner.get(f"/invoices/{first}/pdf")
    assert again.status_code == 200 and again.data.startswith(b"%PDF")
    assert [p.stem for p in pdf_cache.glob("*.pdf")] == [first]


def test_lago_down_gets_a_sentence(invoice, owner, connected, pdf_cache):
    lago_id, _ = invoice
    connected.set_faults(down="close")
    try:
        asked = owner.submit(f"/invoices/{lago_id}/download", htmx=True)
        direct = owner.get(f"/invoices/{lago_id}/pdf")
    finally:
        connected.clear_faults()
    assert asked.status_code == direct.status_code == 502
    assert "not answering right now" in asked.get_data(as_text=True)
    assert "Download PDF" in asked.get_data(as_text=True)  # the customer can try again
    assert not pdf_cache.exists() or not list(pdf_cache.iterdir())


def test_another_tenants_cached_pdf_is_404(invoice, owner, as_role):
    lago_id, _ = invoice
    assert owner.get(f"/invoices/{lago_id}/pdf").status_code == 200
    stranger, _ = as_role("owner")
    assert stranger.get(f"/invoices/{lago_id}/pdf").status_code == 404
    assert stranger.submit(f"/invoices/{lago_id}/download").status_code == 404


def test_a_voided_invoice_has_no_pdf(app, invoice, owner):
    lago_id, _ = invoice
    with app.app_context():
        db.session.execute(db.update(InvoiceMirror).values(status="voided"))
        db.session.commit()
    assert "it has no PDF" in owner.get(f"/invoices/{lago_id}").get_data(as_text=True)
    assert owner.submit(f"/invoices/{lago_id}/download").status_code == 404
    assert owner.get(f"/invoices/{lago_id}/pdf").status_code == 404

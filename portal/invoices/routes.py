"""Thin views: the list and one invoice from the mirror, its lines from Lago, its PDF via Pier."""

from __future__ import annotations

from flask import abort, g, redirect, request, send_file, url_for

from portal.access import member_required
from portal.auth.forms import ConfirmForm
from portal.billing.connection import NotConnected
from portal.billing.mirror import billing_account
from portal.billing.summary import display_zone
from portal.extensions import db
from portal.htmx import is_htmx, render_page
from portal.invoices import bp, lines, listing, pdfs
from portal.invoices.forms import InvoiceFilterForm
from portal.lago import LagoError, LagoNotFound

DETAIL = "invoices/detail.html"
MAX_POLLS = 90  # every 2 s: three minutes of "Generating…" before asking to come back later
LAGO_DOWN = (
    "Our billing system is not answering right now, so this cannot be shown. "
    "Try again in a few minutes."
)
NOT_CONNECTED = "Billing is not connected yet, so there is nothing to fetch."


def _tenant_currency() -> str:
    return g.tenant.currency or "USD"


def _invoice_or_404(lago_id: str):
    invoice = listing.shown_invoice(g.tenant.id, lago_id)
    if invoice is None:
        abort(404)
    return invoice


def _failure(error: Exception) -> str:
    if isinstance(error, NotConnected):
        return NOT_CONNECTED
    if isinstance(error, LagoNotFound):
        return "Our billing system no longer has this invoice's file."
    return LAGO_DOWN


@bp.route("/")
@member_required
def index():
    """Every invoice of the organisation, newest first, with filters and keyset pages."""
    form = InvoiceFilterForm(request.args, _tenant_currency())
    valid = form.read()
    page = listing.page_of(g.tenant.id, form.filters, form.cursor) if valid else None
    return render_page(
        "invoices/index.html",
        form=form,
        page=page,
        standing=listing.standing,
        first_page=not form.cursor,
        fragments=("invoice-list",),
    )


def _detail(invoice, **context):
    account = billing_account(g.tenant)
    return render_page(
        DETAIL,
        invoice=invoice,
        credit_notes=listing.credit_notes_of(g.tenant.id, [invoice.lago_id])[invoice.lago_id],
        standing=listing.standing(invoice),
        zone=display_zone(g.tenant, account),
        downloadable=invoice.status == "finalized",
        payable=listing.payable(invoice),
        **{
            "detail": None,
            "lines_error": None,
            "pdf": None,
            "pdf_error": None,
            "polls": 0,
            **context,
        },
        fragments=("invoice-lines", "invoice-pdf"),
    )


@bp.route("/<lago_id>")
@member_required
def detail(lago_id: str):
    """One invoice from the mirror; its lines load on their own (see `lines`)."""
    invoice = _invoice_or_404(lago_id)
    pdf = "generating" if request.args.get("pdf") == "generating" else None
    return _detail(invoice, pdf=pdf)


@bp.route("/<lago_id>/lines")
@member_required
def invoice_lines(lago_id: str):
    """The invoice page with its lines read from Lago (htmx asks for the `invoice-lines` block)."""
    invoice = _invoice_or_404(lago_id)
    try:
        found = lines.invoice_detail(invoice.lago_id)
    except (NotConnected, LagoError) as error:
        return _detail(invoice, lines_error=_failure(error))
    return _detail(invoice, detail=found)


@bp.route("/<lago_id>/download", methods=["POST"])
@member_required
def download(lago_id: str):
    """Ask for the PDF: straight to the file when it exists, else "Generating…" that polls."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invoice = _invoice_or_404(lago_id)
    if invoice.status != "finalized":
        abort(404)
    try:
        ready = pdfs.fetch(invoice)
    except (NotConnected, LagoError) as error:
        db.session.rollback()
        return _detail(invoice, pdf="failed", pdf_error=_failure(error), status=502)
    db.session.commit()
    if ready:
        target = url_for("invoices.pdf", lago_id=invoice.lago_id)
        if is_htmx():
            return "", 204, {"HX-Redirect": target}
        return redirect(target, 303)
    if is_htmx():
        return _detail(invoice, pdf="generating")
    return redirect(url_for("invoices.detail", lago_id=invoice.lago_id, pdf="generating"), 303)


@bp.route("/<lago_id>/pdf-status")
@member_required
def pdf_status(lago_id: str):
    """Polled while Lago generates the PDF: still generating, ready, or given up for now."""
    invoice = _invoice_or_404(lago_id)
    if invoice.status != "finalized":
        abort(404)
    polls = min(max(request.args.get("n", 0, type=int), 0), MAX_POLLS)
    try:
        ready = pdfs.check(invoice)
    except (NotConnected, LagoError) as error:
        db.session.rollback()
        return _detail(invoice, pdf="failed", pdf_error=_failure(error))
    db.session.commit()
    if ready:
        return _detail(invoice, pdf="ready")
    if polls >= MAX_POLLS:
        return _detail(invoice, pdf="late")
    return _detail(invoice, pdf="generating", polls=polls + 1)


@bp.route("/<lago_id>/pdf")
@member_required
def pdf(lago_id: str):
    """The PDF itself, streamed from Pier's cache (fetched from Lago first if it left it)."""
    invoice = _invoice_or_404(lago_id)
    if invoice.status != "finalized":
        abort(404)
    cache = pdfs.cache()
    handle = cache.open(invoice.lago_id)
    if handle is None:
        try:
            ready = pdfs.fetch(invoice)
        except (NotConnected, LagoError) as error:
            db.session.rollback()
            return _detail(invoice, pdf="failed", pdf_error=_failure(error), status=502)
        db.session.commit()
        handle = cache.open(invoice.lago_id) if ready else None
        if handle is None:
            return redirect(
                url_for("invoices.detail", lago_id=invoice.lago_id, pdf="generating"), 303
            )
    response = send_file(
        handle,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{invoice.number or invoice.lago_id}.pdf",
        max_age=0,
        conditional=False,
        etag=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response

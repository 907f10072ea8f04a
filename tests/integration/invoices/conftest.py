"""Acme's invoices: mirror rows written directly for the list, the stand-in for lines and PDFs."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import CreditNoteMirror, InvoiceMirror
from tests.integration.subscription.conftest import (  # noqa: F401
    acme,
    client_as,
    connected,
    no_proxy,
    subscribed,
)

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def pdf_cache(app, tmp_path):
    """Each test keeps PDFs in its own folder."""
    app.config["PDF_CACHE_DIR"] = str(tmp_path / "pdfs")
    return tmp_path / "pdfs"


def day(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC)


@pytest.fixture
def add_invoice(app):
    """Write a mirrored invoice for a tenant; returns its Lago id."""

    def add(
        tenant_id: int,
        issued: str,
        cents: int = 1000,
        *,
        number: str | None = None,
        status: str = "finalized",
        payment_status: str = "pending",
        overdue: bool = False,
        currency: str = "EUR",
    ) -> str:
        serial = next(_ids)
        lago_id = f"inv-{serial:06d}"
        with app.app_context():
            db.session.add(
                InvoiceMirror(
                    tenant_id=tenant_id,
                    lago_id=lago_id,
                    number=number or f"ACM-{serial:05d}",
                    invoice_type="subscription",
                    status=status,
                    payment_status=payment_status,
                    payment_overdue=overdue,
                    currency=currency,
                    total_amount_cents=cents,
                    issuing_date=day(issued),
                    source_at=day(issued),
                )
            )
            db.session.commit()
        return lago_id

    return add


@pytest.fixture
def add_credit_note(app):
    def add(tenant_id: int, invoice_lago_id: str, cents: int, number: str) -> None:
        with app.app_context():
            db.session.add(
                CreditNoteMirror(
                    tenant_id=tenant_id,
                    lago_id=f"cn-{next(_ids):06d}",
                    invoice_lago_id=invoice_lago_id,
                    number=number,
                    currency="EUR",
                    total_amount_cents=cents,
                    credit_amount_cents=cents,
                    refund_amount_cents=0,
                    issuing_date=day("2025-03-05"),
                    source_at=day("2025-03-05"),
                )
            )
            db.session.commit()

    return add

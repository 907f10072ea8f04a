"""A tenant's invoices from the mirror: filters, search by number and keyset pagination.

Pages walk (issuing day, id) newest first from a cursor that names the last row shown, so an
invoice that arrives while someone pages never shifts or repeats a row, and a page's URL keeps
showing the same invoices. The walk is served by the (tenant_id, issuing_date, id) index.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.models import CreditNoteMirror, InvoiceMirror

PAGE_SIZE = 25
SHOWN_STATUSES = ("finalized", "voided")  # drafts and unfinished generations stay hidden


class Standing(enum.StrEnum):
    """An invoice's status in the customer's words."""

    paid = "paid"
    open = "open"
    overdue = "overdue"
    failed = "failed"
    voided = "voided"

    @property
    def label(self) -> str:
        return {"failed": "Payment failed"}.get(self.value, self.value.capitalize())


def standing(invoice: InvoiceMirror) -> Standing:
    """Voided, then paid, then overdue, then a failed payment, else open."""
    if invoice.status == "voided":
        return Standing.voided
    if invoice.payment_status == "succeeded":
        return Standing.paid
    if invoice.payment_overdue:
        return Standing.overdue
    if invoice.payment_status == "failed":
        return Standing.failed
    return Standing.open


PAYABLE = (Standing.open, Standing.failed, Standing.overdue)


def payable(invoice: InvoiceMirror) -> bool:
    """Open, failed or overdue: an invoice a customer may pay now."""
    return standing(invoice) in PAYABLE


def _standing_clause(wanted: Standing) -> sa.ColumnElement[bool]:
    """The SQL twin of `standing`: rows whose status in words is `wanted`."""
    finalized = InvoiceMirror.status == "finalized"
    paid = InvoiceMirror.payment_status == "succeeded"
    unpaid = sa.or_(InvoiceMirror.payment_status.is_(None), ~paid)
    overdue = InvoiceMirror.payment_overdue.is_(True)
    failed = InvoiceMirror.payment_status == "failed"
    return {
        Standing.voided: InvoiceMirror.status == "voided",
        Standing.paid: sa.and_(finalized, paid),
        Standing.overdue: sa.and_(finalized, unpaid, overdue),
        Standing.failed: sa.and_(finalized, failed, ~overdue),
        Standing.open: sa.and_(finalized, unpaid, ~overdue, ~failed),
    }[wanted]


@dataclass(frozen=True)
class Cursor:
    """The last row of a page: its issuing day and id."""

    issued: datetime
    id: int

    def token(self) -> str:
        return f"{self.issued.date().isoformat()}.{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        """Raises ValueError for anything but `YYYY-MM-DD.<id>`."""
        day, _, ident = token.partition(".")
        if len(day) != 10 or not ident.isdigit() or len(ident) > 18:
            raise ValueError(token)
        issued = date.fromisoformat(day)
        return cls(datetime(issued.year, issued.month, issued.day, tzinfo=UTC), int(ident))


@dataclass(frozen=True)
class Filters:
    """What the customer asked for, already checked."""

    standings: tuple[Standing, ...] = ()
    issued_from: date | None = None
    issued_to: date | None = None
    amount_from_cents: int | None = None
    amount_to_cents: int | None = None
    number: str = ""


@dataclass
class Page:
    """One page of invoices, each with its credit notes, and where the next page starts."""

    invoices: list[InvoiceMirror]
    credit_notes: dict[str, list[CreditNoteMirror]] = field(default_factory=dict)
    next_cursor: Cursor | None = None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _query(tenant_id: int, filters: Filters) -> sa.Select:
    query = sa.select(InvoiceMirror).where(
        InvoiceMirror.tenant_id == tenant_id,
        InvoiceMirror.status.in_(SHOWN_STATUSES),
        InvoiceMirror.issuing_date.is_not(None),
    )
    if filters.standings:
        query = query.where(sa.or_(*(_standing_clause(s) for s in filters.standings)))
    if filters.issued_from:
        query = query.where(InvoiceMirror.issuing_date >= _midnight(filters.issued_from))
    if filters.issued_to:
        query = query.where(InvoiceMirror.issuing_date <= _midnight(filters.issued_to))
    if filters.amount_from_cents is not None:
        query = query.where(InvoiceMirror.total_amount_cents >= filters.amount_from_cents)
    if filters.amount_to_cents is not None:
        query = query.where(InvoiceMirror.total_amount_cents <= filters.amount_to_cents)
    if filters.number:
        query = query.where(
            sa.func.lower(InvoiceMirror.number).contains(filters.number.lower(), autoescape=True)
        )
    return query


def page_of(
    tenant_id: int, filters: Filters, after: Cursor | None = None, size: int = PAGE_SIZE
) -> Page:
    """Up to `size` invoices after the cursor (newest first), with their credit notes."""
    query = _query(tenant_id, filters)
    if after is not None:
        position = sa.tuple_(InvoiceMirror.issuing_date, InvoiceMirror.id)
        query = query.where(position < sa.tuple_(after.issued, after.id))
    query = query.order_by(InvoiceMirror.issuing_date.desc(), InvoiceMirror.id.desc())
    rows = list(db.session.scalars(query.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    last = rows[-1] if more else None
    return Page(
        invoices=rows,
        credit_notes=credit_notes_of(tenant_id, [row.lago_id for row in rows]),
        next_cursor=Cursor(last.issuing_date, last.id) if last is not None else None,
    )


def credit_notes_of(tenant_id: int, invoice_ids: list[str]) -> dict[str, list[CreditNoteMirror]]:
    """The tenant's credit notes on these invoices, by invoice."""
    found: dict[str, list[CreditNoteMirror]] = defaultdict(list)
    if not invoice_ids:
        return found
    query = (
        sa.select(CreditNoteMirror)
        .where(
            CreditNoteMirror.tenant_id == tenant_id,
            CreditNoteMirror.invoice_lago_id.in_(invoice_ids),
        )
        .order_by(CreditNoteMirror.issuing_date, CreditNoteMirror.id)
    )
    for note in db.session.scalars(query):
        found[note.invoice_lago_id].append(note)
    return found


def shown_invoice(tenant_id: int, lago_id: str) -> InvoiceMirror | None:
    """One of the tenant's invoices a customer may see (never a draft, never another tenant's)."""
    return db.session.scalar(
        sa.select(InvoiceMirror).where(
            InvoiceMirror.tenant_id == tenant_id,
            InvoiceMirror.lago_id == lago_id,
            InvoiceMirror.status.in_(SHOWN_STATUSES),
        )
    )

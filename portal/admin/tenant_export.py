"""The filtered tenant list as CSV, written line by line, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal

from babel.numbers import get_currency_precision

from portal.admin.tenant_list import TenantRow

HEADER = (
    "name",
    "external_id",
    "billing_email",
    "plan_code",
    "plan",
    "status",
    "mrr",
    "currency",
    "dunning_state",
    "dunning_since",
    "sync_state",
    "created_at",
    "lago_customer",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text, with a leading quote when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _amount(cents: int | None, currency: str | None) -> str:
    if cents is None or currency is None:
        return ""
    return str(Decimal(cents).scaleb(-get_currency_precision(currency)))


def _isoformat(value) -> str:
    return value.isoformat() if value is not None else ""


def _cells(row: TenantRow) -> list[str]:
    tenant, account = row.tenant, row.account
    return [
        tenant.name,
        tenant.external_id,
        tenant.billing_email,
        row.plan_code,
        row.plan_name,
        row.status,
        _amount(row.mrr_cents, row.currency),
        row.currency if row.mrr_cents is not None else "",
        row.dunning.value,
        _isoformat(account.dunning_since if account else None),
        tenant.sync_state.value,
        _isoformat(tenant.created_at),
        tenant.customer_external_id,
    ]


def csv_lines(rows: Iterable[TenantRow]) -> Iterator[str]:
    """The header, then one CSV line per row (RFC 4180 line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[object]) -> str:
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(HEADER)
    for row in rows:
        yield line(_cells(row))

"""Revenue analytics: `GET /analytics/mrr` (premium) and `GET /analytics/overdue_balance`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors
from ..clock import parse_iso
from ..pagination import ruby_to_i
from ..state import Standin, current

bp = Blueprint("analytics", __name__)


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _month_iso(moment: datetime) -> str:
    """A Postgres timestamp as Rails renders it in JSON (milliseconds, trailing Z)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def mrr_rows(standin: Standin, currency: str | None, months: Any) -> list[dict[str, Any]]:
    """Analytics::Mrr.find_all_by: one row per month from the organization's creation.

    lago-api sums subscription fees of finalized invoices per month and currency, LEFT JOINed
    on every month; the stand-in has no invoices, so each month has a null amount and currency
    (as lago-api's own request spec expects), and a currency filter (a WHERE on the joined
    currency) leaves no rows at all.
    """
    now = standin.clock.now()
    first = _month_start(parse_iso(standin.org()["created_at"]) or now)
    last = _month_start(now)
    if months not in (None, ""):
        count = ruby_to_i(months)
        interval = 0 if count <= 1 else count - 1
        first = max(first, _add_months(last, -interval))
    rows: list[dict[str, Any]] = []
    month = first
    while month <= last:
        rows.append({"month": _month_iso(month), "amount_cents": None, "currency": None})
        month = _add_months(month, 1)
    if currency:
        rows = [row for row in rows if row["currency"] == currency.upper()]
    return rows


@bp.get("/analytics/mrr")
def list_mrrs():
    """Api::V1::Analytics::MrrsController#index: 403 feature_unavailable unless premium."""
    standin = current()
    if not standin.config.premium:
        raise errors.forbidden("feature_unavailable")
    rows = mrr_rows(standin, request.args.get("currency"), request.args.get("months"))
    return jsonify(mrrs=rows)


def overdue_rows(standin: Standin, currency: str | None, months: Any) -> list[dict[str, Any]]:
    """Analytics::OverdueBalance.find_all_by: per month of the due date and currency, what
    overdue invoices still owe (total less paid; the stand-in's credit notes do not offset)."""
    last = _month_start(standin.clock.now())
    first = None
    if months not in (None, ""):
        count = ruby_to_i(months)
        first = _add_months(last, -(0 if count <= 1 else count - 1))
    groups: dict[tuple[datetime, str], dict[str, Any]] = {}
    for invoice in standin.store.all("invoice", newest_first=False):
        if not invoice.get("payment_overdue") or invoice["status"] == "deleted":
            continue
        due = parse_iso(invoice["payment_due_date"] + "T00:00:00Z")
        month = _month_start(due)
        if month > last or (first is not None and month < first):
            continue
        if currency and invoice["currency"] != currency.upper():
            continue
        paid = invoice["total_amount_cents"] if invoice["payment_status"] == "succeeded" else 0
        row = groups.setdefault(
            (month, invoice["currency"]),
            {
                "month": _month_iso(month),
                "amount_cents": 0,
                "currency": invoice["currency"],
                "lago_invoice_ids": [],
            },
        )
        row["amount_cents"] += invoice["total_amount_cents"] - paid
        row["lago_invoice_ids"].append(invoice["id"])
    return [groups[key] for key in sorted(groups)]


@bp.get("/analytics/overdue_balance")
def list_overdue_balances():
    """Api::V1::Analytics::OverdueBalancesController#index (no licence needed)."""
    standin = current()
    rows = overdue_rows(standin, request.args.get("currency"), request.args.get("months"))
    return jsonify(overdue_balances=rows)

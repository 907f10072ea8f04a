"""Usage from events: aggregation, charge models, and `GET /customers/{id}/current_usage`.

Supported aggregations: count, sum, max, unique count, latest (weighted sum is summed).
Charge models: standard, package, percentage, graduated, graduated percentage, volume and
dynamic. Charge filters, grouping and pay-in-advance charges are not modelled: every event of
the metric's code counts toward the charge, and pay-in-advance charges are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors
from ..clock import iso
from ..periods import local_date, zone
from ..state import Standin, current
from . import customers, events, subscriptions

bp = Blueprint("usage", __name__)

CENT = Decimal("0.01")


def decimal_str(value: Decimal | int | float) -> str:
    """A decimal as Ruby's BigDecimal#to_s shows it in Lago's JSON ("10.0", "0.001")."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number)}.0"
    return format(number.normalize(), "f")


def to_cents(amount: Decimal) -> int:
    """Currency units to cents, rounded half up."""
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_decimal(value: Any) -> Decimal | None:
    """A finite decimal from a JSON value, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def aggregate(metric: dict[str, Any], found: list[dict[str, Any]]) -> Decimal:
    """The metric's aggregated units over `found` (oldest first)."""
    kind = metric["aggregation_type"]
    if kind == "count_agg":
        return Decimal(len(found))
    field = metric.get("field_name") or ""
    values = [to_decimal((e.get("properties") or {}).get(field)) for e in found]
    numbers = [v for v in values if v is not None]
    if kind in ("sum_agg", "weighted_sum_agg"):
        return sum(numbers, Decimal(0))
    if kind == "max_agg":
        return max(numbers, default=Decimal(0))
    if kind == "latest_agg":
        return numbers[-1] if numbers else Decimal(0)
    if kind == "unique_count_agg":
        present = {
            str((e.get("properties") or {}).get(field))
            for e in found
            if (e.get("properties") or {}).get(field) is not None
        }
        return Decimal(len(present))
    return Decimal(0)


def _ranges_amount(ranges: list[dict[str, Any]], units: Decimal, *, percentage: bool) -> Decimal:
    """Graduated pricing: each range prices the units falling inside it, plus its flat fee."""
    total = Decimal(0)
    for item in ranges:
        low = Decimal(str(item.get("from_value") or 0))
        high = None if item.get("to_value") is None else Decimal(str(item["to_value"]))
        if units <= 0 or (low > 0 and units < low):
            break
        top = units if high is None else min(units, high)
        count = top - low if low == 0 else top - low + 1
        if count > 0:
            total += Decimal(str(item.get("flat_amount") or 0))
            if percentage:
                total += count * Decimal(str(item.get("rate") or 0)) / 100
            else:
                total += count * Decimal(str(item.get("per_unit_amount") or 0))
        if high is None or units <= high:
            break
    return total


def charge_amount(charge: dict[str, Any], units: Decimal, found: list[dict[str, Any]]) -> Decimal:
    """What a charge costs for `units` (in currency units, not cents)."""
    props = charge.get("properties") or {}
    model = charge["charge_model"]
    if model == "standard":
        return units * Decimal(str(props.get("amount") or 0))
    if model == "package":
        size = Decimal(str(props.get("package_size") or 1))
        billable = max(units - Decimal(str(props.get("free_units") or 0)), Decimal(0))
        return Decimal(math.ceil(billable / size)) * Decimal(str(props.get("amount") or 0))
    if model == "percentage":
        amount = units * Decimal(str(props.get("rate") or 0)) / 100
        if props.get("fixed_amount"):
            amount += Decimal(str(props["fixed_amount"])) * len(found)
        return amount
    if model == "graduated":
        return _ranges_amount(props.get("graduated_ranges") or [], units, percentage=False)
    if model == "graduated_percentage":
        ranges = props.get("graduated_percentage_ranges") or []
        return _ranges_amount(ranges, units, percentage=True)
    if model == "volume":
        for item in props.get("volume_ranges") or []:
            high = item.get("to_value")
            if high is None or units <= Decimal(str(high)):
                flat = Decimal(str(item.get("flat_amount") or 0))
                return units * Decimal(str(item.get("per_unit_amount") or 0)) + flat
        return Decimal(0)
    if model == "dynamic":
        cents = [to_decimal(e.get("precise_total_amount_cents")) for e in found]
        return sum((c for c in cents if c is not None), Decimal(0)) / 100
    return Decimal(0)


@dataclass
class ChargeUsage:
    """One charge's usage over a window."""

    charge: dict[str, Any]
    metric: dict[str, Any]
    units: Decimal
    events_count: int
    amount_cents: int


def charges_usage(
    standin: Standin, subscription: dict[str, Any], start: datetime, end: datetime
) -> list[ChargeUsage]:
    """Usage of every pay-in-arrears charge of the subscription's plan in [start, end)."""
    plan = subscriptions.plan_of(standin, subscription)
    found_usage = []
    for charge in plan.get("charges", []):
        if charge.get("pay_in_advance"):
            continue
        metric = standin.store.get(
            "billable_metric", charge["billable_metric_id"], include_deleted=True
        )
        if metric is None:
            continue
        found = events.in_window(standin, subscription["external_id"], metric["code"], start, end)
        units = aggregate(metric, found)
        amount = to_cents(charge_amount(charge, units, found))
        found_usage.append(ChargeUsage(charge, metric, units, len(found), amount))
    return found_usage


def serialize_charge_usage(item: ChargeUsage, currency: str) -> dict[str, Any]:
    """One `charges_usage` entry (V1::Customers::ChargeUsageSerializer)."""
    return {
        "units": decimal_str(item.units),
        "total_aggregated_units": decimal_str(item.units),
        "events_count": item.events_count,
        "amount_cents": item.amount_cents,
        "amount_currency": currency,
        "charge": {
            "lago_id": item.charge["id"],
            "charge_model": item.charge["charge_model"],
            "invoice_display_name": item.charge.get("invoice_display_name"),
        },
        "billable_metric": {
            "lago_id": item.metric["id"],
            "name": item.metric["name"],
            "code": item.metric["code"],
            "aggregation_type": item.metric["aggregation_type"],
        },
        "filters": [],
        "grouped_usage": [],
    }


def current_usage(
    standin: Standin, customer: dict[str, Any], subscription: dict[str, Any]
) -> dict[str, Any]:
    """The `customer_usage` object for the subscription's current billing period."""
    now = standin.clock.now()
    period = subscriptions.current_period(standin, subscription, now)
    start = max(period.start, subscriptions.started_at(subscription) or period.start)
    plan = subscriptions.plan_of(standin, subscription)
    currency = plan["amount_currency"]
    items = charges_usage(standin, subscription, start, period.end)
    amount = sum(item.amount_cents for item in items)
    tz = customers.timezone_of(standin, customer)
    return {
        "from_datetime": iso(start),
        "to_datetime": iso(period.last_second),
        "issuing_date": local_date(period.end, zone(tz)).isoformat(),
        "lago_invoice_id": None,
        "currency": currency,
        "amount_cents": amount,
        "taxes_amount_cents": 0,
        "total_amount_cents": amount,
        "charges_usage": [serialize_charge_usage(item, currency) for item in items],
    }


def ongoing_usage_cents(standin: Standin, customer_id: str) -> int:
    """Current usage of the customer's active subscriptions plus its draft invoices (what a
    wallet's ongoing balance subtracts)."""
    total = sum(
        i["total_amount_cents"]
        for i in standin.store.all(
            "invoice", where=lambda i: i["customer_id"] == customer_id and i["status"] == "draft"
        )
    )
    for subscription in subscriptions.active_for_customer(standin, customer_id):
        period = subscriptions.current_period(standin, subscription, standin.clock.now())
        start = max(period.start, subscriptions.started_at(subscription) or period.start)
        total += sum(
            i.amount_cents for i in charges_usage(standin, subscription, start, period.end)
        )
    return total


@bp.get("/customers/<external_customer_id>/current_usage")
def get_current_usage(external_customer_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    external_id = request.args.get("external_subscription_id")
    if not external_id:
        raise errors.missing_param("external_subscription_id")
    subscription = subscriptions.find_active(standin, external_id)
    if subscription is None or subscription["customer_id"] != customer["id"]:
        raise errors.not_found("subscription")
    return jsonify(customer_usage=current_usage(standin, customer, subscription))

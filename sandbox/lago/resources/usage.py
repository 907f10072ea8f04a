"""Usage from events: aggregation, charge models, `GET /customers/{id}/current_usage` and
`GET /customers/{id}/past_usage`.

Supported aggregations: count, sum, max, unique count, latest (weighted sum is summed).
Charge models: standard, package, percentage, graduated, graduated percentage, volume and
dynamic. Charge filters, grouping and pay-in-advance charges are not modelled: every event of
the metric's code counts toward the charge, and pay-in-advance charges are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..clock import iso, parse_iso
from ..periods import local_date, zone
from ..state import Standin, current
from . import Problems, billable_metrics, blank, customers, events, subscriptions

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


def charges_window(standin: Standin, subscription: dict[str, Any]) -> tuple[Any, datetime]:
    """The current billing period and where its charges start (not before the subscription)."""
    period = subscriptions.current_period(standin, subscription, standin.clock.now())
    return period, max(period.start, subscriptions.started_at(subscription) or period.start)


def customer_and_subscription(external_customer_id: str) -> tuple[Standin, dict, dict]:
    """The customer and its active subscription named by `external_subscription_id`:
    404 for an unknown customer, 405 `no_active_subscription` (Invoices::CustomerUsageService)
    when the parameter is missing or names no active subscription of the customer."""
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    external_id = request.args.get("external_subscription_id") or ""
    subscription = subscriptions.find_active(standin, external_id)
    if subscription is None or subscription["customer_id"] != customer["id"]:
        raise errors.not_allowed("no_active_subscription")
    return standin, customer, subscription


def current_usage(
    standin: Standin, customer: dict[str, Any], subscription: dict[str, Any]
) -> dict[str, Any]:
    """The `customer_usage` object for the subscription's current billing period."""
    period, start = charges_window(standin, subscription)
    currency = subscriptions.plan_of(standin, subscription)["amount_currency"]
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
        period, start = charges_window(standin, subscription)
        total += sum(
            i.amount_cents for i in charges_usage(standin, subscription, start, period.end)
        )
    return total


@bp.get("/customers/<external_customer_id>/current_usage")
def get_current_usage(external_customer_id: str):
    """Invoices::CustomerUsageService: 405 `no_active_subscription` unless the customer has an
    active subscription with this external id (also when the parameter is missing)."""
    standin, customer, subscription = customer_and_subscription(external_customer_id)
    return jsonify(customer_usage=current_usage(standin, customer, subscription))


# --- projected usage (ProjectedUsageController, Fees::ProjectionService) --------------------

PROJECTED_USAGE_INTEGRATION = "projected_usage"


def days_between(start: datetime, end: datetime, tz_name: str) -> int:
    """Utils::Datetime.date_diff_with_timezone: whole days, rounded up, in the zone."""
    tz = zone(tz_name)
    local_end = end.astimezone(tz)
    if local_end == local_end.replace(hour=0, minute=0, second=0, microsecond=0):
        end = end + timedelta(seconds=1)
    offset = start.astimezone(tz).utcoffset() - end.astimezone(tz).utcoffset()
    return math.ceil((end - start - offset).total_seconds() / 86400)


def period_ratio(start: datetime, last_second: datetime, now: datetime, tz_name: str) -> float:
    """How much of the charges period has passed, in days of the customer's zone (0 to 1)."""
    if now >= last_second:
        return 1.0
    if now < start:
        return 0.0
    total = days_between(start, last_second, tz_name)
    passed = days_between(start, now, tz_name)
    return min(max(passed / total, 0.0), 1.0) if total else 0.0


def project(item: ChargeUsage, ratio: float, found: list[dict[str, Any]]) -> tuple[Decimal, int]:
    """A charge's projected units and amount in cents: the units so far over the share of the
    period passed (two decimals), priced by the charge model. A recurring metric keeps its
    units and amount."""
    if item.metric.get("recurring"):
        return item.units, item.amount_cents
    if not 0 < ratio <= 1:
        return Decimal(0), 0
    if item.units == 0:
        return Decimal(0), 0
    units = (item.units / Decimal(str(ratio))).quantize(CENT, rounding=ROUND_HALF_UP)
    amount = charge_amount(item.charge, units, found)
    return units, max(to_cents(amount), 0)


def projected_usage(
    standin: Standin, customer: dict[str, Any], subscription: dict[str, Any]
) -> dict[str, Any]:
    """The `customer_projected_usage` object of the subscription's current period."""
    period, start = charges_window(standin, subscription)
    currency = subscriptions.plan_of(standin, subscription)["amount_currency"]
    tz = customers.timezone_of(standin, customer)
    ratio = period_ratio(start, period.last_second, standin.clock.now(), tz)
    items = charges_usage(standin, subscription, start, period.end)
    charges = []
    projected_total = 0
    for item in items:
        found = events.in_window(
            standin, subscription["external_id"], item.metric["code"], start, period.end
        )
        units, cents = project(item, ratio, found)
        projected_total += cents
        charges.append(
            {
                **serialize_charge_usage(item, currency),
                "projected_units": decimal_str(units),
                "projected_amount_cents": cents,
            }
        )
    amount = sum(item.amount_cents for item in items)
    return {
        "from_datetime": iso(start),
        "to_datetime": iso(period.last_second),
        "issuing_date": local_date(period.end, zone(tz)).isoformat(),
        "currency": currency,
        "amount_cents": amount,
        "projected_amount_cents": projected_total,
        "total_amount_cents": amount,
        "taxes_amount_cents": 0,
        "lago_invoice_id": None,
        "charges_usage": charges,
    }


@bp.get("/customers/<external_customer_id>/projected_usage")
def get_projected_usage(external_customer_id: str):
    """403 `projected_usage_not_enabled` unless the organization has the premium integration;
    then as `current_usage` (405 `no_active_subscription`)."""
    standin = current()
    enabled = standin.config.premium and (
        PROJECTED_USAGE_INTEGRATION in standin.config.premium_integrations
    )
    if not enabled:
        raise errors.forbidden("projected_usage_not_enabled")
    standin, customer, subscription = customer_and_subscription(external_customer_id)
    return jsonify(customer_projected_usage=projected_usage(standin, customer, subscription))


# --- past usage (PastUsageQuery) ------------------------------------------------------------


@dataclass
class UsagePeriod:
    """One billed period of a subscription: the invoice and its billing period entry."""

    invoice: dict[str, Any]
    period: dict[str, Any]


def past_periods(
    standin: Standin, customer: dict[str, Any], external_subscription_id: str
) -> list[UsagePeriod]:
    """Every invoiced period of the subscriptions with this external id, newest charges first.

    lago-api reads one InvoiceSubscription per invoice and subscription; the stand-in's
    invoices may list a subscription twice (the ended period's usage and the new period's
    advance fee), and the earliest charges window is the one whose usage was billed.
    """
    found: dict[tuple[str, str], UsagePeriod] = {}
    for invoice in standin.store.all("invoice", where=lambda i: i["customer_id"] == customer["id"]):
        for period in invoice.get("billing_periods", []):
            if period["external_subscription_id"] != external_subscription_id:
                continue
            key = (invoice["id"], period["lago_subscription_id"])
            known = found.get(key)
            if (
                known is None
                or period["charges_from_datetime"] < known.period["charges_from_datetime"]
            ):
                found[key] = UsagePeriod(invoice, period)
    ordered = sorted(found.values(), key=lambda u: u.invoice["id"])
    ordered.sort(key=lambda u: u.invoice["created_at"], reverse=True)
    ordered.sort(key=lambda u: parse_iso(u.period["charges_from_datetime"]), reverse=True)
    return ordered


def _fee_usage(standin: Standin, fee: dict[str, Any], sub: dict[str, Any]) -> ChargeUsage | None:
    plan = subscriptions.plan_of(standin, sub)
    charge = next((c for c in plan.get("charges", []) if c["id"] == fee.get("charge_id")), None)
    metric = standin.store.get("billable_metric", fee["item"]["lago_item_id"], include_deleted=True)
    if charge is None or metric is None:
        return None
    units = to_decimal(fee["units"]) or Decimal(0)
    return ChargeUsage(charge, metric, units, fee.get("events_count") or 0, fee["amount_cents"])


def serialize_past_usage(
    standin: Standin, item: UsagePeriod, metric_code: str | None
) -> dict[str, Any]:
    """V1::Customers::PastUsageSerializer: amounts are the whole invoice's fees, the charges
    are this subscription's usage fees."""
    invoice = item.invoice
    sub = standin.store.get(subscriptions.KIND, item.period["lago_subscription_id"])
    charges = []
    for fee in invoice["fees"]:
        if fee["fee_type"] != "charge" or sub is None:
            continue
        if fee.get("subscription_id") != sub["id"]:
            continue
        found = _fee_usage(standin, fee, sub)
        if found is not None and metric_code in (None, found.metric["code"]):
            charges.append(serialize_charge_usage(found, invoice["currency"]))
    return {
        "from_datetime": item.period["charges_from_datetime"],
        "to_datetime": item.period["charges_to_datetime"],
        "issuing_date": invoice["issuing_date"],
        "currency": invoice["currency"],
        "amount_cents": invoice["fees_amount_cents"],
        "total_amount_cents": invoice["fees_amount_cents"],
        "taxes_amount_cents": 0,
        "lago_invoice_id": invoice["id"],
        "charges_usage": charges,
    }


@bp.get("/customers/<external_customer_id>/past_usage")
def get_past_usage(external_customer_id: str):
    """PastUsageQuery: `external_subscription_id` is mandatory; `periods_count` caps the page
    (Kaminari's `limit` after `per`, so the offset still counts in `per_page`)."""
    standin = current()
    args = request.args
    external_id = args.get("external_subscription_id")
    problems = Problems()
    if blank(external_id):
        problems.add("external_subscription_id", "value_is_mandatory")
    problems.raise_if_any()
    metric_code = args.get("billable_metric_code") or None
    if metric_code and billable_metrics.find(standin, metric_code) is None:
        raise errors.not_found("billable_metric")
    customer = customers.find(standin, external_customer_id)
    found = past_periods(standin, customer, external_id) if customer else []
    page, per_page = pagination.page_and_limit(args)
    offset = (page - 1) * per_page
    limit = per_page
    if args.get("periods_count") is not None:
        limit = pagination.ruby_to_i(args["periods_count"])
    meta = pagination.meta(len(found), offset // limit + 1 if limit else page, limit)
    return jsonify(
        usage_periods=[
            serialize_past_usage(standin, item, metric_code)
            for item in found[offset : offset + limit]
        ],
        meta=meta,
    )

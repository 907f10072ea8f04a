"""Subscriptions: create (and change plan), list, get, update, terminate; trials and billing.

Follows lago-api's Subscriptions::CreateService and friends (NOTES §2.4):

* a POST with the `external_id` of an active (or not yet started) subscription of the same
  customer changes its plan: same plan returns it unchanged; a plan whose base fee per year is
  at least the current one's is an upgrade (new subscription now, the old one terminated, one
  invoice for both, a credit note for unused pay-in-advance time); a cheaper one is a downgrade
  (a pending next subscription that starts at the end of the period; the response is the current
  subscription with `next_plan_code` and `downgrade_plan_date`, and `subscription.updated`);
* `subscription_at` today starts it now (pay-in-advance plans outside a trial are billed now),
  in the past starts it without billing, in the future leaves it pending until that day;
* the trial runs `trial_period` days from the first start of the `external_id`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..clock import iso, parse_iso
from ..periods import (
    Period,
    date_diff,
    local_date,
    period_at,
    start_of_local_day,
    yearly_amount_cents,
    zone,
)
from ..state import Standin, current
from . import (
    Problems,
    blank,
    credit_notes,
    customers,
    invoices,
    payment_methods,
    plans,
    register_object,
    require,
)

bp = Blueprint("subscriptions", __name__)

KIND = "subscription"
CREDIT_NOTE_OPTIONS = ("credit", "refund", "offset", "skip")
INVOICE_OPTIONS = ("generate", "skip")
TERMINATION_ALERT_DAYS = (45, 15)


# --- lookups -------------------------------------------------------------------------------


def plan_of(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """The subscription's plan (deleted plans included)."""
    plan = standin.store.get("plan", sub["plan_id"], include_deleted=True)
    if plan is None:
        raise errors.not_found("plan")
    return plan


def customer_of(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """The subscription's customer (deleted customers included)."""
    return customers.get_by_id(standin, sub["customer_id"])


def tz_of(standin: Standin, sub: dict[str, Any]) -> str:
    """The time zone the subscription's periods are computed in."""
    return customers.timezone_of(standin, customer_of(standin, sub))


def started_at(sub: dict[str, Any]) -> datetime | None:
    """When the subscription started (None while pending)."""
    return parse_iso(sub.get("started_at"))


def _all(standin: Standin, **match: Any) -> list[dict[str, Any]]:
    return standin.store.all(KIND, where=lambda s: all(s.get(k) == v for k, v in match.items()))


def find_active(standin: Standin, external_id: str) -> dict[str, Any] | None:
    """The active subscription with this external id."""
    found = _all(standin, external_id=external_id, status="active")
    return found[0] if found else None


def find(standin: Standin, external_id: str, status: str = "active") -> dict[str, Any] | None:
    """The newest subscription with this external id and status."""
    found = _all(standin, external_id=external_id, status=status)
    return found[0] if found else None


def get_or_404(standin: Standin, external_id: str, status: str = "active") -> dict[str, Any]:
    """The subscription with this external id and status, or 404 subscription_not_found."""
    sub = find(standin, external_id, status)
    if sub is None:
        raise errors.not_found("subscription")
    return sub


def for_event(standin: Standin, external_id: str, moment: datetime) -> dict[str, Any] | None:
    """The subscription an event with this external id belongs to."""
    found = [s for s in _all(standin, external_id=external_id) if s["status"] != "pending"]
    for sub in found:
        start = started_at(sub)
        end = parse_iso(sub.get("terminated_at"))
        if start and start <= moment and (end is None or moment < end):
            return sub
    return found[0] if found else None


def active_for_customer(standin: Standin, customer_id: str) -> list[dict[str, Any]]:
    """A customer's active subscriptions."""
    return _all(standin, customer_id=customer_id, status="active")


def next_subscription(standin: Standin, sub: dict[str, Any]) -> dict[str, Any] | None:
    """Lago's `next_subscription`: the newest subscription that follows this one and is not
    canceled (a scheduled downgrade, or the plan that replaced this one)."""
    found = [
        s for s in _all(standin, previous_subscription_id=sub["id"]) if s["status"] != "canceled"
    ]
    return found[0] if found else None


def pending_next(standin: Standin, sub: dict[str, Any]) -> dict[str, Any] | None:
    """The downgrade scheduled after this subscription (its pending next one), if any."""
    following = next_subscription(standin, sub)
    return following if following is not None and following["status"] == "pending" else None


def initial_started_at(standin: Standin, sub: dict[str, Any]) -> datetime | None:
    """The first start of this external id for this customer (trials are not restarted)."""
    starts = [
        started_at(s)
        for s in [
            sub,
            *_all(standin, external_id=sub["external_id"], customer_id=sub["customer_id"]),
        ]
        if s.get("started_at")
    ]
    return min(starts) if starts else None  # type: ignore[type-var]


def trial_end(standin: Standin, sub: dict[str, Any]) -> datetime | None:
    """When the free trial ends (None without a trial or before the start)."""
    days = plan_of(standin, sub).get("trial_period") or 0
    first = initial_started_at(standin, sub)
    if not days or first is None:
        return None
    return first + timedelta(days=float(days))


def in_trial(standin: Standin, sub: dict[str, Any], at: datetime) -> bool:
    """Whether `at` falls inside the free trial."""
    end = trial_end(standin, sub)
    return end is not None and at < end


def current_period(standin: Standin, sub: dict[str, Any], at: datetime) -> Period:
    """The billing period containing `at`."""
    plan = plan_of(standin, sub)
    return period_at(
        at,
        interval=plan["interval"],
        billing_time=sub["billing_time"],
        anchor=parse_iso(sub["subscription_at"]),  # type: ignore[arg-type]
        tz_name=tz_of(standin, sub),
    )


# --- serialization -------------------------------------------------------------------------


def _billing_period_bounds(standin: Standin, sub: dict[str, Any]) -> tuple[str | None, str | None]:
    start = started_at(sub)
    if sub["status"] == "active" and start is not None:
        period = current_period(standin, sub, max(standin.clock.now(), start))
        return iso(max(period.start, start)), iso(period.last_second)
    ended = parse_iso(sub.get("terminated_at"))
    if sub["status"] == "terminated" and start is not None and ended is not None:
        period = current_period(standin, sub, max(ended - timedelta(seconds=1), start))
        return iso(max(period.start, start)), iso(ended)
    return None, None


def downgrade_plan_date(standin: Standin, sub: dict[str, Any]) -> str | None:
    """Subscription#downgrade_plan_date: the day a pending downgrade starts (the day after the
    current period's last day), or the start of the cheaper plan that replaced this one."""
    following = next_subscription(standin, sub)
    if following is None:
        return None
    if following["status"] == "active":
        downgraded = yearly_amount_cents(plan_of(standin, sub)) > yearly_amount_cents(
            plan_of(standin, following)
        )
        start = started_at(following)
        return start.date().isoformat() if downgraded and start else None
    if following["status"] != "pending":
        return None
    at = max(standin.clock.now(), started_at(sub) or standin.clock.now())
    period = current_period(standin, sub, at)
    return local_date(period.end, zone(tz_of(standin, sub))).isoformat()


def serialize(
    standin: Standin,
    sub: dict[str, Any],
    *,
    with_plan: bool = False,
    with_customer: bool = False,
    usage_threshold: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A subscription as V1::SubscriptionSerializer renders it."""
    plan = plan_of(standin, sub)
    customer = customer_of(standin, sub)
    previous = (
        standin.store.get(KIND, sub["previous_subscription_id"])
        if sub.get("previous_subscription_id")
        else None
    )
    following = next_subscription(standin, sub)
    period_start, period_end = _billing_period_bounds(standin, sub)
    data: dict[str, Any] = {
        "lago_id": sub["id"],
        "external_id": sub["external_id"],
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "billing_entity_code": standin.org()["billing_entity_code"],
        "name": sub.get("name"),
        "plan_code": plan["code"],
        "plan_amount_cents": plan["amount_cents"],
        "plan_amount_currency": plan["amount_currency"],
        "status": sub["status"],
        "billing_time": sub["billing_time"],
        "subscription_at": sub["subscription_at"],
        "started_at": sub.get("started_at"),
        "trial_ended_at": sub.get("trial_ended_at"),
        "ending_at": sub.get("ending_at"),
        "terminated_at": sub.get("terminated_at"),
        "canceled_at": sub.get("canceled_at"),
        "created_at": sub["created_at"],
        "previous_plan_code": plan_of(standin, previous)["code"] if previous else None,
        "next_plan_code": plan_of(standin, following)["code"] if following else None,
        "downgrade_plan_date": downgrade_plan_date(standin, sub),
        "current_billing_period_started_at": period_start,
        "current_billing_period_ending_at": period_end,
        "on_termination_credit_note": sub.get("on_termination_credit_note"),
        "on_termination_invoice": sub.get("on_termination_invoice", "generate"),
        "progressive_billing_disabled": sub.get("progressive_billing_disabled", False),
        "consolidate_invoice": sub.get("consolidate_invoice", True),
        "purchase_order_number": sub.get("purchase_order_number"),
        "cancellation_reason": sub.get("cancellation_reason"),
        "activated_at": sub.get("activated_at"),
        "activation_rules": [],
        "payment_method": {
            "payment_method_id": sub.get("payment_method_id"),
            "payment_method_type": sub.get("payment_method_type", "provider"),
        },
    }
    if with_customer:
        data["customer"] = customers.serialize(standin, customer)
    if with_plan:
        data["plan"] = plans.serialize(standin, plan)
    if usage_threshold is not None:
        data["usage_threshold"] = usage_threshold
        data["applicable_usage_thresholds"] = [
            {
                "threshold_display_name": t.get("threshold_display_name"),
                "amount_cents": t["amount_cents"],
                "recurring": t["recurring"],
            }
            for t in plan.get("usage_thresholds", [])
        ]
    return data


def emit(standin: Standin, webhook_type: str, sub: dict[str, Any], **extra: Any) -> None:
    """Send a subscription webhook (with the plan and customer, as lago-api does)."""
    payload = serialize(standin, sub, with_plan=True, with_customer=True, **extra)
    standin.webhooks.emit(webhook_type, payload)


@register_object("subscription")
def _find_for_trigger(
    standin: Standin, identifier: str, webhook_type: str = "", **_context: Any
) -> dict | None:
    """By lago id or external id (the active one, else the newest)."""
    sub = standin.store.get(KIND, identifier) or find_active(standin, identifier)
    if sub is None:
        found = _all(standin, external_id=identifier)
        sub = found[0] if found else None
    if sub is None:
        return None
    threshold = None
    if webhook_type == "subscription.usage_threshold_reached":
        threshold = _threshold_for_trigger(standin, sub)
    return serialize(standin, sub, with_plan=True, with_customer=True, usage_threshold=threshold)


def _threshold_for_trigger(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """The plan's first usage threshold, or a stand-in one of the plan's base fee."""
    plan = plan_of(standin, sub)
    thresholds = plan.get("usage_thresholds") or []
    if thresholds:
        return dict(thresholds[0])
    now = standin.clock.now_iso()
    return {
        "lago_id": sub["id"],
        "threshold_display_name": None,
        "amount_cents": plan["amount_cents"] or 10000,
        "recurring": False,
        "created_at": now,
        "updated_at": now,
    }


# --- billing -------------------------------------------------------------------------------


@dataclass
class Bill:
    """What one invoice bills for one subscription."""

    subscription: dict[str, Any]
    reason: str  # BillingPeriodObject.invoicing_reason
    fee: tuple[datetime, datetime, Period] | None = None  # base fee window and its period
    charges: tuple[datetime, datetime] | None = None  # usage window
    period: Period | None = None  # the period shown in billing_periods
    extra: dict[str, Any] = field(default_factory=dict)
    fee_days: int | None = None  # days billed when not the local days the fee window touches


def _fee_window(
    standin: Standin, sub: dict[str, Any], period: Period, start: datetime, end: datetime
) -> tuple[datetime, datetime, Period] | None:
    """The base-fee window inside [start, end), with the trial days left out."""
    trial = trial_end(standin, sub)
    if trial is not None and trial > start:
        start = min(trial, end)
    return (start, end, period)


def bill_start(standin: Standin, sub: dict[str, Any], at: datetime) -> Bill | None:
    """The pay-in-advance fee for the rest of the first period (None in a trial or arrears)."""
    plan = plan_of(standin, sub)
    if not plan.get("pay_in_advance") or in_trial(standin, sub, at):
        return None
    period = current_period(standin, sub, at)
    start = max(period.start, started_at(sub) or at)
    _mark_billed(sub, period)
    return Bill(sub, "subscription_starting", fee=(start, period.end, period), period=period)


def bill_trial_end(standin: Standin, sub: dict[str, Any], at: datetime) -> Bill | None:
    """FreeTrialBillingService: bill a pay-in-advance plan from the trial's end."""
    plan = plan_of(standin, sub)
    period = current_period(standin, sub, at)
    if not plan.get("pay_in_advance") or _billed(sub, period):
        return None
    _mark_billed(sub, period)
    window = _fee_window(standin, sub, period, max(period.start, started_at(sub) or at), period.end)
    return Bill(sub, "subscription_starting", fee=window, period=period)


def bill_boundary(
    standin: Standin, sub: dict[str, Any], boundary: datetime, *, next_sub: dict | None = None
) -> list[Bill]:
    """The periodic invoice at a period boundary: arrears for the ended period, advance for
    the new one (for `next_sub` when a downgrade starts at this boundary)."""
    plan = plan_of(standin, sub)
    ended = current_period(standin, sub, boundary - timedelta(seconds=1))
    start = max(ended.start, started_at(sub) or ended.start)
    bills = []
    # A downgrade switchover bills the old subscription's end and the new one's start
    # (lago-api's `upgrading`, stored per subscription as terminating and starting).
    reason = "subscription_terminating" if next_sub else "subscription_periodic"
    arrears = Bill(sub, reason, charges=(start, ended.end), period=ended)
    if not plan.get("pay_in_advance"):
        arrears.fee = _fee_window(standin, sub, ended, start, ended.end)
    bills.append(arrears)
    upcoming = next_sub or sub
    upcoming_plan = plan_of(standin, upcoming)
    if upcoming_plan.get("pay_in_advance"):
        period = current_period(standin, upcoming, boundary)
        if not _billed(upcoming, period):
            _mark_billed(upcoming, period)
            # A subscription starting inside the period (after a downgrade) is prorated from
            # its start (Fees::SubscriptionService#first_subscription_amount).
            start = max(period.start, started_at(upcoming) or period.start)
            window = _fee_window(standin, upcoming, period, start, period.end)
            reason = "subscription_starting" if next_sub else "subscription_periodic"
            bills.append(Bill(upcoming, reason, fee=window, period=period))
    return bills


def bill_termination(
    standin: Standin, sub: dict[str, Any], at: datetime, *, upgrade: bool = False
) -> Bill:
    """What is left to bill when a subscription ends at `at`: usage, and arrears base fee.

    An upgraded plan paid in arrears is billed for its days before the day of the upgrade
    (Subscription#date_diff_with_timezone takes one day off for a terminated, upgraded one),
    counted from the period's start, or from the trial's end to the second."""
    plan = plan_of(standin, sub)
    period = current_period(standin, sub, max(at - timedelta(seconds=1), started_at(sub) or at))
    start = max(period.start, started_at(sub) or period.start)
    bill = Bill(sub, "subscription_terminating", charges=(start, at), period=period)
    if not plan.get("pay_in_advance"):
        bill.fee = _fee_window(standin, sub, period, start, at)
        if upgrade:
            tz = tz_of(standin, sub)
            first = bill.fee[0] if bill.fee[0] > start else start_of_local_day(start, tz)
            bill.fee_days = max(date_diff(first, at, tz) - 1, 0) if first < at else 0
    return bill


def _billed(sub: dict[str, Any], period: Period) -> bool:
    return iso(period.start) in sub.setdefault("billed_periods", [])


def _mark_billed(sub: dict[str, Any], period: Period) -> None:
    if not _billed(sub, period):
        sub["billed_periods"].append(iso(period.start))


def save(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """Store a subscription."""
    return standin.store.save(KIND, sub, key=sub["external_id"])


# --- lifecycle -----------------------------------------------------------------------------


def activate(
    standin: Standin, sub: dict[str, Any], at: datetime, *, bill: bool = True
) -> dict[str, Any]:
    """Start a pending subscription at `at` (pay-in-advance plans outside a trial are billed)."""
    sub["status"] = "active"
    sub["started_at"] = iso(at)
    sub["activated_at"] = sub.get("activated_at") or iso(at)
    # A start in the past is not billed for the periods already gone (no catch-up billing).
    sub["next_billing_at"] = iso(current_period(standin, sub, max(at, standin.clock.now())).end)
    start_bill = bill_start(standin, sub, at) if bill else None
    sub = save(standin, sub)
    emit(standin, "subscription.started", sub)
    if start_bill is not None:
        invoices.bill(standin, customer_of(standin, sub), [start_bill], at=at)
    return standin.store.get(KIND, sub["id"]) or sub


def cancel(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """A pending subscription stops before it started (`mark_as_canceled!`, no webhook: Lago
    sends `subscription.canceled` only when a payment-gated subscription is rejected)."""
    sub["status"] = "canceled"
    sub["canceled_at"] = sub.get("canceled_at") or standin.clock.now_iso()
    return save(standin, sub)


def cancel_pending(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """DELETE ?status=pending (TerminateService on a pending subscription): canceled, then
    `subscription.updated` for the subscription it was to replace and `subscription.terminated`
    for the canceled one."""
    sub = cancel(standin, sub)
    previous = sub.get("previous_subscription_id")
    current_sub = standin.store.get(KIND, previous) if previous else None
    if current_sub is not None:
        emit(standin, "subscription.updated", current_sub)
    emit(standin, "subscription.terminated", sub)
    return sub


def terminate(
    standin: Standin,
    sub: dict[str, Any],
    at: datetime,
    *,
    credit_note: str | None = None,
    invoice: str | None = None,
    upgrade: bool = False,
) -> tuple[dict[str, Any], Bill | None]:
    """End an active subscription: credit note for unused paid time, invoice (an upgrade gets
    the bill back to put on the new subscription's invoice), pending next one canceled."""
    plan = plan_of(standin, sub)
    if credit_note is not None and plan.get("pay_in_advance"):
        sub["on_termination_credit_note"] = credit_note
    if invoice is not None:
        sub["on_termination_invoice"] = invoice
    credit_note = sub.get("on_termination_credit_note") or "credit"
    invoice = sub.get("on_termination_invoice") or "generate"
    sub["status"] = "terminated"
    sub["terminated_at"] = iso(at)
    sub = save(standin, sub)
    following = pending_next(standin, sub)
    if following is not None and not upgrade:
        cancel(standin, following)
    final_bill = (
        bill_termination(standin, sub, at, upgrade=upgrade)
        if invoice == "generate" or upgrade
        else None
    )
    emit(standin, "subscription.terminated", sub)
    if plan.get("pay_in_advance") and credit_note != "skip":
        credit_notes.create_from_termination(
            standin, sub, at, refund=credit_note == "refund", upgrade=upgrade
        )
    if final_bill is not None and not upgrade:
        invoices.bill(standin, customer_of(standin, sub), [final_bill], at=at)
        final_bill = None
    return sub, final_bill


def _new_subscription(
    standin: Standin,
    customer: dict[str, Any],
    plan: dict[str, Any],
    params: dict[str, Any],
    **fields: Any,
) -> dict[str, Any]:
    method = params.get("payment_method") or {}
    sub = {
        "external_id": params["external_id"].strip(),
        "customer_id": customer["id"],
        "plan_id": plan["id"],
        "name": (params.get("name") or "").strip() or None,
        "status": "pending",
        "billing_time": params.get("billing_time") or "calendar",
        "subscription_at": params.get("subscription_at") or standin.clock.now_iso(),
        "started_at": None,
        "trial_ended_at": None,
        "ending_at": _iso_or_none(params.get("ending_at")),
        "terminated_at": None,
        "canceled_at": None,
        "previous_subscription_id": None,
        "on_termination_credit_note": "credit" if plan.get("pay_in_advance") else None,
        "on_termination_invoice": "generate",
        "consolidate_invoice": bool(params.get("consolidate_invoice", True)),
        "progressive_billing_disabled": False,
        "purchase_order_number": params.get("purchase_order_number"),
        "payment_method_type": method.get("payment_method_type", "provider"),
        "payment_method_id": method.get("payment_method_id"),
        "billed_periods": [],
        "alerts_sent": [],
        "next_billing_at": None,
    }
    sub["subscription_at"] = iso(parse_iso(sub["subscription_at"]))
    sub.update(fields)
    return sub


def _iso_or_none(value: Any) -> str | None:
    moment = parse_iso(value) if isinstance(value, str) else None
    return iso(moment) if moment else None


def _parse_moment(value: Any, field_name: str, problems: Problems) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parse_iso(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.add(field_name, "invalid_date")
        return None
    return moment


def _check_dates(standin: Standin, params: dict[str, Any], problems: Problems) -> None:
    now = standin.clock.now()
    subscription_at = _parse_moment(params.get("subscription_at"), "subscription_at", problems)
    start = subscription_at or now
    if params.get("ending_at") is not None:
        ending_at = _parse_moment(params["ending_at"], "ending_at", problems)
        if ending_at is not None and (
            ending_at.date() <= now.date() or ending_at.date() <= start.date()
        ):
            problems.add("ending_at", "invalid_date")


def _check_termination_options(values: Any, problems: Problems) -> None:
    """`on_termination_credit_note` and `on_termination_invoice`, when given, are known values."""
    for name, allowed in (
        ("on_termination_credit_note", CREDIT_NOTE_OPTIONS),
        ("on_termination_invoice", INVOICE_OPTIONS),
    ):
        value = values.get(name)
        if not blank(value) and value not in allowed:
            problems.add(name, "invalid_value")


def _check_payment_method(
    standin: Standin, customer: dict[str, Any] | None, params: dict[str, Any], problems: Problems
) -> None:
    method = params.get("payment_method") or {}
    if not method.get("payment_method_id"):
        return
    owned = customer and any(
        m["id"] == method["payment_method_id"]
        for m in payment_methods.for_customer(standin, customer["id"])
    )
    if not owned:
        problems.add("payment_method", "invalid_payment_method")


def create(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """POST /subscriptions: create, or change the plan of the subscription with this external id."""
    problems = Problems()
    for name in ("external_customer_id", "external_id", "plan_code"):
        if blank(params.get(name)):
            problems.add(name, "value_is_mandatory")
    problems.raise_if_any()
    plan = plans.find(standin, params["plan_code"])
    if plan is None:
        raise errors.not_found("plan")
    customer = customers.find(standin, params["external_customer_id"])
    _check_dates(standin, params, problems)
    _check_payment_method(standin, customer, params, problems)
    problems.raise_if_any()
    if customer is None:
        customer = customers.create_bare(standin, params["external_customer_id"])
    _check_currency(standin, customer, plan)
    external_id = params["external_id"].strip()
    editable = [
        s
        for s in _all(standin, customer_id=customer["id"], external_id=external_id)
        if s["status"] == "active"
        or (s["status"] == "pending" and not s.get("previous_subscription_id"))
    ]
    current_sub = editable[0] if editable else None
    if current_sub is None and find_active(standin, external_id) is not None:
        raise errors.single_validation_error("value_already_exist", "external_id")
    if current_sub is None:
        return _create_new(standin, customer, plan, params)
    if current_sub["plan_id"] == plan["id"]:
        return current_sub
    current_plan = plan_of(standin, current_sub)
    if current_sub["status"] == "pending":
        current_sub["plan_id"] = plan["id"]
        if (params.get("name") or "").strip():
            current_sub["name"] = params["name"].strip()
        return save(standin, current_sub)
    if yearly_amount_cents(plan) >= yearly_amount_cents(current_plan):
        return upgrade(standin, current_sub, plan, params)
    return downgrade(standin, current_sub, plan, params)


def _check_currency(standin: Standin, customer: dict[str, Any], plan: dict[str, Any]) -> None:
    """Customers::UpdateCurrencyService: the first plan sets the customer's currency."""
    currency = customer.get("currency")
    if currency is None:
        customer["currency"] = plan["amount_currency"]
        standin.store.save(customers.KIND, customer, key=customer["external_id"])
    elif currency != plan["amount_currency"]:
        raise errors.single_validation_error("currencies_does_not_match", "currency")


def _create_new(
    standin: Standin, customer: dict[str, Any], plan: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    sub = standin.store.insert(
        KIND, _new_subscription(standin, customer, plan, params), key=params["external_id"].strip()
    )
    tz = zone(customers.timezone_of(standin, customer))
    now = standin.clock.now()
    at = parse_iso(sub["subscription_at"])
    assert at is not None
    today, day = local_date(now, tz), local_date(at, tz)
    if day == today:
        return activate(standin, sub, at)
    if day < today:
        return activate(standin, sub, at, bill=False)
    return sub


def _successor(
    standin: Standin, current_sub: dict[str, Any], plan: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """A pending next subscription on the new plan, in place of any pending downgrade (canceled
    without a webhook). It takes over the current one's dates and, unless the request says,
    its ending, invoice consolidation and purchase order number."""
    pending = pending_next(standin, current_sub)
    if pending is not None:
        cancel(standin, pending)
    inherited = {
        "subscription_at": current_sub["subscription_at"],
        "billing_time": current_sub["billing_time"],
    }
    for name in ("ending_at", "consolidate_invoice", "purchase_order_number"):
        inherited[name] = params[name] if name in params else current_sub.get(name)
    fields = _new_subscription(
        standin,
        customer_of(standin, current_sub),
        plan,
        dict(params) | inherited,
        previous_subscription_id=current_sub["id"],
    )
    return standin.store.insert(KIND, fields, key=current_sub["external_id"])


def upgrade(
    standin: Standin, current_sub: dict[str, Any], plan: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """PlanUpgradeService: the new plan starts now, and one invoice bills the old
    subscription's end and the new one's start."""
    now = standin.clock.now()
    new_sub = _successor(standin, current_sub, plan, params)
    new_sub["status"] = "active"
    new_sub["started_at"] = new_sub["activated_at"] = iso(now)
    new_sub["next_billing_at"] = iso(current_period(standin, new_sub, now).end)
    start_bill = bill_start(standin, new_sub, now)
    new_sub = save(standin, new_sub)
    # Lago renders its webhooks after the commit: the old subscription already shows its successor.
    _, old_bill = terminate(standin, current_sub, now, upgrade=True)
    if start_bill is not None:
        start_bill.subscription = new_sub
    emit(standin, "subscription.started", new_sub)
    bills = [b for b in (old_bill, start_bill) if b is not None]
    if bills:
        customer = customer_of(standin, current_sub)
        invoices.bill(standin, customer, bills, at=now + timedelta(seconds=1))
    return standin.store.get(KIND, new_sub["id"]) or new_sub


def downgrade(
    standin: Standin, current_sub: dict[str, Any], plan: dict[str, Any], params: dict[str, Any]
) -> dict[str, Any]:
    """PlanDowngradeService: a pending next subscription from the end of the period;
    `subscription.updated` for the current one, which the answer returns."""
    _successor(standin, current_sub, plan, params)
    emit(standin, "subscription.updated", current_sub)
    return current_sub


def update(standin: Standin, sub: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """PUT /subscriptions/{external_id}: name, ending_at, subscription_at (not started yet)..."""
    problems = Problems()
    if "ending_at" in params and params["ending_at"] is not None:
        check = {"ending_at": params["ending_at"]}
        if sub["status"] == "pending":
            check["subscription_at"] = params.get("subscription_at") or sub["subscription_at"]
        else:
            check["subscription_at"] = sub["subscription_at"]
        _check_dates(standin, check, problems)
    if "subscription_at" in params and sub["status"] == "pending":
        _parse_moment(params["subscription_at"], "subscription_at", problems)
    _check_payment_method(standin, customer_of(standin, sub), params, problems)
    _check_termination_options(params, problems)
    problems.raise_if_any()
    if "name" in params:
        sub["name"] = params["name"]
    if "on_termination_credit_note" in params and plan_of(standin, sub).get("pay_in_advance"):
        sub["on_termination_credit_note"] = params["on_termination_credit_note"]
    if "on_termination_invoice" in params:
        sub["on_termination_invoice"] = params["on_termination_invoice"]
    if "ending_at" in params:
        sub["ending_at"] = _iso_or_none(params["ending_at"])
        sub["alerts_sent"] = []
    for name in ("consolidate_invoice", "purchase_order_number"):
        if name in params:
            sub[name] = params[name]
    if "payment_method" in params:
        method = params["payment_method"] or {}
        sub["payment_method_type"] = method.get("payment_method_type", "provider")
        sub["payment_method_id"] = method.get("payment_method_id")
    start_now = False
    if "subscription_at" in params and sub["status"] == "pending":
        sub["subscription_at"] = _iso_or_none(params["subscription_at"])
        tz = zone(tz_of(standin, sub))
        start_now = local_date(parse_iso(sub["subscription_at"]), tz) <= local_date(  # type: ignore[arg-type]
            standin.clock.now(), tz
        )
    sub = save(standin, sub)
    if start_now and not sub.get("previous_subscription_id"):
        sub = activate(standin, sub, parse_iso(sub["subscription_at"]))  # type: ignore[arg-type]
    emit(standin, "subscription.updated", sub)
    return sub


def _filtered(standin: Standin, args: Any, customer: dict | None) -> list[dict[str, Any]]:
    statuses = args.getlist("status[]") or ["active"]
    found = standin.store.all(KIND, where=lambda s: s["status"] in statuses)
    if customer is not None:
        found = [s for s in found if s["customer_id"] == customer["id"]]
    elif args.get("external_customer_id"):
        wanted = customers.find(standin, args["external_customer_id"])
        found = [s for s in found if wanted is not None and s["customer_id"] == wanted["id"]]
    if args.get("plan_code"):
        found = [s for s in found if plan_of(standin, s)["code"] == args["plan_code"]]
    if args.get("currency"):
        found = [s for s in found if plan_of(standin, s)["amount_currency"] == args["currency"]]
    codes = args.getlist("billing_entity_codes[]")
    if codes and standin.org()["billing_entity_code"] not in codes:
        found = []
    return found


# --- routes --------------------------------------------------------------------------------


@bp.post("/subscriptions")
def create_subscription():
    standin = current()
    sub = create(standin, require("subscription"))
    return jsonify(subscription=serialize(standin, sub, with_plan=True))


@bp.get("/subscriptions")
def list_subscriptions():
    standin = current()
    found = _filtered(standin, request.args, None)
    return jsonify(
        pagination.collection("subscriptions", found, lambda s: serialize(standin, s), request.args)
    )


@bp.get("/customers/<external_customer_id>/subscriptions")
def list_customer_subscriptions(external_customer_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    found = _filtered(standin, request.args, customer)
    return jsonify(
        pagination.collection("subscriptions", found, lambda s: serialize(standin, s), request.args)
    )


@bp.get("/subscriptions/<external_id>")
def get_subscription(external_id: str):
    standin = current()
    status = request.args.get("status") or "active"
    sub = get_or_404(standin, external_id, status)
    return jsonify(subscription=serialize(standin, sub, with_plan=True))


@bp.put("/subscriptions/<external_id>")
def update_subscription(external_id: str):
    standin = current()
    status = request.args.get("status") or "active"
    sub = get_or_404(standin, external_id, status if status in ("active", "pending") else "active")
    sub = update(standin, sub, require("subscription"))
    return jsonify(subscription=serialize(standin, sub, with_plan=True))


@bp.delete("/subscriptions/<external_id>")
def terminate_subscription(external_id: str):
    """Terminate the active subscription, or cancel a pending one with `status=pending`."""
    standin = current()
    args = request.args
    problems = Problems()
    _check_termination_options(args, problems)
    credit_note = args.get("on_termination_credit_note") or None
    invoice = args.get("on_termination_invoice") or None
    if args.get("status") == "pending":
        sub = get_or_404(standin, external_id, "pending")
        problems.raise_if_any()
        sub = cancel_pending(standin, sub)
        return jsonify(subscription=serialize(standin, sub, with_plan=True))
    sub = find_active(standin, external_id)
    if sub is None:
        if find(standin, external_id, "incomplete") is not None:
            raise errors.single_validation_error("subscription_incomplete", "subscription")
        raise errors.not_found("subscription")
    problems.raise_if_any()
    sub, _ = terminate(standin, sub, standin.clock.now(), credit_note=credit_note, invoice=invoice)
    return jsonify(subscription=serialize(standin, sub, with_plan=True))

"""`POST /invoices/preview`: the invoice a change would produce, computed and not stored.

Follows lago-api's InvoicesController#preview, Invoices::PreviewContextService,
Invoices::Preview::SubscriptionsService and Invoices::PreviewService (NOTES §9):

* the body has no root key: `customer` (`external_id` of a stored customer, or inline fields),
  `plan_code`, `billing_time`, `subscription_at`, `subscriptions` {`external_ids`, `plan_code`,
  `terminated_at`}, `coupons`, `billing_entity_code`;
* the context: no `external_ids` previews a new subscription to `plan_code` (proposal); with
  `terminated_at` (or an `ending_at` inside the current period) a termination; with
  `subscriptions.plan_code` a plan change (an upgrade ends the current subscription now and
  starts the new one now; a downgrade ends it at the end of the period, and the new one is
  included only when its plan is paid in advance); otherwise the next invoice of the existing
  subscriptions (projection);
* a free Lago answers 403 `feature_unavailable` after the context was found; previews of stored
  subscriptions also need the organization's `preview` integration, else 405
  `premium_integration_missing` (the stand-in's `premium` and `premium_integrations` settings).

The fees come from the stand-in's own billing code (`subscriptions.bill_*`, the invoice fee
builders, `credit_notes.termination_credit`), run on copies of the subscriptions. Like
lago-api, the previewed invoice and whatever it creates are not persisted: their ids are null.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, jsonify

from .. import errors
from ..clock import iso, parse_iso
from ..periods import local_date, yearly_amount_cents, zone
from ..spec import Violation
from ..state import Standin, current
from . import (
    Problems,
    credit_notes,
    customers,
    invoices,
    json_body,
    plans,
    subscriptions,
    wallets,
)
from .subscriptions import Bill

bp = Blueprint("previews", __name__)

PREVIEW_INTEGRATION = "preview"
INLINE_CUSTOMER_FIELDS = ("name", "currency", "timezone", "tax_identification_number")


# --- context (PreviewContextService, Preview::SubscriptionsService) -----------------------


def _customer(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    data = params.get("customer") or {}
    if "external_id" in data:
        customer = customers.find(standin, data["external_id"] or "")
        if customer is None:
            raise errors.not_found("customer")
        customer = copy.deepcopy(customer)
    else:
        raise _not_built("previews for a customer that is not stored (inline `customer` fields)")
    for name in INLINE_CUSTOMER_FIELDS:
        if name in data:
            customer[name] = data[name]
    return customer


def _not_built(what: str) -> errors.LagoError:
    """Like a spec route the stand-in lacks: 501, recorded as a violation."""
    problem = f"{what}: not implemented by the stand-in"
    current().spec_guard.record(Violation("route", "POST", "/api/v1/invoices/preview", [problem]))
    return errors.LagoError(
        501, errors.body(501, code="not_implemented_in_sandbox", message=problem)
    )


def _context(params: dict[str, Any], found: list[dict[str, Any]]) -> str:
    wanted = params.get("subscriptions") or {}
    if not wanted.get("external_ids"):
        return "proposal"
    if wanted.get("terminated_at") or (len(found) == 1 and _ends_this_period(found[0])):
        return "termination"
    if wanted.get("plan_code"):
        return "plan_change"
    return "projection"


def _ends_this_period(sub: dict[str, Any]) -> bool:
    ending = parse_iso(sub.get("ending_at"))
    if ending is None or sub["status"] != "active":
        return False
    standin = current()
    period = subscriptions.current_period(standin, sub, standin.clock.now())
    return ending <= period.last_second + timedelta(days=1)


def _stored_subscriptions(
    standin: Standin, customer: dict[str, Any], external_ids: list[str]
) -> list[dict[str, Any]]:
    """The customer's active subscriptions with these ids (or one that starts later)."""
    mine = [
        s
        for s in standin.store.all(subscriptions.KIND, newest_first=False)
        if s["customer_id"] == customer.get("id") and s["external_id"] in external_ids
    ]
    now = standin.clock.now()
    if (
        len(external_ids) == 1
        and len(mine) == 1
        and mine[0]["status"] == "pending"
        and not mine[0].get("previous_subscription_id")
        and parse_iso(mine[0]["subscription_at"]) > now  # type: ignore[operator]
    ):
        return [copy.deepcopy(mine[0])]
    return [copy.deepcopy(s) for s in mine if s["status"] == "active"]


def _unsaved_subscription(
    standin: Standin, customer: dict[str, Any], plan: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {
        "id": None,
        "external_id": None,
        "customer_id": customer.get("id"),
        "plan_id": plan["id"],
        "name": plan["name"],
        "status": "active",
        "billing_time": "calendar",
        "on_termination_credit_note": "credit" if plan.get("pay_in_advance") else None,
        "on_termination_invoice": "generate",
        "consolidate_invoice": True,
        "billed_periods": [],
        "created_at": standin.clock.now_iso(),
    } | fields


def _target_plan(standin: Standin, code: Any) -> dict[str, Any]:
    plan = plans.find(standin, code or "") if isinstance(code, str) else None
    if plan is None:
        raise errors.not_found("plan")
    return plan


# --- the previewed bills --------------------------------------------------------------------


class Preview:
    """What the invoice bills: one Bill per subscription window, the stored subscriptions it
    ends, and the subscription whose unused paid days are credited."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment
        self.bills: list[Bill] = []
        self.subscriptions: list[dict[str, Any]] = []
        self.credited: dict[str, Any] | None = None
        self.upgrade = False


def _proposal(standin: Standin, customer: dict[str, Any], params: dict[str, Any]) -> Preview:
    plan = _target_plan(standin, params.get("plan_code"))
    start = parse_iso(params.get("subscription_at")) if params.get("subscription_at") else None
    start = start or standin.clock.now()
    billing_time = params.get("billing_time")
    sub = _unsaved_subscription(
        standin,
        customer,
        plan,
        subscription_at=iso(start),
        started_at=iso(start),
        billing_time=billing_time if billing_time in ("calendar", "anniversary") else "calendar",
    )
    period = subscriptions.current_period(standin, sub, start)
    if plan.get("pay_in_advance"):
        preview = Preview(start)
        found = subscriptions.bill_trial_end(standin, sub, start)
        preview.bills = [found] if found else []
    else:
        preview = Preview(period.end)
        preview.bills = subscriptions.bill_boundary(standin, sub, period.end)
    preview.subscriptions = [sub]
    return preview


def _termination(standin: Standin, sub: dict[str, Any], value: Any) -> Preview:
    try:
        moment = parse_iso(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise errors.single_validation_error("invalid_timestamp", "terminated_at")
    if moment < standin.clock.now():
        raise errors.single_validation_error("cannot_be_in_past", "terminated_at")
    sub |= {"status": "terminated", "terminated_at": iso(moment)}
    preview = Preview(moment)
    preview.bills = [subscriptions.bill_termination(standin, sub, moment)]
    preview.subscriptions = [sub]
    preview.credited = sub
    return preview


def _plan_change(standin: Standin, sub: dict[str, Any], code: Any) -> Preview:
    plan = _target_plan(standin, code)
    if plan["id"] == sub["plan_id"]:
        raise errors.single_validation_error("new_plan_should_be_different_from_existing_plan")
    now = standin.clock.now()
    upgrade = yearly_amount_cents(plan) >= yearly_amount_cents(subscriptions.plan_of(standin, sub))
    end = subscriptions.current_period(standin, sub, now).end
    switch = now if upgrade else end
    new = _unsaved_subscription(
        standin,
        subscriptions.customer_of(standin, sub),
        plan,
        external_id=sub["external_id"],
        subscription_at=sub["subscription_at"],
        billing_time=sub["billing_time"],
        ending_at=sub.get("ending_at"),
        started_at=iso(switch),
        previous_subscription_id=sub["id"],
    )
    sub |= {"status": "terminated", "terminated_at": iso(switch), "next_plan_code": plan["code"]}
    preview = Preview(switch)
    preview.upgrade = upgrade
    preview.subscriptions = [sub, new] if plan.get("pay_in_advance") else [sub]
    if upgrade:
        preview.bills = [subscriptions.bill_termination(standin, sub, now, upgrade=True)]
        started = subscriptions.bill_start(standin, new, now)
        preview.bills += [started] if started else []
        preview.credited = sub
    else:
        preview.bills = subscriptions.bill_boundary(standin, sub, end, next_sub=new)
    return preview


def _projection(standin: Standin, found: list[dict[str, Any]]) -> Preview:
    now = standin.clock.now()
    ends = {subscriptions.current_period(standin, s, max(now, _start(s))).end for s in found}
    if len({local_date(e, zone(subscriptions.tz_of(standin, found[0]))) for e in ends}) > 1:
        raise errors.single_validation_error("billing_periods_does_not_match")
    preview = Preview(min(ends))
    for sub in found:
        if sub["status"] == "pending":
            sub |= {"status": "active", "started_at": sub["subscription_at"]}
        end = subscriptions.current_period(standin, sub, max(now, _start(sub))).end
        following = subscriptions.next_subscription(standin, sub) if sub["id"] else None
        if following is not None:
            following = copy.deepcopy(following) | {"status": "active", "started_at": iso(end)}
            sub |= {"status": "terminated", "terminated_at": iso(end)}
        preview.bills += subscriptions.bill_boundary(standin, sub, end, next_sub=following)
        preview.subscriptions.append(sub)
        if following is not None and subscriptions.plan_of(standin, following).get(
            "pay_in_advance"
        ):
            preview.subscriptions.append(following)
    return preview


def _start(sub: dict[str, Any]) -> datetime:
    return parse_iso(sub.get("started_at") or sub["subscription_at"])  # type: ignore[return-value]


def build(standin: Standin, params: dict[str, Any]) -> tuple[dict[str, Any], Preview]:
    """Find the customer and the context, check the licence, and work out the bills."""
    customer = _customer(standin, params)
    wanted = params.get("subscriptions") or {}
    external_ids = [str(i) for i in wanted.get("external_ids") or []]
    found = _stored_subscriptions(standin, customer, external_ids) if customer.get("id") else []
    context = _context(params, found)
    problems = Problems()
    if context != "proposal" and not customer.get("id"):
        problems.add("customer", "must_be_persisted")
    if context in ("termination", "plan_change") and len(found) > 1:
        problems.add("subscriptions", f"only_one_subscription_allowed_for_{context}")
    problems.raise_if_any()
    if context == "proposal":
        preview = _proposal(standin, customer, params)
    elif not found:
        raise errors.not_found("subscription")
    elif context == "termination":
        preview = _termination(
            standin, found[0], wanted.get("terminated_at") or found[0]["ending_at"]
        )
    elif context == "plan_change":
        preview = _plan_change(standin, found[0], wanted["plan_code"])
    else:
        preview = _projection(standin, found)
    if not standin.config.premium:
        raise errors.forbidden("feature_unavailable")
    if context != "proposal" and PREVIEW_INTEGRATION not in standin.config.premium_integrations:
        raise errors.not_allowed("premium_integration_missing")
    return customer, preview


# --- the invoice ----------------------------------------------------------------------------


def invoice_for(standin: Standin, customer: dict[str, Any], preview: Preview) -> dict[str, Any]:
    """The unsaved invoice: fees, then termination credit, credit notes and wallet credits."""
    now = standin.clock.now_iso()
    fees = []
    for item in preview.bills:
        fee = invoices._subscription_fee(standin, item, customer, now)
        fees += [fee] if fee else []
        if item.subscription.get("id"):
            fees += invoices._charge_fees(standin, item, now)
    for fee in fees:
        fee["id"] = None
        fee["created_at"] = None
    plan = subscriptions.plan_of(standin, preview.subscriptions[0])
    tz = zone(customers.timezone_of(standin, customer))
    issuing = local_date(preview.moment, tz)
    term = customer.get("net_payment_term")
    term = int(standin.org().get("net_payment_term", 0) if term is None else term)
    invoice: dict[str, Any] = {
        "id": None,
        "customer_id": customer.get("id"),
        "external_customer_id": customer.get("external_id"),
        "currency": plan["amount_currency"],
        "issuing_date": issuing.isoformat(),
        "payment_due_date": (issuing + timedelta(days=term)).isoformat(),
        "net_payment_term": term,
        "payment_status": "pending",
        "fees": fees,
        "fees_amount_cents": sum(f["amount_cents"] for f in fees),
        "credits": [],
        "prepaid_credit_amount_cents": 0,
    }
    total = invoice["fees_amount_cents"]
    if preview.credited is not None:
        found = credit_notes.termination_credit(
            standin, preview.credited, preview.moment, upgrade=preview.upgrade
        )
        amount = min(found.amount_cents, total) if found else 0
        if amount > 0:
            invoice["credits"].append(_credit(invoice, amount, None))
            total -= amount
    if customer.get("id"):
        for note in credit_notes.available_for(standin, customer["id"], invoice["currency"]):
            amount = min(note["balance_amount_cents"], total)
            if amount > 0:
                invoice["credits"].append(_credit(invoice, amount, note))
                total -= amount
        prepaid = min(wallets.available_cents(standin, customer["id"], invoice["currency"]), total)
        invoice["prepaid_credit_amount_cents"] = max(prepaid, 0)
        total -= invoice["prepaid_credit_amount_cents"]
    invoice["credit_notes_amount_cents"] = sum(c["amount_cents"] for c in invoice["credits"])
    invoice["total_amount_cents"] = total
    return invoice


def _credit(invoice: dict[str, Any], amount: int, note: dict[str, Any] | None) -> dict[str, Any]:
    """V1::CreditSerializer for a credit note credit (the termination one is not stored)."""
    number = note["number"] if note else ""
    return {
        "lago_id": None,
        "amount_cents": amount,
        "amount_currency": invoice["currency"],
        "before_taxes": False,
        "item": {
            "lago_item_id": note["id"] if note else None,
            "type": "credit_note",
            "code": number,
            "name": number,
        },
        "invoice": {"lago_id": None, "payment_status": "pending"},
    }


def serialize(
    standin: Standin, customer: dict[str, Any], preview: Preview, invoice: dict[str, Any]
) -> dict[str, Any]:
    """V1::InvoiceSerializer with customer, credits, applied taxes, subscriptions and fees."""
    now = standin.clock.now_iso()
    fees, credit_notes_total = invoice["fees_amount_cents"], invoice["credit_notes_amount_cents"]
    return {
        "lago_id": None,
        "billing_entity_code": standin.org()["billing_entity_code"],
        "sequential_id": None,
        "number": "",
        "issuing_date": invoice["issuing_date"],
        "payment_due_date": invoice["payment_due_date"],
        "net_payment_term": invoice["net_payment_term"],
        "invoice_type": "subscription",
        "status": "finalized",
        "payment_status": "pending",
        "payment_dispute_lost_at": None,
        "payment_overdue": False,
        "currency": invoice["currency"],
        "fees_amount_cents": fees,
        "taxes_amount_cents": 0,
        "progressive_billing_credit_amount_cents": 0,
        "coupons_amount_cents": 0,
        "credit_notes_amount_cents": credit_notes_total,
        "sub_total_excluding_taxes_amount_cents": fees,
        "sub_total_including_taxes_amount_cents": fees,
        "total_amount_cents": invoice["total_amount_cents"],
        "total_due_amount_cents": invoice["total_amount_cents"],
        "total_paid_amount_cents": 0,
        "total_offsetted_credit_note_amount_cents": 0,
        "prepaid_credit_amount_cents": invoice["prepaid_credit_amount_cents"],
        "prepaid_granted_credit_amount_cents": 0,
        "prepaid_purchased_credit_amount_cents": 0,
        "file_url": None,
        "xml_url": None,
        "web_url": None,
        "version_number": invoices.VERSION_NUMBER,
        "self_billed": False,
        "created_at": now,
        "updated_at": now,
        "voided_at": None,
        "customer": customers.serialize(standin, customer),
        "credits": invoice["credits"],
        "applied_taxes": [],
        "subscriptions": [_serialize_subscription(standin, s) for s in preview.subscriptions],
        "fees": [invoices.serialize_fee(invoice, f) for f in invoice["fees"]],
    }


def _serialize_subscription(standin: Standin, sub: dict[str, Any]) -> dict[str, Any]:
    """A previewed subscription: a stored one as it would be, or the unsaved new one."""
    data = subscriptions.serialize(standin, sub)
    data["next_plan_code"] = sub.get("next_plan_code")
    data["downgrade_plan_date"] = None
    if sub["status"] == "terminated":
        data["current_billing_period_ending_at"] = sub["terminated_at"]
    return data


@bp.post("/invoices/preview")
def preview_invoice():
    standin = current()
    params = json_body()
    if "coupons" in params and not isinstance(params["coupons"], list):
        raise errors.LagoError(400, {"status": 400, "error": "coupons_must_be_an_array"})
    if "subscriptions" in params and not isinstance(params["subscriptions"], dict):
        raise errors.LagoError(400, {"status": 400, "error": "subscriptions_must_be_an_object"})
    code = params.get("billing_entity_code")
    if code is not None and code != standin.org()["billing_entity_code"]:
        raise errors.not_found("billing_entity")
    customer, preview = build(standin, params)
    invoice = invoice_for(standin, customer, preview)
    return jsonify(invoice=serialize(standin, customer, preview, invoice))

"""Coupons and applied coupons, and the coupon credits on the invoices the stand-in issues.

Mirrors lago-api: `Coupons::CreateService` (catalogue; a `time_limit` coupon past its
`expiration_at` is terminated, as `Clock::TerminateCouponsJob` does), `AppliedCoupons::
CreateService` (404 `coupon_not_found` unless the coupon is active, 422 `coupon_is_not_reusable`
when a non-reusable coupon was ever applied to the customer; the overrides win over the coupon),
`AppliedCoupons::TerminateService` (DELETE) and `Credits::AppliedCouponService` with
`AppliedCoupons::AmountService` (a percentage of what is left of the invoice, or an amount up to
it; `once` ends when used up, `recurring` counts `frequency_duration_remaining` down and ends at
zero, `forever` never ends). Coupons limited to plans or billable metrics are not served.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..spec import schema_enum
from ..state import Standin, current
from ..store import new_id
from . import Problems, blank, customers, register_object, require

bp = Blueprint("coupons", __name__)

KIND = "coupon"
APPLIED = "applied_coupon"
FREQUENCIES = ("once", "recurring", "forever")


# --- the catalogue ---------------------------------------------------------------------------


def _expired(standin: Standin, coupon: dict[str, Any]) -> bool:
    if coupon.get("expiration") != "time_limit" or not coupon.get("expiration_at"):
        return False
    ends = datetime.fromisoformat(coupon["expiration_at"].replace("Z", "+00:00"))
    return ends < standin.clock.now()


def _current(standin: Standin, coupon: dict[str, Any]) -> dict[str, Any]:
    """The coupon, terminated first when its time limit has passed."""
    if coupon["status"] == "active" and _expired(standin, coupon):
        coupon["status"] = "terminated"
        coupon["terminated_at"] = coupon["expiration_at"]
        coupon = standin.store.save(KIND, coupon, key=coupon["code"])
    return coupon


def find(standin: Standin, code: str) -> dict[str, Any] | None:
    """The live (not deleted) coupon with this code."""
    coupon = standin.store.find(KIND, code)
    return _current(standin, coupon) if coupon else None


def serialize(standin: Standin, coupon: dict[str, Any]) -> dict[str, Any]:
    """A coupon as V1::CouponSerializer renders it."""
    return {
        "lago_id": coupon["id"],
        "name": coupon["name"],
        "code": coupon["code"],
        "description": coupon.get("description"),
        "coupon_type": coupon["coupon_type"],
        "amount_cents": coupon.get("amount_cents"),
        "amount_currency": coupon.get("amount_currency"),
        "percentage_rate": coupon.get("percentage_rate"),
        "frequency": coupon["frequency"],
        "frequency_duration": coupon.get("frequency_duration"),
        "reusable": coupon["reusable"],
        "limited_plans": False,
        "limited_billable_metrics": False,
        "plan_codes": [],
        "billable_metric_codes": [],
        "created_at": coupon["created_at"],
        "expiration": coupon["expiration"],
        "expiration_at": coupon.get("expiration_at"),
        "terminated_at": coupon.get("terminated_at"),
    }


def _rate(value: Any) -> str | None:
    """A percentage rate as Lago renders a decimal(10,5): "10.0", "12.5"."""
    if value is None:
        return None
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        return None
    text = format(rate.normalize(), "f")
    return text if "." in text else f"{text}.0"


def _check_terms(params: dict[str, Any], coupon_type: str | None, problems: Problems) -> None:
    """The model validations shared by coupons and applied coupons."""
    if coupon_type == "fixed_amount":
        if params.get("amount_cents") is None:
            problems.add("amount_cents", "value_is_mandatory")
        elif params["amount_cents"] <= 0:
            problems.add("amount_cents", "value_is_out_of_range")
        if blank(params.get("amount_currency")):
            problems.add("amount_currency", "value_is_mandatory")
        elif params["amount_currency"] not in schema_enum("Currency"):
            problems.add("amount_currency", "value_is_invalid")
    if coupon_type == "percentage" and _rate(params.get("percentage_rate")) is None:
        problems.add("percentage_rate", "value_is_mandatory")
    if params.get("frequency") == "recurring":
        duration = params.get("frequency_duration")
        if duration is None:
            problems.add("frequency_duration", "value_is_mandatory")
        elif duration <= 0:
            problems.add("frequency_duration", "value_is_out_of_range")


def create(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """Coupons::CreateService (422 on a taken code or missing terms)."""
    problems = Problems()
    for name in ("name", "code"):
        if blank(params.get(name)):
            problems.add(name, "value_is_mandatory")
    if params.get("coupon_type") not in ("fixed_amount", "percentage"):
        problems.add("coupon_type", "value_is_invalid")
    if params.get("frequency") not in FREQUENCIES:
        problems.add("frequency", "value_is_invalid")
    if params.get("expiration") not in ("no_expiration", "time_limit"):
        problems.add("expiration", "value_is_invalid")
    if params.get("expiration") == "time_limit" and blank(params.get("expiration_at")):
        problems.add("expiration_at", "value_is_mandatory")
    if params.get("plan_codes") or params.get("billable_metric_codes"):
        problems.add("applies_to", "limited_coupons_are_not_served_by_the_stand_in")
    _check_terms(params, params.get("coupon_type"), problems)
    if params.get("code") and find(standin, params["code"]):
        problems.add("code", "value_already_exist")
    problems.raise_if_any()
    fixed = params["coupon_type"] == "fixed_amount"
    coupon = {
        "name": params["name"],
        "code": params["code"],
        "description": params.get("description"),
        "coupon_type": params["coupon_type"],
        "amount_cents": params.get("amount_cents") if fixed else None,
        "amount_currency": params.get("amount_currency") if fixed else None,
        "percentage_rate": None if fixed else _rate(params.get("percentage_rate")),
        "frequency": params["frequency"],
        "frequency_duration": params.get("frequency_duration"),
        "reusable": params.get("reusable") is not False,
        "expiration": params["expiration"],
        "expiration_at": params.get("expiration_at")
        if params["expiration"] == "time_limit"
        else None,
        "status": "active",
        "terminated_at": None,
    }
    return standin.store.insert(KIND, coupon, key=coupon["code"])


@register_object("coupon")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    coupon = find(standin, identifier) or standin.store.get(KIND, identifier)
    return serialize(standin, coupon) if coupon else None


@bp.post("/coupons")
def create_coupon():
    standin = current()
    return jsonify(coupon=serialize(standin, create(standin, require("coupon"))))


def _ends_at(coupon: dict[str, Any]) -> str:
    """CouponsQuery orders by status, expiration, then expiration_at (nulls last)."""
    return coupon.get("expiration_at") or "~"


@bp.get("/coupons")
def list_coupons():
    standin = current()
    found = sorted(
        (_current(standin, c) for c in standin.store.all(KIND)),  # newest first, then:
        key=lambda c: (c["status"] != "active", c["expiration"] != "no_expiration", _ends_at(c)),
    )
    return jsonify(
        pagination.collection("coupons", found, lambda c: serialize(standin, c), request.args)
    )


@bp.get("/coupons/<code>")
def get_coupon(code: str):
    standin = current()
    coupon = find(standin, code)
    if coupon is None:
        raise errors.not_found("coupon")
    return jsonify(coupon=serialize(standin, coupon))


TERMS = (
    "code",
    "coupon_type",
    "amount_cents",
    "amount_currency",
    "percentage_rate",
    "frequency",
    "frequency_duration",
    "reusable",
)


def update(standin: Standin, coupon: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Coupons::UpdateService: name, description and expiration always; the terms and the code
    only while the coupon was never applied."""
    changed = dict(coupon)
    for name in ("name", "description", "expiration", "expiration_at"):
        if name in params:
            changed[name] = params[name]
    ever_applied = standin.store.all(APPLIED, where=lambda a: a["coupon_id"] == coupon["id"])
    if not ever_applied:
        for name in TERMS:
            if name in params:
                changed[name] = params[name]
    problems = Problems()
    if blank(changed.get("name")):
        problems.add("name", "value_is_mandatory")
    if changed.get("expiration") not in ("no_expiration", "time_limit"):
        problems.add("expiration", "value_is_invalid")
    _check_terms(changed, changed.get("coupon_type"), problems)
    taken = find(standin, changed["code"]) if changed["code"] != coupon["code"] else None
    if taken is not None:
        problems.add("code", "value_already_exist")
    problems.raise_if_any()
    changed["percentage_rate"] = _rate(changed.get("percentage_rate"))
    if changed["expiration"] != "time_limit":
        changed["expiration_at"] = None
    return standin.store.save(KIND, changed, key=changed["code"])


@bp.put("/coupons/<code>")
def update_coupon(code: str):
    standin = current()
    coupon = find(standin, code)
    if coupon is None:
        raise errors.not_found("coupon")
    return jsonify(coupon=serialize(standin, update(standin, coupon, require("coupon"))))


@bp.delete("/coupons/<code>")
def delete_coupon(code: str):
    """Coupons::DestroyService: discarded; its active applied coupons are terminated."""
    standin = current()
    coupon = find(standin, code)
    if coupon is None:
        raise errors.not_found("coupon")
    mine = standin.store.all(APPLIED, where=lambda a: a["coupon_id"] == coupon["id"])
    for applied in mine:
        _terminate(standin, applied)
    coupon = standin.store.soft_delete(KIND, coupon)
    return jsonify(coupon=serialize(standin, coupon))


# --- applied coupons -------------------------------------------------------------------------


def _coupon_of(standin: Standin, applied: dict[str, Any]) -> dict[str, Any]:
    return standin.store.get(KIND, applied["coupon_id"], include_deleted=True) or {}


def _used(applied: dict[str, Any]) -> int:
    """What the coupon already took off (`credits.active`: not on voided invoices)."""
    return sum(c["amount_cents"] for c in applied.get("credits", []) if not c.get("voided"))


def serialize_applied(standin: Standin, applied: dict[str, Any]) -> dict[str, Any]:
    """An applied coupon as V1::AppliedCouponSerializer renders it."""
    coupon = _coupon_of(standin, applied)
    customer = customers.get_by_id(standin, applied["customer_id"])
    remaining = None
    if applied["frequency"] == "once" and coupon.get("coupon_type") == "fixed_amount":
        remaining = applied["amount_cents"] - _used(applied)
    return {
        "lago_id": applied["id"],
        "lago_coupon_id": coupon.get("id"),
        "coupon_code": coupon.get("code"),
        "coupon_name": coupon.get("name"),
        "coupon_description": coupon.get("description"),
        "coupon_status": coupon.get("status"),
        "coupon_deleted_at": coupon.get("deleted_at"),
        "lago_customer_id": customer["id"],
        "external_customer_id": customer["external_id"],
        "status": applied["status"],
        "amount_cents": applied.get("amount_cents"),
        "amount_cents_remaining": remaining,
        "amount_currency": applied.get("amount_currency"),
        "percentage_rate": applied.get("percentage_rate"),
        "frequency": applied["frequency"],
        "frequency_duration": applied.get("frequency_duration"),
        "frequency_duration_remaining": applied.get("frequency_duration_remaining"),
        "expiration_at": coupon.get("expiration_at"),
        "created_at": applied["created_at"],
        "terminated_at": applied.get("terminated_at"),
    }


def _with_credits(standin: Standin, applied: dict[str, Any]) -> dict[str, Any]:
    """The list's extended shape: the applied coupon and the credits it gave on invoices."""
    credits = []
    for credit in applied.get("credits", []):
        invoice = standin.store.get("invoice", credit["invoice_id"]) or {}
        shown = {k: v for k, v in credit.items() if k not in ("invoice_id", "voided")}
        of = {"lago_id": credit["invoice_id"], "payment_status": invoice.get("payment_status")}
        credits.append(shown | {"invoice": of})
    return serialize_applied(standin, applied) | {"credits": credits}


def apply(standin: Standin, params: dict[str, Any]) -> dict[str, Any]:
    """AppliedCoupons::CreateService."""
    customer = customers.find(standin, str(params.get("external_customer_id") or ""))
    if customer is None:
        raise errors.not_found("customer")
    coupon = find(standin, str(params.get("coupon_code") or ""))
    if coupon is None or coupon["status"] != "active":
        raise errors.not_found("coupon")
    if not coupon["reusable"] and standin.store.all(
        APPLIED,
        where=lambda a: a["coupon_id"] == coupon["id"] and a["customer_id"] == customer["id"],
    ):
        raise errors.single_validation_error("coupon_is_not_reusable", field="coupon")
    fixed = coupon["coupon_type"] == "fixed_amount"
    terms = {
        "amount_cents": _given(params, "amount_cents", coupon),
        "amount_currency": _given(params, "amount_currency", coupon),
        "percentage_rate": _rate(_given(params, "percentage_rate", coupon)),
        "frequency": _given(params, "frequency", coupon),
        "frequency_duration": _given(params, "frequency_duration", coupon),
    }
    problems = Problems()
    _check_terms(terms, coupon["coupon_type"], problems)
    problems.raise_if_any()
    if fixed and not customer.get("currency"):
        customer["currency"] = terms["amount_currency"]  # Customers::UpdateCurrencyService
        standin.store.save(customers.KIND, customer, key=customer["external_id"])
    applied = terms | {
        "coupon_id": coupon["id"],
        "customer_id": customer["id"],
        "frequency_duration_remaining": terms["frequency_duration"],
        "status": "active",
        "terminated_at": None,
        "credits": [],
    }
    return standin.store.insert(APPLIED, applied)


def _given(params: dict[str, Any], name: str, coupon: dict[str, Any]) -> Any:
    """`params[:x] || coupon.x`."""
    value = params.get(name)
    return coupon.get(name) if value is None else value


def _terminate(standin: Standin, applied: dict[str, Any]) -> dict[str, Any]:
    if applied["status"] != "terminated":
        applied["status"] = "terminated"
        applied["terminated_at"] = applied.get("terminated_at") or standin.clock.now_iso()
        applied = standin.store.save(APPLIED, applied)
    return applied


def _listed(standin: Standin, external_customer_id: str | None) -> list[dict[str, Any]]:
    """AppliedCouponsQuery: by customer, `status` and `coupon_code[]`, newest first."""
    wanted_status = request.args.get("status")
    codes = request.args.getlist("coupon_code[]")
    found = []
    for applied in standin.store.all(APPLIED):
        customer = customers.get_by_id(standin, applied["customer_id"])
        if customer is None or customer.get("deleted_at"):
            continue
        if external_customer_id is not None and customer["external_id"] != external_customer_id:
            continue
        if wanted_status in ("active", "terminated") and applied["status"] != wanted_status:
            continue
        if codes and _coupon_of(standin, applied).get("code") not in codes:
            continue
        found.append(applied)
    return found


@register_object("applied_coupon")
def _find_applied(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    applied = standin.store.get(APPLIED, identifier)
    return serialize_applied(standin, applied) if applied else None


@bp.post("/applied_coupons")
def apply_coupon():
    standin = current()
    applied = apply(standin, require("applied_coupon"))
    return jsonify(applied_coupon=serialize_applied(standin, applied))


def _page_of(standin: Standin, external_customer_id: str | None):
    found = _listed(standin, external_customer_id)
    page = pagination.collection(
        "applied_coupons", found, lambda a: _with_credits(standin, a), request.args
    )
    return jsonify(page)


@bp.get("/applied_coupons")
def list_applied_coupons():
    return _page_of(current(), request.args.get("external_customer_id"))


@bp.get("/customers/<external_customer_id>/applied_coupons")
def list_customer_applied_coupons(external_customer_id: str):
    standin = current()
    customers.get_or_404(standin, external_customer_id)
    return _page_of(standin, external_customer_id)


@bp.delete("/customers/<external_customer_id>/applied_coupons/<applied_coupon_id>")
def remove_applied_coupon(external_customer_id: str, applied_coupon_id: str):
    standin = current()
    customer = customers.get_or_404(standin, external_customer_id)
    applied = standin.store.get(APPLIED, applied_coupon_id)
    if applied is None or applied["customer_id"] != customer["id"]:
        raise errors.not_found("applied_coupon")
    return jsonify(applied_coupon=serialize_applied(standin, _terminate(standin, applied)))


# --- coupon credits on invoices --------------------------------------------------------------


def _amount(applied: dict[str, Any], coupon: dict[str, Any], base: int) -> int:
    """AppliedCoupons::AmountService."""
    if coupon["coupon_type"] == "percentage":
        discount = Decimal(base) * Decimal(applied["percentage_rate"]) / 100
        rounded = int(discount.quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return base if discount >= base else rounded
    if applied["frequency"] in ("recurring", "forever"):
        return min(applied["amount_cents"], base)
    return min(applied["amount_cents"] - _used(applied), base)


def apply_to_invoice(standin: Standin, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """Credits::AppliedCouponsService: the customer's active coupons, oldest first, each taking
    its share of what is left before taxes; returns the invoice's coupon credits."""
    if invoice["fees_amount_cents"] <= 0:
        return []
    left = invoice["fees_amount_cents"]
    credits = []
    active = [
        a
        for a in standin.store.all(APPLIED, newest_first=False)
        if a["customer_id"] == invoice["customer_id"] and a["status"] == "active"
    ]
    for applied in active:
        if left <= 0:
            break
        coupon = _coupon_of(standin, applied)
        fixed = coupon["coupon_type"] == "fixed_amount"
        if fixed and applied["amount_currency"] != invoice["currency"]:
            continue
        amount = _amount(applied, coupon, left)
        credit = {
            "lago_id": new_id(),
            "amount_cents": amount,
            "amount_currency": invoice["currency"],
            "before_taxes": True,
            "item": {
                "lago_item_id": coupon["id"],
                "type": "coupon",
                "code": coupon["code"],
                "name": coupon["name"],
                "description": coupon.get("description"),
            },
        }
        credits.append(credit)
        left -= amount
        applied["credits"] = [*applied.get("credits", []), _applied_credit(credit, invoice)]
        if applied["frequency"] == "recurring":
            applied["frequency_duration_remaining"] = max(
                int(applied.get("frequency_duration_remaining") or 0) - 1, 0
            )
        if _ends(applied, coupon, amount):
            applied["status"] = "terminated"
            applied["terminated_at"] = standin.clock.now_iso()
        standin.store.save(APPLIED, applied)
    return credits


def _applied_credit(credit: dict[str, Any], invoice: dict[str, Any]) -> dict[str, Any]:
    return credit | {"invoice_id": invoice["id"]}


def _ends(applied: dict[str, Any], coupon: dict[str, Any], amount: int) -> bool:
    """Credits::AppliedCouponService#should_terminate_applied_coupon?"""
    if applied["frequency"] == "forever":
        return False
    if applied["frequency"] == "once":
        return coupon["coupon_type"] == "percentage" or _used(applied) >= applied["amount_cents"]
    return applied["frequency_duration_remaining"] <= 0


def recredit(standin: Standin, invoice: dict[str, Any]) -> None:
    """AppliedCoupons::RecreditService for each coupon credit of a voided invoice: a coupon
    it used up is active again (unless `forever` or its coupon is terminated), a recurring one
    gets the period back, and what it took off no longer counts as used."""
    for applied in standin.store.all(
        APPLIED, where=lambda a: a["customer_id"] == invoice["customer_id"]
    ):
        mine = [c for c in applied.get("credits", []) if c["invoice_id"] == invoice["id"]]
        if not mine:
            continue
        for credit in mine:
            credit["voided"] = True
        coupon = _coupon_of(standin, applied)
        if (
            applied["status"] == "terminated"
            and applied["frequency"] != "forever"
            and coupon.get("status") != "terminated"
        ):
            applied["status"] = "active"
            applied["terminated_at"] = None
        if applied["frequency"] == "recurring":
            applied["frequency_duration_remaining"] = int(
                applied.get("frequency_duration_remaining") or 0
            ) + len(mine)
        standin.store.save(APPLIED, applied)

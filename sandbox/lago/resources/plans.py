"""Plans with their charges: list, get by code, create, update and delete."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..spec import schema_enum
from ..state import Standin, current
from ..store import new_id
from . import Problems, blank, entitlements, register_object, require

bp = Blueprint("plans", __name__)

KIND = "plan"
INTERVALS = ("weekly", "monthly", "quarterly", "semiannual", "yearly")
MONTHLY_BILLING_INTERVALS = ("yearly", "semiannual")
CHARGE_MODELS = (
    "dynamic",
    "graduated",
    "graduated_percentage",
    "package",
    "percentage",
    "standard",
    "volume",
)
DECIMAL = re.compile(r"^\d+(\.\d+)?$")
PLAIN_FIELDS = ("name", "invoice_display_name", "description")
NON_NULL_FIELDS = ("code", "interval", "amount_cents", "amount_currency", "pay_in_advance")


def default_properties(charge_model: str) -> dict[str, Any]:
    """The properties Lago fills in when a charge is created without any."""
    open_range = {"from_value": 0, "to_value": None, "per_unit_amount": "0", "flat_amount": "0"}
    return {
        "standard": {"amount": "0"},
        "package": {"amount": "0", "free_units": 0, "package_size": 1},
        "percentage": {"rate": "0"},
        "graduated": {"graduated_ranges": [open_range]},
        "volume": {"volume_ranges": [open_range]},
        "graduated_percentage": {
            "graduated_percentage_ranges": [
                {"from_value": 0, "to_value": None, "rate": "0", "flat_amount": "0"}
            ]
        },
    }.get(charge_model, {})


def find(standin: Standin, code: str) -> dict[str, Any] | None:
    """The live plan with this code."""
    return standin.store.find(KIND, code)


def get_or_404(standin: Standin, code: str) -> dict[str, Any]:
    """The live plan with this code, or 404 plan_not_found."""
    plan = find(standin, code)
    if plan is None:
        raise errors.not_found("plan")
    return plan


def serialize(standin: Standin, plan: dict[str, Any]) -> dict[str, Any]:
    """A plan as V1::PlanSerializer renders it with charges, thresholds, taxes and commitment."""
    data = {
        "lago_id": plan["id"],
        "name": plan["name"],
        "invoice_display_name": plan.get("invoice_display_name"),
        "created_at": plan["created_at"],
        "code": plan["code"],
        "interval": plan["interval"],
        "description": plan.get("description"),
        "amount_cents": plan["amount_cents"],
        "amount_currency": plan["amount_currency"],
        "trial_period": plan.get("trial_period"),
        "pay_in_advance": plan.get("pay_in_advance", False),
        "bill_charges_monthly": plan.get("bill_charges_monthly"),
        "bill_fixed_charges_monthly": plan.get("bill_fixed_charges_monthly"),
        "customers_count": 0,
        "active_subscriptions_count": 0,
        "draft_invoices_count": 0,
        "parent_id": None,
        "pending_deletion": plan.get("pending_deletion", False),
        "charges": [serialize_charge(standin, c) for c in plan.get("charges", [])],
        "fixed_charges": [],
        "entitlements": entitlements.serialize_all(standin, plan),
        "usage_thresholds": list(plan.get("usage_thresholds", [])),
        "taxes": [],
    }
    if plan.get("minimum_commitment"):
        data["minimum_commitment"] = plan["minimum_commitment"] | {
            "plan_code": plan["code"],
            "interval": plan["interval"],
        }
    data["metadata"] = plan.get("metadata")
    return data


def serialize_charge(standin: Standin, charge: dict[str, Any]) -> dict[str, Any]:
    """A charge as V1::ChargeSerializer renders it."""
    metric = standin.store.get(
        "billable_metric", charge["billable_metric_id"], include_deleted=True
    )
    return {
        "lago_id": charge["id"],
        "lago_billable_metric_id": charge["billable_metric_id"],
        "code": charge.get("code"),
        "invoice_display_name": charge.get("invoice_display_name"),
        "billable_metric_code": metric["code"] if metric else None,
        "created_at": charge["created_at"],
        "charge_model": charge["charge_model"],
        "invoiceable": charge.get("invoiceable", True),
        "regroup_paid_fees": charge.get("regroup_paid_fees"),
        "pay_in_advance": charge.get("pay_in_advance", False),
        "prorated": charge.get("prorated", False),
        "min_amount_cents": charge.get("min_amount_cents", 0),
        "properties": charge["properties"],
        "applied_pricing_unit": charge.get("applied_pricing_unit"),
        "lago_parent_id": None,
        "filters": [
            {
                "invoice_display_name": f.get("invoice_display_name"),
                "properties": f.get("properties") or {},
                "values": f.get("values") or {},
            }
            for f in charge.get("filters", [])
        ],
        "taxes": [],
    }


@register_object("plan")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    plan = find(standin, identifier) or standin.store.get(KIND, identifier, include_deleted=True)
    return serialize(standin, plan) if plan else None


def create(standin: Standin, params: dict[str, Any], *, notify: bool = True) -> dict[str, Any]:
    """Create a plan with its charges (404 for an unknown billable metric, 422 for bad fields)."""
    problems = Problems()
    for name in ("name", "code", "interval", "amount_currency"):
        if blank(params.get(name)):
            problems.add(name, "value_is_mandatory")
    if params.get("amount_cents") is None:
        problems.add("amount_cents", "value_is_mandatory")
    if params.get("code") and find(standin, params["code"]):
        problems.add("code", "value_already_exist")
    _check_plan_fields(params, problems)
    problems.raise_if_any()
    now = standin.clock.now_iso()
    plan: dict[str, Any] = {
        "name": params["name"],
        "code": params["code"],
        "interval": params["interval"],
        "amount_cents": params["amount_cents"],
        "amount_currency": params["amount_currency"],
        "invoice_display_name": params.get("invoice_display_name"),
        "description": params.get("description"),
        "pay_in_advance": bool(params.get("pay_in_advance", False)),
        "trial_period": _float_or_none(params.get("trial_period")),
        "metadata": params.get("metadata"),
        "pending_deletion": False,
        "usage_thresholds": [],
        "minimum_commitment": None,
    }
    _monthly_flags(plan, params)
    _premium_parts(standin, plan, params, now)
    plan["charges"] = [_new_charge(standin, c, now) for c in params.get("charges") or []]
    plan = standin.store.insert(KIND, plan, key=plan["code"])
    if notify:
        standin.webhooks.emit("plan.created", serialize(standin, plan))
    return plan


def update(standin: Standin, plan: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Update the keys present; `charges` replaces the list (kept by id, new ones created)."""
    problems = Problems()
    if "code" in params and params["code"] != plan["code"] and find(standin, params["code"]):
        problems.add("code", "value_already_exist")
    for name in ("name", "code"):
        if name in params and blank(params[name]):
            problems.add(name, "value_is_mandatory")
    _check_plan_fields(params, problems)
    problems.raise_if_any()
    now = standin.clock.now_iso()
    for name in PLAIN_FIELDS:
        if name in params:
            plan[name] = params[name]
    for name in NON_NULL_FIELDS:
        if params.get(name) is not None:
            plan[name] = params[name]
    if "trial_period" in params:
        plan["trial_period"] = _float_or_none(params["trial_period"])
    if "metadata" in params:
        plan["metadata"] = params["metadata"]
    if "interval" in params or "bill_charges_monthly" in params:
        _monthly_flags(plan, params | {"interval": plan["interval"]})
    _premium_parts(standin, plan, params, now)
    if params.get("charges") is not None:
        by_id = {c["id"]: c for c in plan.get("charges", [])}
        charges = []
        for item in params["charges"]:
            existing = by_id.get(item.get("id") or "")
            charges.append(
                _update_charge(existing, item) if existing else _new_charge(standin, item, now)
            )
        plan["charges"] = charges
    plan = standin.store.save(KIND, plan, key=plan["code"])
    standin.webhooks.emit("plan.updated", serialize(standin, plan))
    return plan


def delete(standin: Standin, plan: dict[str, Any]) -> dict[str, Any]:
    """Mark the plan pending deletion, then discard it (lago-api does the second part in a job)."""
    plan["pending_deletion"] = True
    plan = standin.store.save(KIND, plan, key=plan["code"])
    serialized = serialize(standin, plan)
    standin.store.soft_delete(KIND, plan)
    standin.webhooks.emit("plan.deleted", serialized)
    return plan


def _check_plan_fields(params: dict[str, Any], problems: Problems) -> None:
    if params.get("interval") is not None and params["interval"] not in INTERVALS:
        problems.add("interval", "value_is_invalid")
    currency = params.get("amount_currency")
    if currency is not None and currency not in schema_enum("Currency"):
        problems.add("amount_currency", "value_is_invalid")
    amount = params.get("amount_cents")
    if amount is not None and (not isinstance(amount, int) or amount < 0):
        problems.add("amount_cents", "value_is_out_of_range")


def _monthly_flags(plan: dict[str, Any], params: dict[str, Any]) -> None:
    for flag in ("bill_charges_monthly", "bill_fixed_charges_monthly"):
        if plan["interval"] in MONTHLY_BILLING_INTERVALS:
            plan[flag] = bool(params.get(flag, plan.get(flag)) or False)
        else:
            plan[flag] = None


def _premium_parts(
    standin: Standin, plan: dict[str, Any], params: dict[str, Any], now: str
) -> None:
    """Minimum commitment and progressive-billing thresholds need a premium licence."""
    if not standin.config.premium:
        return
    commitment = params.get("minimum_commitment")
    if commitment:
        previous = plan.get("minimum_commitment") or {}
        plan["minimum_commitment"] = {
            "lago_id": previous.get("lago_id") or new_id(),
            "amount_cents": commitment.get("amount_cents", previous.get("amount_cents", 0)),
            "invoice_display_name": commitment.get("invoice_display_name"),
            "created_at": previous.get("created_at") or now,
            "updated_at": now,
            "taxes": [],
        }
    if params.get("usage_thresholds") is not None:
        plan["usage_thresholds"] = [
            {
                "lago_id": t.get("id") or new_id(),
                "threshold_display_name": t.get("threshold_display_name"),
                "amount_cents": t.get("amount_cents", 0),
                "recurring": bool(t.get("recurring", False)),
                "created_at": now,
                "updated_at": now,
            }
            for t in params["usage_thresholds"]
        ]


def _new_charge(standin: Standin, params: dict[str, Any], now: str) -> dict[str, Any]:
    metric_id = params.get("billable_metric_id")
    if not metric_id or standin.store.get("billable_metric", metric_id) is None:
        raise errors.not_found("billable_metric")
    model = params.get("charge_model")
    if model not in CHARGE_MODELS:
        raise errors.single_validation_error("value_is_invalid", "charge_model")
    charge = {
        "id": new_id(),
        "billable_metric_id": metric_id,
        "code": params.get("code"),
        "charge_model": model,
        "invoice_display_name": params.get("invoice_display_name"),
        "pay_in_advance": bool(params.get("pay_in_advance", False)),
        "invoiceable": bool(params.get("invoiceable", True)),
        "regroup_paid_fees": params.get("regroup_paid_fees"),
        "prorated": bool(params.get("prorated", False)),
        "min_amount_cents": params.get("min_amount_cents") or 0,
        "properties": params.get("properties") or default_properties(model),
        "filters": list(params.get("filters") or []),
        "applied_pricing_unit": params.get("applied_pricing_unit"),
        "created_at": now,
    }
    _check_properties(charge)
    return charge


def _update_charge(charge: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    charge = dict(charge)
    for name in (
        "code",
        "charge_model",
        "invoice_display_name",
        "pay_in_advance",
        "invoiceable",
        "regroup_paid_fees",
        "prorated",
        "min_amount_cents",
        "properties",
        "filters",
        "applied_pricing_unit",
    ):
        if name in params:
            charge[name] = params[name]
    if charge["charge_model"] not in CHARGE_MODELS:
        raise errors.single_validation_error("value_is_invalid", "charge_model")
    if not charge.get("properties"):
        charge["properties"] = default_properties(charge["charge_model"])
    _check_properties(charge)
    return charge


def _check_properties(charge: dict[str, Any]) -> None:
    """The amount checks of Lago's charge validators for the simple models."""
    properties = charge["properties"]
    model = charge["charge_model"]
    if model in ("standard", "package") and not DECIMAL.match(str(properties.get("amount", ""))):
        raise errors.single_validation_error("invalid_amount", "amount")
    if model == "percentage" and not DECIMAL.match(str(properties.get("rate", ""))):
        raise errors.single_validation_error("invalid_rate", "rate")


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


@bp.post("/plans")
def create_plan():
    standin = current()
    plan = create(standin, require("plan"))
    return jsonify(plan=serialize(standin, plan))


@bp.get("/plans")
def list_plans():
    standin = current()
    plans = standin.store.all(KIND)
    return jsonify(
        pagination.collection("plans", plans, lambda p: serialize(standin, p), request.args)
    )


@bp.get("/plans/<code>")
def get_plan(code: str):
    standin = current()
    return jsonify(plan=serialize(standin, get_or_404(standin, code)))


@bp.put("/plans/<code>")
def update_plan(code: str):
    standin = current()
    plan = get_or_404(standin, code)
    plan = update(standin, plan, require("plan"))
    return jsonify(plan=serialize(standin, plan))


@bp.delete("/plans/<code>")
def delete_plan(code: str):
    standin = current()
    plan = delete(standin, get_or_404(standin, code))
    return jsonify(plan=serialize(standin, plan))

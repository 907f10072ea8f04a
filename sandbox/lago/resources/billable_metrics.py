"""Billable metrics: list, get, create and update (plans' charges point at them)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..state import Standin, current
from . import Problems, blank, register_object, require

bp = Blueprint("billable_metrics", __name__)

KIND = "billable_metric"
AGGREGATIONS = (
    "count_agg",
    "sum_agg",
    "max_agg",
    "unique_count_agg",
    "weighted_sum_agg",
    "latest_agg",
)
NEEDS_FIELD_NAME = frozenset(AGGREGATIONS) - {"count_agg"}


def find(standin: Standin, code: str) -> dict[str, Any] | None:
    """The live billable metric with this code."""
    return standin.store.find(KIND, code)


def serialize(standin: Standin, metric: dict[str, Any]) -> dict[str, Any]:
    """A billable metric as V1::BillableMetricSerializer renders it."""
    plans = standin.store.all(
        "plan",
        where=lambda p: any(c["billable_metric_id"] == metric["id"] for c in p.get("charges", [])),
    )
    return {
        "lago_id": metric["id"],
        "name": metric["name"],
        "code": metric["code"],
        "description": metric.get("description"),
        "aggregation_type": metric["aggregation_type"],
        "weighted_interval": metric.get("weighted_interval"),
        "recurring": metric.get("recurring", False),
        "rounding_function": metric.get("rounding_function"),
        "rounding_precision": metric.get("rounding_precision"),
        "created_at": metric["created_at"],
        "expression": metric.get("expression"),
        "field_name": metric.get("field_name"),
        "active_subscriptions_count": 0,
        "draft_invoices_count": 0,
        "plans_count": len(plans),
        "filters": [{"key": f["key"], "values": list(f["values"])} for f in metric["filters"]],
    }


@register_object("billable_metric")
def _find_for_trigger(standin: Standin, identifier: str, **_context: Any) -> dict | None:
    metric = find(standin, identifier) or standin.store.get(KIND, identifier)
    return serialize(standin, metric) if metric else None


def create(standin: Standin, params: dict[str, Any], *, notify: bool = True) -> dict[str, Any]:
    """Create a billable metric (422 on a taken code or missing name, code or field_name)."""
    problems = Problems()
    for name in ("name", "code", "aggregation_type"):
        if blank(params.get(name)):
            problems.add(name, "value_is_mandatory")
    aggregation = params.get("aggregation_type")
    if aggregation and aggregation not in AGGREGATIONS:
        problems.add("aggregation_type", "value_is_invalid")
    if aggregation in NEEDS_FIELD_NAME and blank(params.get("field_name")):
        problems.add("field_name", "value_is_mandatory")
    if params.get("code") and find(standin, params["code"]):
        problems.add("code", "value_already_exist")
    problems.raise_if_any()
    weighted = params.get("weighted_interval")
    if aggregation == "weighted_sum_agg":
        weighted = weighted or "seconds"
    metric = {
        "name": params["name"],
        "code": params["code"],
        "description": params.get("description"),
        "aggregation_type": aggregation,
        "weighted_interval": weighted,
        "recurring": bool(params.get("recurring", False)),
        "field_name": params.get("field_name"),
        "expression": params.get("expression"),
        "rounding_function": params.get("rounding_function"),
        "rounding_precision": params.get("rounding_precision"),
        "filters": [
            {"key": f["key"], "values": list(f.get("values") or [])}
            for f in params.get("filters") or []
        ],
    }
    metric = standin.store.insert(KIND, metric, key=metric["code"])
    if notify:
        standin.webhooks.emit("billable_metric.created", serialize(standin, metric))
    return metric


@bp.post("/billable_metrics")
def create_billable_metric():
    standin = current()
    metric = create(standin, require("billable_metric"))
    return jsonify(billable_metric=serialize(standin, metric))


@bp.get("/billable_metrics")
def list_billable_metrics():
    standin = current()
    metrics = standin.store.all(KIND)
    return jsonify(
        pagination.collection(
            "billable_metrics", metrics, lambda m: serialize(standin, m), request.args
        )
    )


def _get_or_404(standin: Standin, code: str) -> dict[str, Any]:
    metric = find(standin, code)
    if metric is None:
        raise errors.not_found("billable_metric")
    return metric


@bp.get("/billable_metrics/<code>")
def get_billable_metric(code: str):
    standin = current()
    return jsonify(billable_metric=serialize(standin, _get_or_404(standin, code)))


def update(standin: Standin, metric: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """BillableMetrics::UpdateService: name, description and filters always; the rest only
    while no plan charges the metric (lago-api then keeps them without an error)."""
    for name in ("name", "code"):
        if name in params and blank(params[name]):
            raise errors.single_validation_error("value_is_mandatory", name)
    aggregation = params.get("aggregation_type")
    if aggregation is not None and aggregation not in AGGREGATIONS:
        raise errors.single_validation_error("value_is_invalid", "aggregation_type")
    metric = dict(metric)
    for name in ("name", "description"):
        if name in params:
            metric[name] = params[name]
    if params.get("filters") is not None:
        metric["filters"] = [
            {"key": f["key"], "values": list(f.get("values") or [])} for f in params["filters"]
        ]
    attached = standin.store.all(
        "plan",
        where=lambda p: any(c["billable_metric_id"] == metric["id"] for c in p.get("charges", [])),
    )
    if not attached:
        if "code" in params and params["code"] != metric["code"] and find(standin, params["code"]):
            raise errors.single_validation_error("value_already_exist", "code")
        for name in (
            "code",
            "aggregation_type",
            "weighted_interval",
            "field_name",
            "recurring",
            "rounding_function",
            "rounding_precision",
            "expression",
        ):
            if name in params:
                metric[name] = params[name]
    metric = standin.store.save(KIND, metric, key=metric["code"])
    standin.webhooks.emit("billable_metric.updated", serialize(standin, metric))
    return metric


@bp.put("/billable_metrics/<code>")
def update_billable_metric(code: str):
    standin = current()
    metric = update(standin, _get_or_404(standin, code), require("billable_metric"))
    return jsonify(billable_metric=serialize(standin, metric))

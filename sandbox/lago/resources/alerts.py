"""Subscription usage alerts: `/subscriptions/{external_id}/alerts` and `alert.triggered`.

As lago-api (`Api::V1::Subscriptions::AlertsController`, `UsageMonitoring::*`): an alert
watches one value of the subscription's current usage (`current_usage_amount` in cents, or one
billable metric's units or amount) against its thresholds. When events arrive for the
subscription (and when an alert is created) lago-api records subscription activity that its
clock processes within a minute; the stand-in processes it at once. Processing compares the
value now with the alert's `previous_value`: every threshold in between that the value went up
past is "crossed", and one `alert.triggered` lists them. The first processing in a new period
only resets `previous_value` (usage starts again from zero), so each threshold fires once per
period. Like lago-api, activity is only tracked on a premium licence: without `premium` the
alerts are stored but never triggered. `lifetime_usage_amount` and the billable-metric lifetime
type are refused with `feature_not_available` (the stand-in has no lifetime usage).

`alerts_api=False` makes the stand-in an older Lago without these routes (404
`resource_not_found`, as Rails answers an unknown route).
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..state import Standin, current
from ..store import new_id
from . import Problems, billable_metrics, blank, json_body, subscriptions, usage

bp = Blueprint("alerts", __name__)

KIND = "alert"
TRIGGERED_KIND = "triggered_alert"
SOFT_LIMIT = 20
SUBSCRIPTION_TYPES = (
    "current_usage_amount",
    "billable_metric_current_usage_amount",
    "billable_metric_current_usage_units",
    "lifetime_usage_amount",
    "billable_metric_lifetime_usage_units",
)
WALLET_TYPES = (
    "wallet_balance_amount",
    "wallet_credits_balance",
    "wallet_ongoing_balance_amount",
    "wallet_credits_ongoing_balance",
)
LIFETIME_TYPES = ("lifetime_usage_amount", "billable_metric_lifetime_usage_units")
METRIC_TYPES = (
    "billable_metric_current_usage_amount",
    "billable_metric_current_usage_units",
    "billable_metric_lifetime_usage_units",
)


def _key(owner: str, code: str) -> str:
    return f"{owner}/{code}"


def owner(alert: dict[str, Any]) -> str:
    """What the alert watches: a subscription (its external id) or a wallet (`wallet:<id>`)."""
    if alert.get("wallet_id"):
        return f"wallet:{alert['wallet_id']}"
    return alert["external_subscription_id"]


def save(standin: Standin, alert: dict[str, Any]) -> dict[str, Any]:
    """Store the alert under its owner and code."""
    return standin.store.save(KIND, alert, key=_key(owner(alert), alert["code"]))


def _number(value: Decimal) -> int | float:
    """A decimal column as a JSON number."""
    return int(value) if value == value.to_integral_value() else float(value)


def _metric(standin: Standin, alert: dict[str, Any]) -> dict[str, Any] | None:
    metric_id = alert.get("billable_metric_id")
    if not metric_id:
        return None
    return standin.store.get("billable_metric", metric_id, include_deleted=True)


def serialize(standin: Standin, alert: dict[str, Any]) -> dict[str, Any]:
    """V1::UsageMonitoring::AlertSerializer (with thresholds)."""
    metric = _metric(standin, alert)
    wallet = standin.store.get("wallet", alert["wallet_id"]) if alert.get("wallet_id") else None
    return {
        "lago_id": alert["id"],
        "lago_organization_id": standin.org()["id"],
        "subscription_external_id": alert.get("external_subscription_id"),
        "external_subscription_id": alert.get("external_subscription_id"),
        "lago_wallet_id": alert.get("wallet_id"),
        "wallet_code": wallet.get("code") if wallet else None,
        "alert_type": alert["alert_type"],
        "code": alert["code"],
        "name": alert.get("name"),
        "direction": alert.get("direction", "increasing"),
        "previous_value": _number(Decimal(alert["previous_value"])),
        "last_processed_at": alert.get("last_processed_at"),
        "thresholds": [dict(t) for t in alert["thresholds"]],
        "created_at": alert["created_at"],
        "billable_metric": billable_metrics.serialize(standin, metric) if metric else None,
    }


def _enabled(standin: Standin) -> None:
    if not standin.config.alerts_api:
        raise errors.route_not_found()


def _truthy(value: Any) -> bool:
    return value in (True, "true", "1", 1, "t", "on")


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str) and value.strip():
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


def _check_thresholds(thresholds: Any) -> list[dict[str, Any]]:
    """CreateAlertService's threshold checks, in its order; the thresholds as stored."""
    if blank(thresholds) or not isinstance(thresholds, list):
        raise errors.single_validation_error("value_is_mandatory", "thresholds")
    if len(thresholds) > SOFT_LIMIT:
        raise errors.single_validation_error("too_many_thresholds", "thresholds")
    items = [t if isinstance(t, dict) else {} for t in thresholds]
    keys = [(str(t.get("value")), _truthy(t.get("recurring"))) for t in items]
    if len(keys) != len(set(keys)):
        raise errors.single_validation_error("duplicate_threshold_values", "thresholds")
    if any(t.get("value") is None for t in items):
        raise errors.single_validation_error("value_is_mandatory", "thresholds:value")
    if not all(_numeric(t.get("value")) for t in items):
        raise errors.single_validation_error("value_is_invalid", "thresholds:value")
    stored = []
    for item in items:
        try:
            value = Decimal(str(item["value"]))
        except InvalidOperation as exc:
            raise errors.single_validation_error("value_is_invalid", "thresholds:value") from exc
        recurring = _truthy(item.get("recurring"))
        if recurring and value <= 0:
            raise errors.single_validation_error("recurring_value_is_negative", "thresholds:value")
        stored.append(
            {"code": item.get("code"), "value": usage.decimal_str(value), "recurring": recurring}
        )
    return stored


def _metric_id(standin: Standin, params: dict[str, Any]) -> str | None:
    code = params.get("billable_metric_code")
    if code is None:
        return None
    metric = billable_metrics.find(standin, str(code))
    if metric is None:
        raise errors.not_found("billable_metric")
    return metric["id"]


def _check_unique(standin: Standin, alert: dict[str, Any], *, ignore: str | None = None) -> None:
    siblings = standin.store.all(
        KIND, where=lambda a: owner(a) == owner(alert) and a["id"] != ignore
    )
    if any(a["code"] == alert["code"] for a in siblings):
        raise errors.single_validation_error("value_already_exist", "code")
    if any(
        a["alert_type"] == alert["alert_type"]
        and a.get("billable_metric_id") == alert.get("billable_metric_id")
        for a in siblings
    ):
        raise errors.single_validation_error("alert_already_exists")


def create(standin: Standin, sub: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """UsageMonitoring::CreateAlertService for a subscription."""
    kind = params.get("alert_type")
    if kind in LIFETIME_TYPES:
        raise errors.single_validation_error("feature_not_available", "alert_type")
    if blank(kind):
        raise errors.validation_errors({"alert_type": ["value_is_mandatory", "value_is_invalid"]})
    if kind not in SUBSCRIPTION_TYPES or kind in WALLET_TYPES:
        raise errors.single_validation_error("invalid_type", "alert_type")
    thresholds = _check_thresholds(params.get("thresholds"))
    metric_id = _metric_id(standin, params)
    problems = Problems()
    if kind in METRIC_TYPES and metric_id is None:
        problems.add("billable_metric", "value_is_mandatory")
    if kind not in METRIC_TYPES and metric_id is not None:
        problems.add("billable_metric", "value_is_invalid")
    if blank(params.get("code")):
        problems.add("code", "value_is_mandatory")
    problems.raise_if_any()
    alert = {
        "id": new_id(),
        "external_subscription_id": sub["external_id"],
        "alert_type": kind,
        "code": str(params["code"]),
        "name": params.get("name"),
        "billable_metric_id": metric_id,
        "previous_value": "0",
        "last_processed_at": None,
        "thresholds": thresholds,
    }
    _check_unique(standin, alert)
    stored = standin.store.insert(KIND, alert, key=_key(sub["external_id"], alert["code"]))
    process_subscription(standin, sub)
    return standin.store.get(KIND, stored["id"]) or stored


def update(standin: Standin, alert: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """UsageMonitoring::UpdateAlertService: code, name, metric and thresholds (replaced)."""
    changed = dict(alert)
    if "thresholds" in params:
        changed["thresholds"] = _check_thresholds(params.get("thresholds"))
    if "billable_metric_code" in params and alert["alert_type"] in METRIC_TYPES:
        changed["billable_metric_id"] = _metric_id(standin, params)
    for name in ("code", "name"):
        if name in params:
            changed[name] = params[name]
    if blank(changed.get("code")):
        raise errors.single_validation_error("value_is_mandatory", "code")
    _check_unique(standin, changed, ignore=alert["id"])
    return save(standin, changed)


# --- processing (UsageMonitoring::ProcessAlertService) ---------------------------------------


def _value(alert: dict[str, Any], current_usage: dict[str, Any]) -> Decimal | None:
    """Alert#find_value: the amount in cents, or one metric's largest units or amount."""
    if alert["alert_type"] == "current_usage_amount":
        return Decimal(current_usage["amount_cents"])
    found = [
        c
        for c in current_usage["charges_usage"]
        if c["billable_metric"]["lago_id"] == alert.get("billable_metric_id")
    ]
    if not found:
        return None  # the metric is not charged by the plan
    if alert["alert_type"] == "billable_metric_current_usage_units":
        return max(Decimal(c["units"]) for c in found)
    return Decimal(max(c["amount_cents"] for c in found))


def _recurring_crossed(
    previous: Decimal, value: Decimal, step: Decimal, initial: Decimal
) -> list[Decimal]:
    """Alert#find_recurring_thresholds_crossed_increasing: every step past `initial` from
    the one after `previous` up to `value`."""
    first = initial + max(math.ceil((previous - initial) / step), 1) * step
    last = initial + math.floor((value - initial) / step) * step
    found = []
    while first <= last:
        found.append(first)
        first += step
    return found


def _recurring_crossed_decreasing(
    previous: Decimal, value: Decimal, step: Decimal, initial: Decimal
) -> list[Decimal]:
    """Alert#find_recurring_thresholds_crossed_decreasing: every step below `initial` from
    the one under `previous` down to `value`."""
    first = initial - max(math.ceil((initial - previous) / step), 1) * step
    last = initial - math.floor((initial - value) / step) * step
    found = []
    while last <= first:
        found.append(last)
        last += step
    return found


def _crossed_values(alert: dict[str, Any], value: Decimal) -> list[Decimal]:
    """Alert#find_thresholds_crossed: increasing for usage, decreasing for wallet balances."""
    previous = Decimal(alert["previous_value"])
    once = sorted({Decimal(t["value"]) for t in alert["thresholds"] if not t["recurring"]})
    recurring = next((t for t in alert["thresholds"] if t["recurring"]), None)
    step = Decimal(recurring["value"]) if recurring is not None else None
    values: list[Decimal] = []
    if alert.get("direction") == "decreasing":
        if value >= previous or (once and value > once[-1]):
            return []
        if once and previous > once[0]:
            values += [v for v in once if value <= v < previous]
        if step is not None:
            initial = once[0] if once else Decimal(0)
            values += _recurring_crossed_decreasing(previous, value, step, initial)
        return values
    if value <= previous or (once and value < once[0]):
        return []
    if once and previous < once[-1]:
        values += [v for v in once if previous < v <= value]
    if step is not None:
        values += _recurring_crossed(previous, value, step, once[-1] if once else Decimal(0))
    return values


def crossed(alert: dict[str, Any], value: Decimal) -> list[dict[str, Any]]:
    """The thresholds crossed, formatted as `crossed_thresholds`."""
    once = {Decimal(t["value"]) for t in alert["thresholds"] if not t["recurring"]}
    recurring = next((t for t in alert["thresholds"] if t["recurring"]), None)
    values = _crossed_values(alert, value)
    regular = [
        {"code": t["code"], "value": t["value"], "recurring": False}
        for t in alert["thresholds"]
        if not t["recurring"] and Decimal(t["value"]) in values
    ]
    repeated = [
        {"code": recurring["code"], "value": usage.decimal_str(v), "recurring": True}
        for v in sorted(set(values))
        if v not in once and recurring is not None
    ]
    return regular + repeated


def serialize_triggered(standin: Standin, triggered: dict[str, Any]) -> dict[str, Any]:
    """V1::UsageMonitoring::TriggeredAlertSerializer."""
    alert = standin.store.get(KIND, triggered["alert_id"], include_deleted=True) or {}
    metric = _metric(standin, alert)
    return {
        "lago_id": triggered["id"],
        "lago_organization_id": standin.org()["id"],
        "lago_alert_id": triggered["alert_id"],
        "lago_subscription_id": triggered.get("subscription_id"),
        "external_subscription_id": alert.get("external_subscription_id"),
        "lago_wallet_id": triggered.get("wallet_id"),
        "external_customer_id": triggered["external_customer_id"],
        "billable_metric_code": metric["code"] if metric else None,
        "alert_name": alert.get("name"),
        "alert_code": alert.get("code"),
        "alert_type": alert.get("alert_type"),
        "current_value": _number(Decimal(triggered["current_value"])),
        "previous_value": _number(Decimal(triggered["previous_value"])),
        "crossed_thresholds": triggered["crossed_thresholds"],
        "triggered_at": triggered["triggered_at"],
        "subscription_external_id": alert.get("external_subscription_id"),
        "customer_external_id": triggered["external_customer_id"],
    }


def process(
    standin: Standin, alert: dict[str, Any], value: Decimal, fired_on: dict[str, Any]
) -> dict[str, Any] | None:
    """ProcessAlertService: record the thresholds crossed since the previous value (a
    triggered alert, returned) and remember the value. `fired_on` names the subscription or
    wallet and the customer."""
    now = standin.clock.now_iso()
    hits = crossed(alert, value)
    triggered = None
    if hits:
        triggered = standin.store.insert(
            TRIGGERED_KIND,
            {
                "alert_id": alert["id"],
                "current_value": str(value),
                "previous_value": alert["previous_value"],
                "crossed_thresholds": hits,
                "triggered_at": now,
            }
            | fired_on,
        )
    alert["previous_value"] = str(value)
    alert["last_processed_at"] = now
    save(standin, alert)
    return triggered


def process_subscription(standin: Standin, sub: dict[str, Any]) -> list[dict[str, Any]]:
    """ProcessSubscriptionActivityService for one active subscription (premium only): each
    alert's value now against its previous one; returns the triggered alerts."""
    if not standin.config.premium or sub.get("status") != "active":
        return []
    alerts = standin.store.all(
        KIND,
        newest_first=False,
        where=lambda a: a.get("external_subscription_id") == sub["external_id"],
    )
    if not alerts:
        return []
    customer = subscriptions.customer_of(standin, sub)
    current_usage = usage.current_usage(standin, customer, sub)
    fired_on = {
        "subscription_id": sub["id"],
        "wallet_id": None,
        "external_customer_id": customer["external_id"],
    }
    fired = []
    for alert in alerts:
        value = _value(alert, current_usage)
        if value is None:
            continue
        triggered = process(standin, alert, value, fired_on)
        if triggered is not None:
            fired.append(triggered)
    for triggered in fired:
        standin.webhooks.emit("alert.triggered", serialize_triggered(standin, triggered))
    return fired


def after_events(standin: Standin, external_subscription_ids: set[str]) -> None:
    """Subscription activity from new events (TrackSubscriptionActivityService: premium only)."""
    if not standin.config.premium:
        return
    for external_id in sorted(external_subscription_ids):
        sub = subscriptions.find_active(standin, external_id)
        if sub is not None:
            process_subscription(standin, sub)


# --- routes --------------------------------------------------------------------------------


def _subscription(external_id: str) -> tuple[Standin, dict[str, Any]]:
    standin = current()
    _enabled(standin)
    status = request.args.get("subscription_status") or request.args.get("status") or "active"
    return standin, subscriptions.get_or_404(standin, external_id, status)


def _alert_or_404(standin: Standin, sub: dict[str, Any], code: str) -> dict[str, Any]:
    alert = standin.store.find(KIND, _key(sub["external_id"], code))
    if alert is None:
        raise errors.not_found("alert")
    return alert


@bp.get("/subscriptions/<external_id>/alerts")
def list_alerts(external_id: str):
    standin, sub = _subscription(external_id)
    found = standin.store.all(
        KIND, where=lambda a: a.get("external_subscription_id") == sub["external_id"]
    )
    page, limit = pagination.page_and_limit(request.args)
    offset = (page - 1) * limit
    return jsonify(
        alerts=[serialize(standin, a) for a in found[offset : offset + limit]],
        meta=pagination.meta(len(found), page, limit),
    )


@bp.post("/subscriptions/<external_id>/alerts")
def create_alert(external_id: str):
    standin, sub = _subscription(external_id)
    body = json_body()
    if isinstance(body.get("alerts"), list) and body["alerts"]:
        with standin.store.transaction():
            made = [create(standin, sub, p if isinstance(p, dict) else {}) for p in body["alerts"]]
        return jsonify(alerts=[serialize(standin, a) for a in made])
    params = body.get("alert")
    if not isinstance(params, dict) or not params:
        raise errors.missing_param("alert")
    return jsonify(alert=serialize(standin, create(standin, sub, params)))


@bp.get("/subscriptions/<external_id>/alerts/<code>")
def get_alert(external_id: str, code: str):
    standin, sub = _subscription(external_id)
    return jsonify(alert=serialize(standin, _alert_or_404(standin, sub, code)))


@bp.put("/subscriptions/<external_id>/alerts/<code>")
def update_alert(external_id: str, code: str):
    standin, sub = _subscription(external_id)
    alert = _alert_or_404(standin, sub, code)
    params = json_body().get("alert")
    if not isinstance(params, dict) or not params:
        raise errors.missing_param("alert")
    return jsonify(alert=serialize(standin, update(standin, alert, params)))


@bp.delete("/subscriptions/<external_id>/alerts/<code>")
def delete_alert(external_id: str, code: str):
    standin, sub = _subscription(external_id)
    alert = _alert_or_404(standin, sub, code)
    alert["thresholds"] = []  # DestroyAlertService deletes them before rendering
    standin.store.soft_delete(KIND, alert)
    return jsonify(alert=serialize(standin, alert))


@bp.delete("/subscriptions/<external_id>/alerts")
def delete_all_alerts(external_id: str):
    standin, sub = _subscription(external_id)
    for alert in standin.store.all(
        KIND, where=lambda a: a.get("external_subscription_id") == sub["external_id"]
    ):
        standin.store.soft_delete(KIND, alert)
    return "", 200

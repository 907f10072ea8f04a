"""Wallet alerts: `/customers/{external_customer_id}/wallets/{wallet_code}/alerts`.

As lago-api (`Api::V1::Customers::Wallets::AlertsController`, `UsageMonitoring::*`): a wallet
alert watches one balance of the wallet (`wallet_balance_amount` and
`wallet_ongoing_balance_amount` in cents, `wallet_credits_balance` and
`wallet_credits_ongoing_balance` in credits) going down. It is created `decreasing` with the
balance of that moment as its `previous_value`; each time the balance moves
(Wallets::Balance::IncreaseService, DecreaseService, UpdateOngoingService) lago-api's
ProcessWalletAlertsJob compares the balance with `previous_value`, sends one `alert.triggered`
listing every threshold the balance went down past, and keeps the balance as the new
`previous_value`. A top-up raises `previous_value` again, so the same threshold fires again on
the next fall. Premium only, like subscription alerts; `alerts_api=False` hides these routes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify, request

from .. import errors, pagination
from ..state import Standin, current
from ..store import new_id
from . import Problems, alerts, blank, customers, json_body, wallets

bp = Blueprint("wallet_alerts", __name__)

VALUES = {
    "wallet_balance_amount": "balance_cents",
    "wallet_credits_balance": "credits_balance",
    "wallet_ongoing_balance_amount": "ongoing_balance_cents",
    "wallet_credits_ongoing_balance": "credits_ongoing_balance",
}


def value(standin: Standin, alert: dict[str, Any], wallet: dict[str, Any]) -> Decimal:
    """The balance the alert watches (Wallet*Alert#find_value)."""
    return Decimal(str(wallets.serialize(standin, wallet)[VALUES[alert["alert_type"]]]))


def create(standin: Standin, wallet: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """UsageMonitoring::CreateAlertService for a wallet."""
    kind = params.get("alert_type")
    if kind in alerts.LIFETIME_TYPES:
        raise errors.single_validation_error("feature_not_available", "alert_type")
    if blank(kind):
        raise errors.validation_errors({"alert_type": ["value_is_mandatory", "value_is_invalid"]})
    if kind not in alerts.WALLET_TYPES:
        raise errors.single_validation_error("invalid_type", "alert_type")
    thresholds = alerts._check_thresholds(params.get("thresholds"))
    problems = Problems()
    if blank(params.get("code")):
        problems.add("code", "value_is_mandatory")
    problems.raise_if_any()
    alert = {
        "id": new_id(),
        "external_subscription_id": None,
        "wallet_id": wallet["id"],
        "alert_type": kind,
        "code": str(params["code"]),
        "name": params.get("name"),
        "billable_metric_id": None,
        "direction": "decreasing",
        "last_processed_at": None,
        "thresholds": thresholds,
    }
    alert["previous_value"] = str(value(standin, alert, wallet))
    alerts._check_unique(standin, alert)
    stored = standin.store.insert(alerts.KIND, alert, key=f"{alerts.owner(alert)}/{alert['code']}")
    process_wallet(standin, wallet)
    return standin.store.get(alerts.KIND, stored["id"]) or stored


def process_wallet(standin: Standin, wallet: dict[str, Any]) -> list[dict[str, Any]]:
    """ProcessWalletAlertsJob (premium, active wallets): each alert's balance against its
    previous value; returns the triggered alerts after sending their webhooks."""
    wallet = standin.store.get(wallets.KIND, wallet["id"]) or wallet
    if not standin.config.premium or wallet.get("status") != "active":
        return []
    found = standin.store.all(
        alerts.KIND, newest_first=False, where=lambda a: a.get("wallet_id") == wallet["id"]
    )
    fired_on = {
        "subscription_id": None,
        "wallet_id": wallet["id"],
        "external_customer_id": wallet["external_customer_id"],
    }
    fired = [
        triggered
        for alert in found
        if (triggered := alerts.process(standin, alert, value(standin, alert, wallet), fired_on))
    ]
    for triggered in fired:
        standin.webhooks.emit("alert.triggered", alerts.serialize_triggered(standin, triggered))
    return fired


# --- routes --------------------------------------------------------------------------------


def _wallet(external_customer_id: str, wallet_code: str) -> tuple[Standin, dict[str, Any]]:
    """Customers::Wallets::BaseController#find_wallet: the customer's wallet by code, an
    active one before a terminated one."""
    standin = current()
    alerts._enabled(standin)
    customer = customers.get_or_404(standin, external_customer_id)
    found = standin.store.all(
        wallets.KIND,
        newest_first=False,
        where=lambda w: w["customer_id"] == customer["id"] and w.get("code") == wallet_code,
    )
    if not found:
        raise errors.not_found("wallet")
    return standin, min(found, key=lambda w: w["status"] != "active")


def _alert_or_404(standin: Standin, wallet: dict[str, Any], code: str) -> dict[str, Any]:
    alert = standin.store.find(alerts.KIND, f"wallet:{wallet['id']}/{code}")
    if alert is None:
        raise errors.not_found("alert")
    return alert


def _of(standin: Standin, wallet: dict[str, Any]) -> list[dict[str, Any]]:
    return standin.store.all(alerts.KIND, where=lambda a: a.get("wallet_id") == wallet["id"])


@bp.get("/customers/<external_customer_id>/wallets/<wallet_code>/alerts")
def list_alerts(external_customer_id: str, wallet_code: str):
    standin, wallet = _wallet(external_customer_id, wallet_code)
    found = _of(standin, wallet)
    page, limit = pagination.page_and_limit(request.args)
    offset = (page - 1) * limit
    return jsonify(
        alerts=[alerts.serialize(standin, a) for a in found[offset : offset + limit]],
        meta=pagination.meta(len(found), page, limit),
    )


@bp.post("/customers/<external_customer_id>/wallets/<wallet_code>/alerts")
def create_alert(external_customer_id: str, wallet_code: str):
    standin, wallet = _wallet(external_customer_id, wallet_code)
    body = json_body()
    if isinstance(body.get("alerts"), list) and body["alerts"]:
        with standin.store.transaction():
            made = [
                create(standin, wallet, p if isinstance(p, dict) else {}) for p in body["alerts"]
            ]
        return jsonify(alerts=[alerts.serialize(standin, a) for a in made])
    params = body.get("alert")
    if not isinstance(params, dict) or not params:
        raise errors.missing_param("alert")
    return jsonify(alert=alerts.serialize(standin, create(standin, wallet, params)))


@bp.get("/customers/<external_customer_id>/wallets/<wallet_code>/alerts/<code>")
def get_alert(external_customer_id: str, wallet_code: str, code: str):
    standin, wallet = _wallet(external_customer_id, wallet_code)
    return jsonify(alert=alerts.serialize(standin, _alert_or_404(standin, wallet, code)))


@bp.put("/customers/<external_customer_id>/wallets/<wallet_code>/alerts/<code>")
def update_alert(external_customer_id: str, wallet_code: str, code: str):
    standin, wallet = _wallet(external_customer_id, wallet_code)
    alert = _alert_or_404(standin, wallet, code)
    params = json_body().get("alert")
    if not isinstance(params, dict) or not params:
        raise errors.missing_param("alert")
    updated = alerts.update(standin, alert, params)
    process_wallet(standin, wallet)
    return jsonify(alert=alerts.serialize(standin, updated))


@bp.delete("/customers/<external_customer_id>/wallets/<wallet_code>/alerts/<code>")
def delete_alert(external_customer_id: str, wallet_code: str, code: str):
    standin, wallet = _wallet(external_customer_id, wallet_code)
    alert = _alert_or_404(standin, wallet, code)
    alert["thresholds"] = []  # DestroyAlertService deletes them before rendering
    standin.store.soft_delete(alerts.KIND, alert)
    return jsonify(alert=alerts.serialize(standin, alert))


@bp.delete("/customers/<external_customer_id>/wallets/<wallet_code>/alerts")
def delete_all_alerts(external_customer_id: str, wallet_code: str):
    standin, wallet = _wallet(external_customer_id, wallet_code)
    for alert in _of(standin, wallet):
        standin.store.soft_delete(alerts.KIND, alert)
    return "", 200

"""Demo catalogue: three billable metrics, three features, and Starter / Pro / Business monthly
USD plans that grant those features (Lago plan entitlements)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .resources import billable_metrics, entitlements, features, plans

if TYPE_CHECKING:
    from .state import Standin

METRICS: tuple[dict[str, Any], ...] = (
    {
        "name": "API calls",
        "code": "api_calls",
        "aggregation_type": "count_agg",
        "description": "Requests made to the API",
    },
    {
        "name": "Seats",
        "code": "seats",
        "aggregation_type": "unique_count_agg",
        "field_name": "user_id",
        "recurring": True,
        "description": "Distinct active users",
    },
    {
        "name": "Storage",
        "code": "storage_gb",
        "aggregation_type": "max_agg",
        "field_name": "gb",
        "description": "Peak storage in GB",
    },
)

FEATURES: tuple[dict[str, Any], ...] = (
    {
        "code": "seats",
        "name": "Team seats",
        "description": "People who can sign in",
        "privileges": [
            {"code": "max", "name": "Maximum", "value_type": "integer"},
            {"code": "max_admins", "name": "Admins", "value_type": "integer"},
        ],
    },
    {
        "code": "sso",
        "name": "Single sign-on",
        "description": "Sign in through your identity provider",
        "privileges": [
            {
                "code": "provider",
                "name": "Provider",
                "value_type": "select",
                "config": {"select_options": ["google", "okta"]},
            }
        ],
    },
    {
        "code": "audit_log",
        "name": "Audit log",
        "description": "Who changed what, kept for a while",
        "privileges": [
            {"code": "retention_days", "name": "Retention in days", "value_type": "integer"},
            {"code": "export", "name": "Export", "value_type": "boolean"},
        ],
    },
)

# plan code -> {feature code: {privilege code: value}}
ENTITLEMENTS: dict[str, dict[str, dict[str, Any]]] = {
    "starter": {"seats": {"max": 3, "max_admins": 1}},
    "pro": {
        "seats": {"max": 20, "max_admins": 5},
        "audit_log": {"retention_days": 30, "export": False},
    },
    "business": {
        "seats": {"max": 100, "max_admins": 20},
        "sso": {"provider": "okta"},
        "audit_log": {"retention_days": 365, "export": True},
    },
}


def _graduated(free_units: int, per_unit: str) -> dict[str, Any]:
    return {
        "graduated_ranges": [
            {"from_value": 0, "to_value": free_units, "per_unit_amount": "0", "flat_amount": "0"},
            {
                "from_value": free_units + 1,
                "to_value": None,
                "per_unit_amount": per_unit,
                "flat_amount": "0",
            },
        ]
    }


def _plans(metric_ids: dict[str, str]) -> list[dict[str, Any]]:
    calls, seats, storage = metric_ids["api_calls"], metric_ids["seats"], metric_ids["storage_gb"]
    return [
        {
            "name": "Starter",
            "code": "starter",
            "interval": "monthly",
            "amount_cents": 900,
            "amount_currency": "USD",
            "pay_in_advance": True,
            "trial_period": 14,
            "description": "For side projects: 10,000 API calls included.",
            "charges": [
                {
                    "billable_metric_id": calls,
                    "charge_model": "graduated",
                    "invoice_display_name": "API calls",
                    "properties": _graduated(10_000, "0.001"),
                }
            ],
        },
        {
            "name": "Pro",
            "code": "pro",
            "interval": "monthly",
            "amount_cents": 2900,
            "amount_currency": "USD",
            "pay_in_advance": True,
            "description": "For growing teams: 100,000 API calls included.",
            "charges": [
                {
                    "billable_metric_id": calls,
                    "charge_model": "graduated",
                    "invoice_display_name": "API calls",
                    "properties": _graduated(100_000, "0.0008"),
                },
                {
                    "billable_metric_id": seats,
                    "charge_model": "standard",
                    "invoice_display_name": "Seats",
                    "properties": {"amount": "5"},
                },
            ],
        },
        {
            "name": "Business",
            "code": "business",
            "interval": "monthly",
            "amount_cents": 9900,
            "amount_currency": "USD",
            "pay_in_advance": True,
            "description": "For companies: 1,000,000 API calls included.",
            "charges": [
                {
                    "billable_metric_id": calls,
                    "charge_model": "graduated",
                    "invoice_display_name": "API calls",
                    "properties": _graduated(1_000_000, "0.0005"),
                },
                {
                    "billable_metric_id": seats,
                    "charge_model": "standard",
                    "invoice_display_name": "Seats",
                    "properties": {"amount": "4"},
                },
                {
                    "billable_metric_id": storage,
                    "charge_model": "standard",
                    "invoice_display_name": "Storage",
                    "properties": {"amount": "0.1"},
                },
            ],
        },
    ]


def seed_demo_data(standin: Standin) -> dict[str, list[str]]:
    """Create whatever demo metrics, features and plans are missing; returns the codes created.
    A new plan gets its entitlements."""
    created: dict[str, list[str]] = {"billable_metrics": [], "features": [], "plans": []}
    metric_ids = {}
    for params in METRICS:
        metric = billable_metrics.find(standin, params["code"])
        if metric is None:
            metric = billable_metrics.create(standin, params, notify=False)
            created["billable_metrics"].append(metric["code"])
        metric_ids[metric["code"]] = metric["id"]
    for params in FEATURES:
        if features.find(standin, params["code"]) is None:
            features.create(standin, params, notify=False)
            created["features"].append(params["code"])
    # Oldest first, so that lists (newest first) show Business, Pro, Starter.
    for params in _plans(metric_ids):
        if plans.find(standin, params["code"]) is None:
            plan = plans.create(standin, params, notify=False)
            entitlements.grant(standin, plan, ENTITLEMENTS.get(params["code"], {}))
            created["plans"].append(params["code"])
    return created

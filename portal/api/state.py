"""A tenant's subscription state (the billing home's truth) and its entitlements."""

from __future__ import annotations

from portal.api import bp
from portal.api.replies import ApiError
from portal.api.tenants import find_tenant, iso
from portal.billing.entitlements import entitlement, features_of
from portal.billing.summary import summarize


@bp.get("/tenants/<external_id>/subscription")
def subscription_state(external_id: str):
    """Plan, status, trial and dunning, from the mirror."""
    tenant = find_tenant(external_id)
    summary = summarize(tenant)
    sub = summary.subscription
    account = summary.account
    return {
        "tenant_id": tenant.external_id,
        "status": summary.status.value,
        "plan": ({"code": sub.plan_code, "name": summary.plan_title} if sub is not None else None),
        "subscription": (
            {
                "external_id": sub.external_id,
                "status": sub.status,
                "started_at": iso(sub.started_at),
                "current_period_started_at": iso(sub.current_period_started_at),
                "current_period_ending_at": iso(sub.current_period_ending_at),
                "ending_at": iso(sub.ending_at),
            }
            if sub is not None
            else None
        ),
        "pending_plan_code": summary.pending.plan_code if summary.pending else None,
        "trial": (
            {"ends_at": iso(sub.trial_ends_at), "days_left": summary.trial_days_left}
            if sub is not None and summary.trial_days_left is not None
            else None
        ),
        "dunning": {
            "state": account.dunning_state.value if account else "ok",
            "since": iso(account.dunning_since) if account else None,
        },
        "as_of": iso(summary.as_of),
    }


@bp.get("/tenants/<external_id>/entitlements")
def list_entitlements(external_id: str):
    """The features of the tenant's plan, each with its answer."""
    tenant = find_tenant(external_id)
    return {
        "tenant_id": tenant.external_id,
        "data": [_entitlement_json(entitlement(tenant, f)) for f in features_of(summarize(tenant))],
    }


@bp.get("/tenants/<external_id>/entitlements/<path:feature>")
def get_entitlement(external_id: str, feature: str):
    """May the tenant use this feature, and how much has it used (and how fresh that is)?"""
    tenant = find_tenant(external_id)
    if not 0 < len(feature) <= 255:
        raise ApiError(404, "feature_not_found", "Name a feature of at most 255 characters.")
    return _entitlement_json(entitlement(tenant, feature))


def _entitlement_json(item) -> dict:
    return {
        "feature": item.feature,
        "allowed": item.allowed,
        "reason": item.reason,
        "source": item.source,
        "name": item.name,
        "privileges": item.privileges,
        "plan_code": item.plan_code,
        "subscription_status": item.status.value,
        "usage": (
            {
                "units": item.used_units,
                "period_from": iso(item.usage_from),
                "period_to": iso(item.usage_to),
                "as_of": iso(item.usage_as_of),
            }
            if item.metered
            else None
        ),
        "limit": None,
        "remaining": None,
        "credits": (
            {
                "credits": item.credits_left,
                "balance_cents": item.credits_balance_cents,
                "currency": item.credits_currency,
            }
            if item.credits_left is not None or item.credits_balance_cents is not None
            else None
        ),
    }

"""May a tenant use a feature, and how much has it used? Answered from the mirror alone.

A feature is one of Lago's plan entitlements (mirrored on the plan, with its privileges'
values), one of the plan's billable metrics (usage-based: what Lago counted so far this period,
from the cached usage), or one of the feature lines Pier keeps on the plan; a Lago entitlement
wins when a code is both, and keeps the metric's usage. Lago's privileges are free-form, so
Pier returns their values as they are and leaves `limit` and `remaining` empty; a tenant with a
prepaid wallet has its credits left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.billing import usage_cache
from portal.billing.summary import Status, summarize
from portal.models import Plan, Tenant, UsageSnapshot

BLOCKING = {Status.none, Status.ended, Status.suspended}


@dataclass(frozen=True)
class Entitlement:
    feature: str
    allowed: bool
    reason: str
    source: str  # lago_entitlement | billable_metric | plan_feature | none
    name: str | None
    privileges: dict[str, Any] | None
    metered: bool
    plan_code: str | None
    used_units: str | None
    usage_from: datetime | None
    usage_to: datetime | None
    usage_as_of: datetime | None
    credits_left: str | None
    credits_balance_cents: int | None
    credits_currency: str | None
    status: Status


def metrics_of(plan: Plan | None) -> list[str]:
    """The billable metric codes of the plan's charges, sorted."""
    charges = plan.charges or [] if plan is not None else []
    return sorted({c.get("billable_metric_code") for c in charges if c.get("billable_metric_code")})


def granted_of(plan: Plan | None) -> dict[str, dict[str, Any]]:
    """Lago's entitlements mirrored on the plan, by feature code."""
    return {item["code"]: item for item in (plan.entitlements or [] if plan else [])}


def features_of(summary) -> list[str]:
    """Every feature of the tenant's plan: metrics, then Lago features, then Pier's lines."""
    plan = summary.plan
    metrics = metrics_of(plan)
    lago = [code for code in granted_of(plan) if code not in metrics]
    return metrics + lago + list(plan.features or [] if plan else [])


def entitlement(tenant: Tenant, feature: str) -> Entitlement:
    summary = summarize(tenant)
    metrics = metrics_of(summary.plan)
    granted = granted_of(summary.plan).get(feature)
    lines = list(summary.plan.features or []) if summary.plan else []
    snapshot: UsageSnapshot | None = usage_cache.snapshot(tenant.id)
    if granted is not None:
        source = "lago_entitlement"
    elif feature in metrics:
        source = "billable_metric"
    elif feature.casefold() in {line.casefold() for line in lines}:
        source = "plan_feature"
    else:
        source = "none"
    if summary.status in BLOCKING:
        allowed, reason = False, f"The tenant's subscription is {summary.status.value}."
    elif source == "none":
        allowed, reason = False, "The tenant's plan does not include this feature."
    else:
        allowed, reason = True, "Included in the tenant's plan."
    metered = feature in metrics
    used = None
    if metered and snapshot is not None:
        used = snapshot.units.get(feature, "0")
    account = summary.account
    return Entitlement(
        feature=feature,
        allowed=allowed,
        reason=reason,
        source=source,
        name=granted.get("name") if granted else None,
        privileges=(
            {p["code"]: p.get("value") for p in granted.get("privileges") or []}
            if granted
            else None
        ),
        metered=metered,
        plan_code=summary.subscription.plan_code if summary.subscription else None,
        used_units=used,
        usage_from=snapshot.from_datetime if snapshot else None,
        usage_to=snapshot.to_datetime if snapshot else None,
        usage_as_of=snapshot.fetched_at if snapshot else None,
        credits_left=account.wallet_credits if account else None,
        credits_balance_cents=account.wallet_balance_cents if account else None,
        credits_currency=account.wallet_currency if account else None,
        status=summary.status,
    )

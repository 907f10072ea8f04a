"""May a tenant use a feature, and how much has it used? Answered from the mirror alone.

A feature is one of the plan's billable metrics (usage-based: what Lago counted so far this
period, from the cached usage) or one of the feature lines Pier keeps on the plan. Pier's mirror
holds no Lago entitlement limits, so `limit` and `remaining` stay empty unless credits apply:
a tenant with a prepaid wallet has its credits left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from portal.billing import usage_cache
from portal.billing.summary import Status, summarize
from portal.models import Tenant, UsageSnapshot

BLOCKING = {Status.none, Status.ended, Status.suspended}


@dataclass(frozen=True)
class Entitlement:
    feature: str
    allowed: bool
    reason: str
    source: str  # billable_metric | plan_feature | none
    plan_code: str | None
    used_units: str | None
    usage_from: datetime | None
    usage_to: datetime | None
    usage_as_of: datetime | None
    credits_left: str | None
    credits_balance_cents: int | None
    credits_currency: str | None
    status: Status


def features_of(summary) -> tuple[list[str], list[str]]:
    plan = summary.plan
    if plan is None:
        return [], []
    metrics = sorted(
        {c.get("billable_metric_code") for c in plan.charges or [] if c.get("billable_metric_code")}
    )
    return metrics, list(plan.features or [])


def entitlement(tenant: Tenant, feature: str) -> Entitlement:
    summary = summarize(tenant)
    metrics, lines = features_of(summary)
    snapshot: UsageSnapshot | None = usage_cache.snapshot(tenant.id)
    if feature in metrics:
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
    used = None
    if source == "billable_metric" and snapshot is not None:
        used = snapshot.units.get(feature, "0")
    account = summary.account
    return Entitlement(
        feature=feature,
        allowed=allowed,
        reason=reason,
        source=source,
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

"""The current period's usage of a tenant's active subscriptions, read from Lago and kept
briefly in Redis, with what each plan includes and its progressive-billing thresholds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from portal.billing.connection import lago_client
from portal.extensions import db
from portal.lago import LagoClient, LagoForbidden, LagoNotFound, ProjectedUsage
from portal.lago import Plan as LagoPlan
from portal.lago.types import Charge, CustomerUsage, NoUsageYet
from portal.models import Plan, SubscriptionMirror, Tenant, utcnow
from portal.usage.cache import remembered

CACHE_SECONDS = 60
NO_PROJECTION_SECONDS = 3600


@dataclass(frozen=True)
class MetricUsage:
    """One billable metric so far this period."""

    code: str
    name: str
    units: Decimal
    amount_cents: int
    included: Decimal | None  # units the plan gives free, when it does
    projected_units: Decimal | None = None  # Lago's projection to the period's end

    @property
    def left(self) -> Decimal | None:
        """Free units not used yet."""
        return None if self.included is None else max(self.included - self.units, Decimal(0))

    @property
    def used_percent(self) -> int | None:
        """How much of the included units is used, 0 to 100."""
        if not self.included:
            return None
        return min(100, int(self.units * 100 / self.included))


@dataclass(frozen=True)
class Threshold:
    """A progressive-billing threshold: Lago invoices when usage reaches it."""

    amount_cents: int
    name: str | None
    recurring: bool
    reached_percent: int


LAGO = "lago"
PIER = "pier"


@dataclass(frozen=True)
class Projection:
    """A usage amount expected at the end of the period, and who worked it out."""

    amount_cents: int
    source: str  # LAGO or PIER


@dataclass(frozen=True)
class SubscriptionUsage:
    """The current period of one subscription, or `started=False` when Lago has none yet."""

    external_id: str
    plan_title: str
    started: bool
    currency: str = ""
    from_datetime: datetime | None = None
    to_datetime: datetime | None = None
    amount_cents: int = 0
    total_amount_cents: int = 0
    metrics: tuple[MetricUsage, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    lago_projection_cents: int | None = None  # Lago's `projected_usage`, where it offers it

    def projection(self, at: datetime) -> Projection | None:
        """The usage amount at the end of the period: Lago's projection when it gave one,
        else Pier's linear estimate."""
        if self.lago_projection_cents is not None:
            return Projection(self.lago_projection_cents, LAGO)
        estimate = self.linear_estimate(at)
        return None if estimate is None else Projection(estimate, PIER)

    def linear_estimate(self, at: datetime) -> int | None:
        """Pier's own projection of the usage amount at the end of the period: the amount so
        far, scaled from the time elapsed at `at` to the whole period. None before an hour of
        the period has passed (too little to go on) or outside it."""
        if self.from_datetime is None or self.to_datetime is None:
            return None
        elapsed = (at - self.from_datetime).total_seconds()
        whole = (self.to_datetime - self.from_datetime).total_seconds() + 1
        if elapsed < 3600 or elapsed > whole:
            return None
        return round(self.amount_cents * whole / elapsed)


@dataclass(frozen=True)
class CurrentUsage:
    """Every active subscription's usage, as Lago gave it at `as_of`."""

    as_of: datetime
    subscriptions: tuple[SubscriptionUsage, ...]


def included_units(charge: Charge) -> Decimal | None:
    """Units a charge gives free: a package's free units, or a first graduated or volume
    range priced at nothing."""
    props = charge.properties or {}
    if charge.charge_model == "package" and props.get("free_units"):
        return Decimal(str(props["free_units"]))
    ranges = props.get("graduated_ranges") or props.get("volume_ranges") or []
    if ranges:
        first = ranges[0]
        free = all(
            Decimal(str(first.get(key) or 0)) == 0 for key in ("per_unit_amount", "flat_amount")
        )
        if free and first.get("to_value") is not None:
            return Decimal(str(first["to_value"]))
    return None


def _thresholds(plan: LagoPlan | None, amount_cents: int) -> tuple[Threshold, ...]:
    found = []
    for item in (plan.raw.get("usage_thresholds") if plan else None) or []:
        cents = int(item.get("amount_cents") or 0)
        if cents <= 0:
            continue
        found.append(
            Threshold(
                amount_cents=cents,
                name=item.get("threshold_display_name"),
                recurring=bool(item.get("recurring")),
                reached_percent=min(100, amount_cents * 100 // cents),
            )
        )
    return tuple(sorted(found, key=lambda t: (t.recurring, t.amount_cents)))


def describe(
    external_id: str,
    plan_title: str,
    usage: CustomerUsage | None,
    plan: LagoPlan | None,
    projected: ProjectedUsage | None = None,
) -> SubscriptionUsage:
    """One subscription's usage in the customer's terms."""
    if usage is None:
        return SubscriptionUsage(external_id=external_id, plan_title=plan_title, started=False)
    charges = {c.billable_metric_code: c for c in (plan.charges if plan else ())}
    metrics = tuple(
        MetricUsage(
            code=item.billable_metric_code,
            name=item.invoice_display_name or item.billable_metric_name,
            units=item.units,
            amount_cents=item.amount_cents,
            included=(
                included_units(charges[item.billable_metric_code])
                if item.billable_metric_code in charges
                else None
            ),
            projected_units=(
                projected.projected_units.get(item.billable_metric_code) if projected else None
            ),
        )
        for item in usage.charges_usage
    )
    return SubscriptionUsage(
        external_id=external_id,
        plan_title=plan_title,
        started=True,
        currency=usage.currency,
        from_datetime=usage.from_datetime,
        to_datetime=usage.to_datetime,
        amount_cents=usage.amount_cents,
        total_amount_cents=usage.total_amount_cents,
        metrics=metrics,
        thresholds=_thresholds(plan, usage.amount_cents),
        lago_projection_cents=projected.projected_amount_cents if projected else None,
    )


def active_subscriptions(tenant: Tenant) -> list[SubscriptionMirror]:
    """The tenant's active subscriptions in the mirror, oldest first."""
    return list(
        db.session.scalars(
            sa.select(SubscriptionMirror)
            .where(SubscriptionMirror.tenant_id == tenant.id, SubscriptionMirror.status == "active")
            .order_by(SubscriptionMirror.started_at, SubscriptionMirror.id)
        )
    )


def _plan_title(code: str) -> str:
    plan = db.session.scalar(sa.select(Plan).where(Plan.code == code))
    return plan.title if plan else code


def _projected(client: LagoClient, tenant: Tenant, external_id: str) -> dict | None:
    """Lago's projection (raw JSON), or None where this Lago does not offer it (remembered
    for `NO_PROJECTION_SECONDS`, so usage reads do not ask again each time)."""
    if remembered(("no-projection",), NO_PROJECTION_SECONDS, lambda: False):
        return None
    try:
        found = client.get_projected_usage(tenant.external_id, external_id)
    except (LagoForbidden, LagoNotFound):
        remembered(("no-projection",), NO_PROJECTION_SECONDS, lambda: True, fresh=True)
        return None
    return None if isinstance(found, NoUsageYet) else found.raw


def read_from_lago(tenant: Tenant) -> dict:
    """What Lago says now: per active subscription its current usage, its projection where
    Lago offers one, and its plan (raw JSON)."""
    client = lago_client()
    items = []
    for subscription in active_subscriptions(tenant):
        usage = client.get_current_usage(tenant.customer_external_id, subscription.external_id)
        started = not isinstance(usage, NoUsageYet)
        plan = client.get_plan(subscription.plan_code)
        items.append(
            {
                "external_id": subscription.external_id,
                "plan_title": _plan_title(subscription.plan_code),
                "usage": usage.raw if started else None,
                "projected": _projected(client, tenant, subscription.external_id)
                if started
                else None,
                "plan": plan.raw,
            }
        )
    return {"as_of": utcnow().isoformat(), "items": items}


def snapshot(tenant: Tenant, *, fresh: bool = False) -> dict:
    """Lago's answer, from the cache unless `fresh` or older than `CACHE_SECONDS`."""
    return remembered(
        ("current", str(tenant.id)), CACHE_SECONDS, lambda: read_from_lago(tenant), fresh=fresh
    )


def current_usage(tenant: Tenant, *, fresh: bool = False) -> CurrentUsage:
    """The tenant's usage this period, at most `CACHE_SECONDS` old unless `fresh`."""
    found = snapshot(tenant, fresh=fresh)
    return CurrentUsage(
        as_of=datetime.fromisoformat(found["as_of"]),
        subscriptions=tuple(
            describe(
                item["external_id"],
                item["plan_title"],
                CustomerUsage.from_api(item["usage"]) if item["usage"] is not None else None,
                LagoPlan.from_api(item["plan"]) if item["plan"] else None,
                ProjectedUsage.from_api(item["projected"]) if item.get("projected") else None,
            )
            for item in found["items"]
        ),
    )

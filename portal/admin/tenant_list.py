"""The admin's tenant list: plan, status, MRR and dunning state read from Pier's mirror.

Filters run in SQL (so a page or an export costs the same however many tenants there are);
each page's rows then take their current subscription and plan in two batched queries.
A tenant's status here is its current subscription's: `trialing` or `active` (an active
subscription in or past its trial), `pending` (one starting later), `ended` (only ended ones
left) or `none`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import defer

from portal.extensions import db
from portal.models import (
    BillingAccount,
    DunningState,
    Plan,
    SubscriptionMirror,
    SyncState,
    Tenant,
    utcnow,
)

STATUSES = ("active", "trialing", "pending", "ended", "none")
PAGE_SIZE = 50
BATCH = 500
# How many of an interval fit in a month, to turn a plan's price into monthly revenue.
PER_MONTH = {
    "weekly": Decimal(52) / 12,
    "monthly": Decimal(1),
    "quarterly": Decimal(1) / 3,
    "semiannual": Decimal(1) / 6,
    "yearly": Decimal(1) / 12,
}
LIVE = ("active", "pending")


def monthly_cents(amount_cents: int, interval: str) -> int:
    """A plan's base price per month, in whole minor units (half up)."""
    factor = PER_MONTH.get(interval, Decimal(1))
    return int((Decimal(amount_cents) * factor).to_integral_value(ROUND_HALF_UP))


@dataclass(frozen=True)
class Filters:
    """What the admin narrowed the list to; every value comes from (and goes back to) the URL."""

    status: str = ""
    plan: str = ""
    dunning: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> Filters:
        """Read the query string; a value the list does not know is dropped, not an error."""
        status = args.get("status", "").strip()
        dunning = args.get("dunning", "").strip()
        return cls(
            status=status if status in STATUSES else "",
            plan=args.get("plan", "").strip()[:255],
            dunning=dunning if dunning in DunningState.__members__ else "",
            q=args.get("q", "").strip()[:120],
        )

    def as_args(self) -> dict[str, str]:
        """The filters that are set, for links (pages, export) that keep them."""
        values = {"status": self.status, "plan": self.plan, "dunning": self.dunning, "q": self.q}
        return {key: value for key, value in values.items() if value}


@dataclass(frozen=True)
class TenantRow:
    """One line of the list."""

    tenant: Tenant
    account: BillingAccount | None
    subscription: SubscriptionMirror | None
    plan: Plan | None
    status: str

    @property
    def dunning(self) -> DunningState:
        return self.account.dunning_state if self.account else DunningState.ok

    @property
    def plan_code(self) -> str | None:
        return self.subscription.plan_code if self.subscription else None

    @property
    def plan_name(self) -> str | None:
        if self.plan is not None:
            return self.plan.display_name or self.plan.name
        return self.subscription.name if self.subscription else None

    @property
    def mrr_cents(self) -> int | None:
        """The plan's base price per month while the subscription is active and out of trial."""
        if self.status != "active" or self.plan is None:
            return None
        return monthly_cents(self.plan.amount_cents, self.plan.interval)

    @property
    def currency(self) -> str | None:
        return self.plan.currency if self.plan is not None else None


def _has(*conditions: sa.ColumnElement[bool]) -> sa.Exists:
    return sa.exists().where(SubscriptionMirror.tenant_id == Tenant.id, *conditions)


def _in_trial(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        SubscriptionMirror.trial_ended_at.is_(None), SubscriptionMirror.trial_ends_at > now
    )


def _where(filters: Filters, now: datetime) -> list[sa.ColumnElement[bool]]:
    active = SubscriptionMirror.status == "active"
    pending = SubscriptionMirror.status == "pending"
    live = SubscriptionMirror.status.in_(LIVE)
    status = {
        "trialing": _has(active, _in_trial(now)),
        "active": sa.and_(_has(active), ~_has(active, _in_trial(now))),
        "pending": sa.and_(~_has(active), _has(pending)),
        "ended": sa.and_(~_has(live), _has()),
        "none": ~_has(),
    }
    where: list[sa.ColumnElement[bool]] = []
    if filters.status:
        where.append(status[filters.status])
    if filters.plan:
        code = SubscriptionMirror.plan_code == filters.plan
        where.append(sa.or_(_has(active, code), sa.and_(~_has(active), _has(pending, code))))
    if filters.dunning == DunningState.ok:
        where.append(
            sa.or_(BillingAccount.id.is_(None), BillingAccount.dunning_state == DunningState.ok)
        )
    elif filters.dunning:
        where.append(BillingAccount.dunning_state == DunningState(filters.dunning))
    if filters.q:
        needle = filters.q.lower()
        where.append(
            sa.or_(
                sa.func.lower(Tenant.name).contains(needle, autoescape=True),
                sa.func.lower(Tenant.external_id).contains(needle, autoescape=True),
                sa.func.lower(Tenant.legacy_external_id).contains(needle, autoescape=True),
            )
        )
    return where


def filtered_ids(filters: Filters, now: datetime | None = None) -> sa.Select:
    """The ids of the tenants that match, failed syncs first, then by name."""
    order = sa.case({SyncState.failed: 0, SyncState.pending: 1}, value=Tenant.sync_state, else_=2)
    return (
        sa.select(Tenant.id)
        .outerjoin(BillingAccount, BillingAccount.tenant_id == Tenant.id)
        .where(*_where(filters, now or utcnow()))
        .order_by(order, Tenant.name, Tenant.id)
    )


def _current(subscriptions: list[SubscriptionMirror]) -> SubscriptionMirror | None:
    """The live subscription the billing home shows: the latest active, else a pending one."""
    active = [s for s in subscriptions if s.status == "active"]
    if active:
        return max(active, key=lambda s: s.started_at or s.created_at)
    return subscriptions[0] if subscriptions else None


def _status(current: SubscriptionMirror | None, had_any: bool, now: datetime) -> str:
    if current is None:
        return "ended" if had_any else "none"
    if current.status == "pending":
        return "pending"
    trialing = (
        current.trial_ended_at is None and current.trial_ends_at and current.trial_ends_at > now
    )
    return "trialing" if trialing else "active"


def rows_for(tenant_ids: list[int], now: datetime | None = None) -> list[TenantRow]:
    """The rows of these tenants, in the order given."""
    if not tenant_ids:
        return []
    now = now or utcnow()
    tenants = {
        t.id: t
        for t in db.session.scalars(
            sa.select(Tenant)
            .options(defer(Tenant.custom_metadata))  # the list never shows it; decoding costs
            .where(Tenant.id.in_(tenant_ids))
        )
    }
    accounts = {
        a.tenant_id: a
        for a in db.session.scalars(
            sa.select(BillingAccount).where(BillingAccount.tenant_id.in_(tenant_ids))
        )
    }
    live: dict[int, list[SubscriptionMirror]] = {}
    for row in db.session.scalars(
        sa.select(SubscriptionMirror)
        .where(SubscriptionMirror.tenant_id.in_(tenant_ids), SubscriptionMirror.status.in_(LIVE))
        .order_by(SubscriptionMirror.id)
    ):
        live.setdefault(row.tenant_id, []).append(row)
    had_any = set(
        db.session.scalars(
            sa.select(SubscriptionMirror.tenant_id)
            .where(SubscriptionMirror.tenant_id.in_(tenant_ids))
            .distinct()
        )
    )
    current = {tenant_id: _current(rows) for tenant_id, rows in live.items()}
    codes = {s.plan_code for s in current.values() if s is not None}
    plans = (
        {p.code: p for p in db.session.scalars(sa.select(Plan).where(Plan.code.in_(codes)))}
        if codes
        else {}
    )
    rows = []
    for tenant_id in tenant_ids:
        subscription = current.get(tenant_id)
        rows.append(
            TenantRow(
                tenant=tenants[tenant_id],
                account=accounts.get(tenant_id),
                subscription=subscription,
                plan=plans.get(subscription.plan_code) if subscription else None,
                status=_status(subscription, tenant_id in had_any, now),
            )
        )
    return rows


@dataclass(frozen=True)
class TenantPage:
    """One page of the list and where it sits."""

    rows: list[TenantRow]
    page: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def tenant_page(filters: Filters, page: int = 1) -> TenantPage:
    """One page of the tenants that match the filters (a page past the end shows the last)."""
    per_page = PAGE_SIZE
    now = utcnow()
    ids = filtered_ids(filters, now)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ids.order_by(None).subquery()))
    pages = max(1, -(-(total or 0) // per_page))
    page = min(max(page, 1), pages)
    chosen = list(db.session.scalars(ids.limit(per_page).offset((page - 1) * per_page)))
    return TenantPage(rows_for(chosen, now), page, pages, total or 0)


def all_rows(filters: Filters) -> Iterator[TenantRow]:
    """Every matching row, read in batches (for the export)."""
    now = utcnow()
    ids = list(db.session.scalars(filtered_ids(filters, now)))
    for start in range(0, len(ids), BATCH):
        yield from rows_for(ids[start : start + BATCH], now)  # the session holds rows weakly


def plan_choices() -> Iterable[tuple[str, str]]:
    """(code, name) of the plans tenants can be on, for the plan filter."""
    return db.session.execute(
        sa.select(Plan.code, sa.func.coalesce(Plan.display_name, Plan.name)).order_by(Plan.name)
    ).all()

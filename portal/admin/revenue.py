"""Revenue figures for the tenant list: MRR, new, churned and overdue this month.

MRR (`GET /analytics/mrr`, a premium feature) and the overdue balance
(`GET /analytics/overdue_balance`) come from Lago's analytics when the instance serves them;
otherwise, and for new and churned (which Lago's API has no analytics for), Pier computes them
from its mirror and says so. Months are calendar months in UTC, as Lago's analytics are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from portal.admin.tenant_list import LIVE, monthly_cents
from portal.billing import outage
from portal.billing.analytics import current_mrr
from portal.billing.connection import NotConnected, lago_client
from portal.extensions import db
from portal.lago import LagoError, LagoFeatureUnavailable
from portal.models import InvoiceMirror, Plan, SubscriptionMirror, utcnow

LAGO = "Lago's analytics"
PIER = "computed by Pier"


@dataclass(frozen=True)
class Figure:
    """Amounts per currency (and how many things they add up), with where they came from."""

    amounts: dict[str, int]
    count: int | None
    source: str
    note: str | None = None


@dataclass(frozen=True)
class Revenue:
    """The four figures of the revenue card."""

    month_start: datetime
    mrr: Figure
    new: Figure
    churned: Figure
    overdue: Figure


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def computed_mrr(now: datetime | None = None) -> Figure:
    """The monthly base price of each tenant's current active subscription out of its trial
    (the one the tenant list shows: the latest started), per currency."""
    now = now or utcnow()
    latest: dict[int, sa.Row] = {}
    for row in db.session.execute(
        sa.select(
            SubscriptionMirror.tenant_id,
            SubscriptionMirror.plan_code,
            SubscriptionMirror.trial_ends_at,
            SubscriptionMirror.trial_ended_at,
            sa.func.coalesce(SubscriptionMirror.started_at, SubscriptionMirror.created_at).label(
                "began"
            ),
        )
        .where(SubscriptionMirror.status == "active")
        .order_by(SubscriptionMirror.id)
    ):
        best = latest.get(row.tenant_id)
        if best is None or row.began > best.began:
            latest[row.tenant_id] = row
    plans = _plans()
    amounts: Counter[str] = Counter()
    count = 0
    for row in latest.values():
        plan = plans.get(row.plan_code)
        trialing = row.trial_ended_at is None and row.trial_ends_at and row.trial_ends_at > now
        if plan is not None and not trialing:
            amounts[plan.currency] += monthly_cents(plan.amount_cents, plan.interval)
            count += 1
    return Figure(dict(amounts), count, PIER)


def _lago_or_pier(read_lago: Callable[[], Figure], compute: Callable[[], Figure]) -> Figure:
    """Lago's figure when its analytics answer, else Pier's, with the reason."""
    try:
        return read_lago()
    except NotConnected:
        note = "Lago is not connected."
    except LagoFeatureUnavailable:
        note = "Lago's revenue analytics are a premium feature of this Lago."
    except LagoError as exc:
        note = f"Lago's analytics did not answer: {outage.sentence(exc)}"
    computed = compute()
    return Figure(computed.amounts, computed.count, PIER, note)


def _lago_mrr() -> Figure:
    mrr = current_mrr()
    return Figure({mrr.currency: mrr.amount_cents}, None, LAGO)


def mrr_figure() -> Figure:
    """Lago's MRR (`GET /analytics/mrr`, premium), else the mirror's."""
    return _lago_or_pier(_lago_mrr, computed_mrr)


def _plans() -> dict[str, Plan]:
    return {p.code: p for p in db.session.scalars(sa.select(Plan))}


def _monthly(rows: list[SubscriptionMirror]) -> tuple[dict[str, int], int]:
    plans = _plans()
    amounts: Counter[str] = Counter()
    for row in rows:
        plan = plans.get(row.plan_code)
        if plan is not None:
            amounts[plan.currency] += monthly_cents(plan.amount_cents, plan.interval)
    return dict(amounts), len(rows)


def new_figure(since: datetime) -> Figure:
    """Tenants whose first subscription started this month, and the monthly price they added."""
    first = (
        sa.select(
            SubscriptionMirror.tenant_id,
            sa.func.min(SubscriptionMirror.started_at).label("first_start"),
        )
        .group_by(SubscriptionMirror.tenant_id)
        .subquery()
    )
    rows = list(
        db.session.scalars(
            sa.select(SubscriptionMirror)
            .join(first, first.c.tenant_id == SubscriptionMirror.tenant_id)
            .where(
                first.c.first_start >= since,
                SubscriptionMirror.started_at == first.c.first_start,
            )
            .order_by(SubscriptionMirror.id)
        )
    )
    unique = list({row.tenant_id: row for row in rows}.values())
    amounts, count = _monthly(unique)
    return Figure(amounts, count, PIER)


def churned_figure(since: datetime) -> Figure:
    """Tenants left with no live subscription after one ended this month, and what it was worth."""
    ended = aliased(SubscriptionMirror, name="ended")
    live = sa.exists().where(
        SubscriptionMirror.tenant_id == ended.tenant_id, SubscriptionMirror.status.in_(LIVE)
    )
    rows = list(
        db.session.scalars(
            sa.select(ended)
            .where(ended.terminated_at >= since, ~live)
            .order_by(ended.terminated_at.desc(), ended.id.desc())
        )
    )
    latest = list({row.tenant_id: row for row in reversed(rows)}.values())
    amounts, count = _monthly(latest)
    return Figure(amounts, count, PIER)


def computed_overdue() -> Figure:
    """What overdue invoices in the mirror still owe, per currency."""
    due = sa.func.coalesce(InvoiceMirror.total_due_amount_cents, InvoiceMirror.total_amount_cents)
    rows = db.session.execute(
        sa.select(InvoiceMirror.currency, sa.func.sum(due), sa.func.count())
        .where(InvoiceMirror.payment_overdue.is_(True))
        .group_by(InvoiceMirror.currency)
        .order_by(InvoiceMirror.currency)
    ).all()
    amounts = {currency: int(total or 0) for currency, total, _ in rows}
    return Figure(amounts, sum(count for _, _, count in rows), PIER)


def _lago_overdue() -> Figure:
    amounts: Counter[str] = Counter()
    invoices: set[str] = set()
    for balance in lago_client().get_overdue_balances():
        amounts[balance.currency or "USD"] += balance.amount_cents
        invoices.update(balance.lago_invoice_ids)
    return Figure(dict(amounts), len(invoices), LAGO)


def overdue_figure() -> Figure:
    """Lago's overdue balance over every month (`GET /analytics/overdue_balance`), else the
    mirror's."""
    return _lago_or_pier(_lago_overdue, computed_overdue)


def revenue(now: datetime | None = None) -> Revenue:
    """The card's figures (two Lago calls at most: MRR and overdue balance)."""
    since = month_start(now or utcnow())
    return Revenue(
        month_start=since,
        mrr=mrr_figure(),
        new=new_figure(since),
        churned=churned_figure(since),
        overdue=overdue_figure(),
    )

"""What a customer may switch to, what the switch costs, and the operations that make it.

A plan family is Pier's catalogue plans sharing a display name (and description) with
different billing intervals: "Pro" monthly and "Pro" yearly are one plan billed two ways.
None of these functions commit.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from redis.exceptions import RedisError

from portal import audit
from portal.billing import proration, reconcile
from portal.billing.connection import lago_client
from portal.billing.customers import subscription_external_id
from portal.billing.summary import BillingSummary, current_subscription, pending_downgrade
from portal.extensions import db, redis_connection, redis_key
from portal.lago import LagoError, LagoPreviewUnavailable
from portal.models import Operation, Plan, SubscriptionMirror, Tenant, utcnow
from portal.operations import services as operations
from portal.operations.services import confirms
from portal.subscription.services import NothingToChange

PREVIEW_REFUSAL_SECONDS = 600  # how long a Lago's "no previews" is taken as its answer
INTERVAL_ORDER = ("weekly", "monthly", "quarterly", "semiannual", "yearly")
CHARGE_MODELS = {
    "standard": "per unit",
    "graduated": "in tiers",
    "graduated_percentage": "a share, in tiers",
    "volume": "by volume",
    "package": "per package",
    "percentage": "a share of each transaction",
    "dynamic": "at the price of each event",
}


# -- The catalogue a customer sees ---------------------------------------------------------------


@dataclass
class Family:
    """One plan offered in one or more billing intervals."""

    title: str
    description: str | None
    variants: dict[str, Plan] = field(default_factory=dict)
    highlighted: bool = False

    def pick(self, interval: str) -> Plan:
        """The variant billed per `interval`, else the shortest interval on offer."""
        if interval in self.variants:
            return self.variants[interval]
        return self.variants[min(self.variants, key=INTERVAL_ORDER.index)]


def offered(summary: BillingSummary) -> list[Plan]:
    """The plans this customer may move to: the current plan's allowed switches, or every
    visible plan when there is no live subscription. Hidden plans never."""
    current = summary.subscription
    if current is not None and current.status == "active":
        if summary.plan is None:
            return []
        return [plan for plan in summary.plan.switch_targets if plan.visible]
    return list(
        db.session.scalars(
            sa.select(Plan).where(Plan.visible.is_(True)).order_by(Plan.position, Plan.id)
        )
    )


def families(plans: list[Plan]) -> list[Family]:
    """Plans grouped by display name, in catalogue order."""
    found: dict[str, Family] = {}
    for plan in plans:
        family = found.setdefault(plan.title, Family(plan.title, plan.description))
        family.variants.setdefault(plan.interval, plan)
        family.highlighted = family.highlighted or plan.highlighted
    return list(found.values())


def has_toggle(groups: list[Family]) -> bool:
    """True when some plan is offered both monthly and yearly."""
    return any({"monthly", "yearly"} <= set(g.variants) for g in groups)


def charge_words(plan: Plan) -> list[str]:
    """The plan's usage charges in words: "API calls, in tiers"."""
    words = []
    for charge in plan.charges or []:
        name = charge.get("invoice_display_name") or charge.get("billable_metric_code") or "Usage"
        how = CHARGE_MODELS.get(charge.get("charge_model") or "", "by usage")
        when = ", billed as used" if charge.get("pay_in_advance") else ""
        words.append(f"{name}, {how}{when}")
    return words


def allowed_target(summary: BillingSummary, code: str) -> Plan | None:
    """The plan `code` when this customer may move to it, else None."""
    return next((plan for plan in offered(summary) if plan.code == code), None)


# -- Terms for the estimate -----------------------------------------------------------------------


def terms(plan: Plan) -> proration.Terms:
    return proration.Terms(
        code=plan.code,
        title=plan.title,
        interval=plan.interval,
        amount_cents=plan.amount_cents,
        currency=plan.currency,
        pay_in_advance=plan.pay_in_advance,
        trial_days=plan.trial_period_days,
        has_usage=bool(plan.charges),
    )


def first_start(tenant_id: int, external_id: str) -> datetime | None:
    """The first start of a subscription id: Lago counts the trial from it, once."""
    return db.session.scalar(
        sa.select(sa.func.min(SubscriptionMirror.started_at)).where(
            SubscriptionMirror.tenant_id == tenant_id,
            SubscriptionMirror.external_id == external_id,
        )
    )


def start_external_id(tenant: Tenant) -> str:
    """The id a new subscription gets: the tenant's earlier one if any, else the stable one."""
    earlier = db.session.scalar(
        sa.select(SubscriptionMirror.external_id)
        .where(SubscriptionMirror.tenant_id == tenant.id)
        .order_by(SubscriptionMirror.id.desc())
        .limit(1)
    )
    return earlier or subscription_external_id(tenant)


# -- The preview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What the customer reads before confirming."""

    target: Plan
    kind: str  # upgrade | downgrade | start
    source: str  # lago | estimate
    currency: str
    applies_on: date
    lines: tuple[proration.Line, ...]
    due_now_cents: int
    next_invoice_on: date
    next_invoice_cents: int
    plus_usage_now: bool
    plus_usage_next: bool
    trial_until: date | None
    current_yearly_cents: int | None
    new_yearly_cents: int
    carried_credit_cents: int = 0
    note: str | None = None


def preview(tenant: Tenant, summary: BillingSummary, target: Plan, now: datetime) -> Preview:
    """Lago's own preview when this Lago offers one, else Pier's estimate by Lago's rules."""
    subscription = summary.subscription
    if subscription is not None and subscription.status == "active" and summary.plan is not None:
        running = proration.Running(
            terms=terms(summary.plan),
            billing_time=subscription.billing_time or "calendar",
            subscription_at=subscription.subscription_at or subscription.started_at or now,
            first_started_at=first_start(tenant.id, subscription.external_id)
            or subscription.started_at
            or now,
            zone=summary.zone,
        )
        estimate = proration.estimate_change(running, terms(target), now)
        ask = {"subscription_ids": [subscription.external_id], "new_plan_code": target.code}
    else:
        external_id = start_external_id(tenant)
        estimate = proration.estimate_start(
            terms(target), now, summary.zone, first_start(tenant.id, external_id)
        )
        ask = {"plan_code": target.code}
    shown = _from_estimate(target, estimate)
    scope = "subscriptions" if "subscription_ids" in ask else "proposals"
    if _preview_refused(scope):
        return shown
    try:
        lago = lago_client().preview_invoice(tenant.customer_external_id, **ask)
    except LagoPreviewUnavailable as refusal:
        _remember_refusal(refusal)
        return shown
    except LagoError:
        return _with_note(shown, "The billing system did not answer, so this is our estimate.")
    return _from_lago(shown, lago, summary.zone)


def _refusal_key(scope: str) -> str:
    return redis_key("lago", "preview-refused", scope)


def _preview_refused(scope: str) -> bool:
    """Whether this Lago refused to preview such a change a short while ago."""
    try:
        return bool(redis_connection().exists(_refusal_key(scope)))
    except RedisError:
        return False


def _remember_refusal(refusal: LagoPreviewUnavailable) -> None:
    """A free Lago (403) previews nothing; without the preview integration (405) it still
    previews new subscriptions. Either answer holds for a while: ask again after that."""
    scopes = ("subscriptions",) if refusal.status == 405 else ("subscriptions", "proposals")
    with suppress(RedisError):
        pipe = redis_connection().pipeline()
        for scope in scopes:
            pipe.setex(_refusal_key(scope), PREVIEW_REFUSAL_SECONDS, refusal.code or "refused")
        pipe.execute()


def _from_estimate(target: Plan, estimate: proration.Estimate) -> Preview:
    return Preview(
        target=target,
        kind=estimate.kind,
        source="estimate",
        currency=estimate.currency,
        applies_on=estimate.applies_on,
        lines=estimate.lines,
        due_now_cents=estimate.due_now_cents,
        next_invoice_on=estimate.next_invoice_on,
        next_invoice_cents=estimate.next_invoice_cents,
        plus_usage_now=estimate.plus_usage_now,
        plus_usage_next=estimate.plus_usage_next,
        trial_until=estimate.trial_until,
        current_yearly_cents=estimate.current_yearly_cents,
        new_yearly_cents=estimate.new_yearly_cents,
        carried_credit_cents=estimate.carried_credit_cents,
    )


def _with_note(shown: Preview, note: str) -> Preview:
    return Preview(**(shown.__dict__ | {"note": note}))


def _from_lago(shown: Preview, lago, zone: str) -> Preview:
    """Lago's invoice: due now for an upgrade or a start billed today; else the next invoice."""
    lines = tuple(
        proration.Line(fee.item_name or fee.item_code, fee.amount_cents)
        for fee in lago.fees
        if fee.amount_cents
    ) + tuple(
        proration.Line("Credit for unused time", -credit.amount_cents)
        for credit in lago.credits
        if credit.amount_cents
    )
    values = dict(shown.__dict__, source="lago", currency=lago.currency or shown.currency)
    today = shown.applies_on if shown.kind != "downgrade" else None
    if lago.issuing_date is not None and lago.issuing_date == today:
        values.update(lines=lines, due_now_cents=lago.total_amount_cents)
    elif lago.issuing_date is not None:
        values.update(
            lines=(),
            due_now_cents=0,
            next_invoice_on=lago.issuing_date,
            next_invoice_cents=lago.total_amount_cents,
        )
    return Preview(**values)


# -- Operations ----------------------------------------------------------------------------------


def plan_change(
    tenant: Tenant,
    summary: BillingSummary,
    user_id: int | None,
    key: str,
    target: Plan,
    *,
    clear_cancellation: bool,
) -> Operation:
    """Record a plan change: an upgrade now, or a downgrade at the period's end."""
    current = summary.subscription
    if current is None or current.status != "active" or summary.plan is None:
        raise NothingToChange("There is no active subscription to change.")
    if target.code == current.plan_code:
        raise NothingToChange(f"You are already on {target.title}.")
    pending = pending_downgrade(current)
    if pending is not None and pending.plan_code == target.code:
        raise NothingToChange(f"The switch to {target.title} is already scheduled.")
    upgrade = proration.is_upgrade(terms(summary.plan), terms(target))
    if not upgrade and current.ending_at is not None:
        raise NothingToChange(
            "Your subscription is set to end before a cheaper plan could start. "
            "Reactivate it first, then choose the plan."
        )
    clear = bool(upgrade and clear_cancellation and current.ending_at is not None)
    params = {
        "external_id": current.external_id,
        "plan_code": target.code,
        "from_plan": current.plan_code,
        "mode": "upgrade" if upgrade else "downgrade",
        "clear_ending": clear,
    }
    if upgrade:
        done = f"You are now on {target.title}."
    else:
        done = f"{target.title} is scheduled: it starts when your current period ends."
    expected = dict(params, done=done)
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind="change_plan",
        key=key,
        params=params,
        expected=expected,
    )


def plan_start(
    tenant: Tenant, summary: BillingSummary, user_id: int | None, key: str, target: Plan
) -> Operation:
    """Record a new subscription for a tenant without a live one."""
    if current_subscription(tenant.id) is not None:
        raise NothingToChange("You already have a subscription: change its plan instead.")
    params = {"external_id": start_external_id(tenant), "plan_code": target.code}
    expected = dict(params, done=f"Your subscription to {target.title} has started.")
    return operations.record(
        tenant_id=tenant.id,
        user_id=user_id,
        kind="start_subscription",
        key=key,
        params=params,
        expected=expected,
    )


def send(tenant: Tenant, operation: Operation) -> None:
    """POST /subscriptions with the same id and the new plan, audit, and pull the result."""
    params = operation.params
    payload = {
        "external_customer_id": tenant.customer_external_id,
        "external_id": params["external_id"],
        "plan_code": params["plan_code"],
    }
    client = lago_client()
    client.create_subscription(payload)
    if params.get("clear_ending"):
        # The new subscription inherits the scheduled end; clearing it is a second call.
        try:
            client.update_subscription(params["external_id"], {"ending_at": None})
        except LagoError:
            operation.message = (
                "You are now on the new plan, but its end date is still set: "
                "use Reactivate on the billing home to clear it."
            )
    action = (
        "subscription.start"
        if operation.kind == "start_subscription"
        else "subscription.change_plan"
    )
    audit.record(action, tenant_id=tenant.id, target=tenant, after=params)
    reconcile.pull_subscriptions(tenant, client, utcnow())


def _rows(operation: Operation, status: str) -> list[SubscriptionMirror]:
    return list(
        db.session.scalars(
            sa.select(SubscriptionMirror)
            .filter_by(
                tenant_id=operation.tenant_id,
                external_id=operation.expected["external_id"],
                plan_code=operation.expected["plan_code"],
                status=status,
            )
            .execution_options(populate_existing=True)
        )
    )


@confirms("change_plan")
def _changed(operation: Operation) -> bool:
    if operation.expected["mode"] == "downgrade":
        return bool(_rows(operation, "pending"))
    active = _rows(operation, "active")
    if operation.expected.get("clear_ending"):
        return any(row.ending_at is None for row in active)
    return bool(active)


@confirms("start_subscription")
def _started(operation: Operation) -> bool:
    return bool(_rows(operation, "active") or _rows(operation, "pending"))
